"""The model's mechanisms (MODEL.md §7): accounting, bounds, direction, monotonicity, reproducibility."""

import copy
import itertools
import pickle
import warnings

import numpy as np
import pytest

from sim.model.agents import BuyerRegion, SupplierCountry, USProcessor
from sim.model.model import SupplyChainModel
from sim.results.recorder import Recorder
from sim.scenario.load import load_scenario

from .helpers import SCENARIOS, recorded, run, series

NO_FUNDERS = "policies.funders_respond=false"
ALL = "events[0].destinations=[all]"  # China's ban to every destination: the US-only ban is largely diverted
KITCHEN_SINK = """\
name: kitchen_sink
extends: baseline
horizon_months: 48
events:
  - {type: export_restriction, exporter: China, minerals: [antimony, gallium], kind: ban, start: 2026-02,
     leakage: 0.2, leak_delay_months: 2}
  - {type: export_restriction, exporter: China, minerals: [graphite], kind: licensing, start: 2026-03,
     licence_delay_months: 3, refused_share: 0.4, leakage: 0.1, months: 18}
  - {type: export_restriction, exporter: Russia, minerals: [titanium, magnesium], kind: quota, quota_share: 0.5,
     start: 2026-04}
  - {type: supply_disruption, country: Tajikistan, minerals: [antimony], capacity_loss: 0.5, start: 2026-06}
  - {type: supply_disruption, country: China, minerals: [aluminium], capacity_loss: 0.7, start: 2026-04, months: 12}
  - {type: supply_disruption, country: China, minerals: [germanium], stages: [host], hosts: [zinc],
     capacity_loss: 0.9, start: 2026-05}
  - {type: export_restriction, exporter: Burma, minerals: [antimony], destinations: [all], kind: quota,
     quota_share: 0.5, start: 2026-02, stages: [mine]}
  - {type: supply_disruption, country: Tajikistan, minerals: [antimony], capacity_loss: 0.4, start: 2026-03,
     stages: [mine]}
  - {type: funding_programme, name: recovery, instrument: loan, builds: recovery, minerals: [gallium],
     annual_budget_usd: 5.0e7, start: 2026-01}
  - {type: power_price_shock, multiplier: 2.0, start: 2026-05, months: 9}
  - {type: demand_shock, minerals: [copper, aluminium], multiplier: 1.1, extra_t_per_yr: 1000, start: 2027-01}
  - {type: allied_supply, country: Malaysia, mineral: ndpr, t_per_yr: 2000, start: 2027-01}
  - {type: funding_programme, name: extra_grants, instrument: grant, annual_budget_usd: 3.0e8, start: 2026-01}
  - {type: stockpile_release, minerals: [antimony], t_per_yr: 600, start: 2026-03, months: 6}
world:
  minerals: {antimony: {stockpile_t: 1500}}
"""


@pytest.fixture(scope="module")
def results():
    out = {name: run(name, months=60) for name in ("baseline", "china_ban", "power_price_spike")}
    out["china_ban_all"] = run("china_ban", ALL, months=60)
    return out


@pytest.fixture(scope="module")
def kitchen_sink(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ks")
    (folder / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    (folder / "ks.yaml").write_text(KITCHEN_SINK)
    from sim.api import simulate

    return simulate(load_scenario(folder / "ks.yaml"))


def all_results(results, kitchen_sink):
    return [*results.values(), kitchen_sink]


def test_accounting_balances_every_month_and_mineral_for_us_and_world(results, kitchen_sink):
    for result in all_results(results, kitchen_sink):
        scale = recorded(result, "us_demand") + recorded(result, "world_output")
        for residual in ("us_balance_residual", "world_balance_residual"):
            worst = np.abs(recorded(result, residual) / scale).max()
            assert worst < 1e-9, (result.name, residual, worst)


def test_no_negative_stock_flow_price_or_capacity_and_shortfall_within_demand(results, kitchen_sink):
    for result in all_results(results, kitchen_sink):
        for name in (
            "us_inventory",
            "stockpile",
            "producer_stock",
            "in_transit",
            "imports",
            "domestic_output",
            "domestic_capacity",
            "capacity_gap",
            "world_output",
            "row_delivered",
            "stockpile_release",
        ):
            assert (recorded(result, name) >= -1e-9).all(), (result.name, name)
        for name in ("price_outside_ratio", "price_inside_ratio"):
            ratio = recorded(result, name)
            market = result.model.world.market
            assert (ratio >= market.price_floor_ratio - 1e-12).all() and (ratio <= market.price_cap_ratio + 1e-12).all()
        shortfall, demand = recorded(result, "shortfall"), recorded(result, "us_demand")
        assert (shortfall >= -1e-9).all() and (shortfall <= demand + 1e-9).all()
        rec = result.model.recorder
        sector_short = rec.sector_demand - rec.sector_delivered
        assert (sector_short >= -1e-9).all() and (sector_short <= rec.sector_demand + 1e-9).all()
        assert (result.flows["t"] > 0).all()


def test_baseline_stays_near_its_calibrated_start(results):
    base = results["baseline"]
    assert np.abs(recorded(base, "price_outside_ratio") - 1).max() < 0.1
    assert recorded(base, "shortfall_share").max() < 0.005
    assert recorded(base, "capacity_gap").max() < 1e-6


def test_with_no_events_and_no_programmes_the_world_stays_near_its_baseline():
    """No shocks and no programme buying (the NDS plan's tungsten purchases alone move US imports)."""
    quiet = run("baseline", NO_FUNDERS, "world.minerals.tungsten.stockpile_buy_t_per_yr=0", months=120)
    assert np.abs(recorded(quiet, "price_outside_ratio") - 1).max() < 0.1
    assert recorded(quiet, "shortfall_share").max() == 0
    regions = quiet.model.recorder.region
    assert regions["shortfall"].max() < 1e-9


def test_a_ban_on_the_us_raises_the_us_price_and_a_ban_on_all_splits_outside_from_inside(results):
    base, us_only, everyone = results["baseline"], results["china_ban"], results["china_ban_all"]
    for mineral in ("antimony", "tungsten", "gallium", "germanium", "ndpr", "dytb", "ndfeb_magnets"):
        # Cut off from China, the US pays more than the rest of the world ...
        assert series(us_only, "price_us", mineral).max() > series(us_only, "price_outside", mineral).max()
        # ... which China still supplies, so China's market is not separated from it.
        np.testing.assert_array_equal(
            series(us_only, "price_inside", mineral), series(us_only, "price_outside", mineral)
        )
        # A ban on every destination bottles China's exports up: dear outside, cheap inside.
        assert (
            series(everyone, "price_outside_ratio", mineral).max() > series(base, "price_outside_ratio", mineral).max()
        )
        assert series(everyone, "price_inside_ratio", mineral).min() < series(base, "price_inside_ratio", mineral).min()


def test_ban_cuts_china_direct_flows_and_leaks_a_share_later(results):
    flows = results["china_ban"].flows
    china = flows[(flows["exporter"] == "China") & (flows["mineral"] == "antimony")]
    after = china[china["month"] >= "2026-03"]
    assert set(after["route"]) == {"leaked"}
    assert after["month"].min() >= "2026-06"  # three months in transit, once the price gap pays the markup


def test_ban_causes_shortfall_in_a_banned_mineral_and_none_in_unbanned_ones(results):
    ban = results["china_ban_all"]
    assert max(ban.summary[m]["cumulative_shortfall_t"] for m in ("antimony", "gallium")) > 0
    for mineral in ("aluminium", "copper", "magnesium", "titanium"):
        assert ban.summary[mineral]["cumulative_shortfall_t"] == 0


@pytest.mark.parametrize(
    "looser, stricter",
    [
        ("leakage=0.5", "leakage=0.2"),
        ("leakage=0.2", "leakage=0.0"),
        ("kind=quota --quota 0.6", "kind=quota --quota 0.3"),
        ("kind=quota --quota 0.3", "kind=ban"),
        ("kind=licensing", "kind=ban"),
    ],
)
def test_stricter_restriction_never_reduces_shortfall(looser, stricter):
    def cumulative(setting: str) -> np.ndarray:
        overrides = [NO_FUNDERS, ALL, "events[0].leakage=0.1"]
        for part in setting.split(" --"):
            key, value = part.split("=") if "=" in part else part.split(" ")
            overrides.append(f"events[0].{'quota_share' if key == 'quota' else key}={value}")
        result = run("china_ban", *overrides, months=48)
        return recorded(result, "shortfall").sum(0), result.model.recorder.region["shortfall"].sum()

    (loose, loose_world), (strict, strict_world) = cumulative(looser), cumulative(stricter)
    assert (strict >= loose - 1e-6).all(), (loose, strict)
    assert strict_world > loose_world  # stricter: someone, somewhere, is shorter


def test_more_funding_never_reduces_capacity(write_scenario):
    """Standing programmes off; a scenario programme for antimony with a growing budget (certain success,
    so the comparison is of money alone)."""
    from sim.api import simulate

    capacity = []
    for budget in (0, 2e7, 2e8, 2e9):
        path = write_scenario(
            f"name: f\nextends: {SCENARIOS / 'china_ban.yaml'}\nhorizon_months: 96\n"
            "policies: {funders_respond: false}\n"
            "events:\n  - {type: funding_programme, name: sb, instrument: grant, minerals: [antimony], "
            f"annual_budget_usd: {budget}, success_rate: 1.0, start: 2026-01}}\n"
        )
        result = simulate(load_scenario(path))
        capacity.append(recorded(result, "capacity_built") + recorded(result, "capacity_under_construction"))
    for less, more in itertools.pairwise(capacity):
        assert (more >= less - 1e-6).all()
    antimony = result.model.mineral_index["antimony"]
    assert capacity[-1][:, antimony].max() > capacity[1][:, antimony].max() > 0


def plant_utilisation(result, mineral):
    rec = result.model.recorder
    return np.array([u["utilisation"] for p, u in rec.plants.items() if rec.plant_mineral[p] == mineral])


def test_higher_power_price_never_raises_electricity_intensive_utilisation():
    runs = [run("power_price_spike", NO_FUNDERS, f"events[0].multiplier={x}", months=36) for x in (1.0, 1.5, 2.5)]
    for mineral in ("aluminium", "magnesium", "titanium"):
        used = [plant_utilisation(r, mineral) for r in runs]
        assert (used[1] <= used[0] + 1e-12).all() and (used[2] <= used[1] + 1e-12).all(), mineral
    aluminium = [series(r, "domestic_output", "aluminium") for r in runs]
    assert aluminium[2].min() < 0.8 * aluminium[0][0]  # a large spike visibly curtails smelters
    assert aluminium[2][-1] > aluminium[2].min()  # and they come back after it


def test_defence_is_served_first_under_priority_rating():
    rated = run("china_ban", NO_FUNDERS, ALL, months=60)
    unrated = run("china_ban", NO_FUNDERS, ALL, "policies.priority_rating=false", months=60)
    gallium_rated, gallium_unrated = rated.summary["gallium"], unrated.summary["gallium"]
    assert gallium_rated["cumulative_shortfall_share"] > 0
    assert gallium_rated["defence_shortfall_share"] < gallium_rated["cumulative_shortfall_share"]
    assert gallium_unrated["defence_shortfall_share"] > gallium_rated["defence_shortfall_share"]


def test_stockpile_release_reduces_shortfall():
    without = run("china_ban", NO_FUNDERS, ALL, months=48)
    with_stock = run("china_ban", NO_FUNDERS, ALL, "world.minerals.gallium.stockpile_t=10", months=48)
    assert with_stock.summary["gallium"]["stockpile_released_t"] > 0
    assert (
        with_stock.summary["gallium"]["cumulative_shortfall_t"] < without.summary["gallium"]["cumulative_shortfall_t"]
    )


def test_allied_supply_reduces_shortfall_and_arrives_by_the_allied_route(write_scenario):
    from sim.api import simulate

    base = write_scenario(
        "name: b\nextends: " + str(SCENARIOS / "china_ban.yaml") + "\npolicies: {funders_respond: false}\n"
        "horizon_months: 48\n",
        "b.yaml",
    )
    deal = write_scenario(
        "name: d\nextends: b.yaml\nevents:\n  - {type: allied_supply, country: Japan, mineral: gallium, "
        "t_per_yr: 5, start: 2026-03, ramp_months: 6}\n",
        "d.yaml",
    )
    without, with_deal = simulate(load_scenario(base, [ALL])), simulate(load_scenario(deal, [ALL]))
    assert with_deal.summary["gallium"]["cumulative_shortfall_t"] < without.summary["gallium"]["cumulative_shortfall_t"]
    allied = with_deal.flows[(with_deal.flows["route"] == "allied") & (with_deal.flows["mineral"] == "gallium")]
    assert allied["exporter"].unique().tolist() == ["Japan"] and allied["t"].sum() > 0


def test_licensing_delays_arrivals_by_the_licence_wait():
    result = run(
        "china_ban",
        NO_FUNDERS,
        "events[0].kind=licensing",
        "events[0].licence_delay_months=4",
        "events[0].refused_share=0.25",
        months=24,
    )
    flows = result.flows
    china = flows[(flows["exporter"] == "China") & (flows["mineral"] == "antimony")]
    licensed = china[china["route"] == "licensed"]
    assert licensed["month"].min() == "2026-07"  # shipped from 2026-03, four months in transit
    assert set(china[china["month"] >= "2026-03"]["route"]) <= {"licensed", "leaked"}


def test_supply_disruption_raises_the_outside_price():
    base = run("baseline", NO_FUNDERS, months=24)
    hit = run("baseline", NO_FUNDERS, months=24)
    assert series(hit, "price_outside_ratio", "tungsten").max() == series(base, "price_outside_ratio", "tungsten").max()
    resolved = load_scenario(SCENARIOS / "baseline.yaml", [NO_FUNDERS, "horizon_months=24"])
    resolved.raw["events"] = [
        {
            "type": "supply_disruption",
            "country": "China",
            "minerals": ["tungsten"],
            "capacity_loss": 0.3,
            "start": "2026-02",
        }
    ]
    from sim.api import simulate
    from sim.scenario.load import validate_raw

    disrupted = simulate(validate_raw(resolved.raw, {}, resolved.files))
    assert series(disrupted, "price_outside_ratio", "tungsten").max() > 1.2


def test_same_scenario_and_seed_give_identical_results():
    a, b = run("china_ban", months=36, seed=3), run("china_ban", months=36, seed=3)
    assert a.summary == b.summary
    assert a.timeseries.equals(b.timeseries) and a.flows.equals(b.flows)


def test_distributions_draw_per_seed_and_repeat_per_seed():
    a = run("china_ban", "events[0].leakage={uniform: [0.0, 0.5]}", months=12, seed=1)
    b = run("china_ban", "events[0].leakage={uniform: [0.0, 0.5]}", months=12, seed=1)
    c = run("china_ban", "events[0].leakage={uniform: [0.0, 0.5]}", months=12, seed=2)
    assert a.draws == b.draws != c.draws
    assert 0.0 <= a.draws["events[0].leakage"] <= 0.5


def test_runs_of_one_scenario_share_its_policy_arrays_read_only_and_get_the_same_results():
    shared = load_scenario(SCENARIOS / "china_ban.yaml")
    a, b = SupplyChainModel(shared, seed=1, months=None, recorder=Recorder), SupplyChainModel(shared, seed=2)
    assert a.timeline is b.timeline and a.divert_weights is b.divert_weights
    with pytest.raises(ValueError, match="read-only"):
        a.timeline.is_open[0, 0, 0] = False
    # Built once and shared, or built by a run of its own: the same results.
    own = SupplyChainModel(load_scenario(SCENARIOS / "china_ban.yaml"), seed=1, recorder=Recorder)
    a.run(), own.run()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.run()  # at the horizon already: nothing to do, and no warning from Mesa's clock
    assert a.month == a.time == 120
    for name, values in own.recorder.series.items():
        np.testing.assert_array_equal(a.recorder.series[name], values, err_msg=name)
    # Workers get the scenario without what this process built; a run with draws builds its own.
    assert pickle.loads(pickle.dumps(shared)).shared("policies", lambda: "rebuilt") == "rebuilt"
    uncertain = load_scenario(SCENARIOS / "china_ban.yaml", ["events[0].leakage={uniform: [0.0, 0.4]}"])
    assert SupplyChainModel(uncertain, seed=1).timeline is not SupplyChainModel(uncertain, seed=1).timeline
    # A subclass may build its arrays differently: it does not get the base class's.

    class Variant(SupplyChainModel):
        pass

    assert Variant(shared).timeline is not a.timeline
    # What every funder reads this month cannot be changed by one of them.
    with pytest.raises(ValueError, match="read-only"):
        a.mineral_risk()[0] = 1.0


def test_batched_supplier_and_region_decisions_equal_each_agents_own_step():
    model = SupplyChainModel(load_scenario(SCENARIOS / "china_ban.yaml", ["horizon_months=24"]))
    for _ in range(6):
        model.step()
    twin = copy.deepcopy(model)
    SupplierCountry.decide(model, slice(None))
    BuyerRegion.decide(model, slice(None))
    twin.agents_by_type[SupplierCountry].shuffle_do("step")
    twin.agents_by_type[BuyerRegion].shuffle_do("step")
    for name in ("output", "output_level", "region_demand", "inventory_target", "orders"):
        np.testing.assert_allclose(getattr(model, name), getattr(twin, name), rtol=1e-12, atol=1e-12)
    for agent in (SupplierCountry, BuyerRegion):
        with pytest.raises(TypeError, match="slice"):
            agent.decide(model, [0])  # a list would transpose the timeline's [t, :, c] silently


def test_funded_plants_are_mesa_agents_that_come_online_after_the_lead_time():
    result = run("china_ban", months=120)
    funded = [a for a in result.model.agents_by_type[USProcessor] if a.funded_by]
    assert funded, "the ban should draw federal money into new processing"
    for plant in funded:
        if plant.status == "operating":
            assert plant.online_month <= 119
