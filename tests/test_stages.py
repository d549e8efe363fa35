"""The mine stage beneath the processing market (docs/model.md §5): ore routes, stage-named restrictions,
re-sourcing after a switching lag, and the US ore pool."""

import numpy as np
import pytest

from sim.scenario.load import load_scenario

from .helpers import SCENARIOS, recorded, run

CALM = "policies.funders_respond=false"
TAJIK_BAN = (
    "events=[{type: export_restriction, exporter: Tajikistan, minerals: [antimony], destinations: [all], "
    "kind: ban, start: 2026-03%s}]"
)
ORE_FED_PLANT = (  # a US plant on Tajik ore
    "world: {plants: {ore_fed: {mineral: antimony, capacity_t_per_yr: 1200, status: operating, "
    "electricity_mwh_per_t: 1.5, other_cost_usd_per_t: 4000, feedstock_country: Tajikistan, "
    "feed_stage: mine, hedged_power_share: 0.7}}}\n"
)
YEAR_ONE = slice(3, 14)  # the first twelve months of the ban: before any processor re-sources


@pytest.fixture(scope="module")
def tajik():
    out = {"calm": run("baseline", CALM, months=48)}
    out["ore"] = run("baseline", CALM, TAJIK_BAN % ", stages: [mine]", months=48)
    out["product"] = run("baseline", CALM, TAJIK_BAN % "", months=48)
    out["never_switch"] = run(
        "baseline", CALM, TAJIK_BAN % ", stages: [mine]", "world.market.feed_switch_months=120", months=48
    )
    return out


def antimony(result, variable: str) -> np.ndarray:
    return recorded(result, variable)[:, result.model.minerals.index("antimony")]


def test_baseline_ore_flows_follow_published_routes_and_never_exceed_a_mines_output():
    model = run("baseline", months=1).model
    feeds = model.feeds
    sb = model.minerals.index("antimony")
    china, burma = model.country_index["China"], model.country_index["Burma"]
    flows = feeds.flows0[sb]  # [from, to] t/month
    assert flows[burma, china] == pytest.approx(feeds.mine0[sb, burma])  # Burma's ore is separated in China
    assert flows[burma].sum() == pytest.approx(flows[burma, china])
    sent = flows[: len(model.countries)].sum(axis=1)
    assert (sent <= feeds.mine0[sb] * (1 + 1e-12)).all()
    assert (flows >= 0).all()
    # Burma mines antimony but processes none: it is not a supplier on the market.
    assert model.output0[sb, burma] == 0 and "antimony" not in model.world.supply.get("Burma", {})


def test_an_ore_ban_and_a_product_ban_give_different_explained_results(tajik):
    """Tajikistan sends three quarters of its ore to China's smelters and refines the rest itself. Banning
    its ore exports takes feed from China's processing (world output falls, the price rises) until China
    re-sources; banning its refined antimony leaves China's feed alone and moves only Tajikistan's own
    4,000 t/yr, which it sells at home instead (the outside price does not rise)."""
    calm, ore, product = (antimony(tajik[k], "world_output")[YEAR_ONE].mean() for k in ("calm", "ore", "product"))
    assert ore < 0.99 * calm
    assert product > ore
    price = {k: antimony(tajik[k], "price_outside_ratio")[YEAR_ONE].max() for k in ("calm", "ore", "product")}
    assert price["ore"] > price["calm"] + 0.02 and price["ore"] > price["product"]
    china = tajik["ore"].model.country_index["China"]
    assert tajik["product"].model.feed_capacity_share[:, china].min() == 1.0  # nothing cut at the mine stage


def test_a_processor_cut_off_from_its_ore_re_sources_it_after_the_switching_lag(tajik):
    """After feed_switch_months (12) China takes replacement ore from open mines' spare capacity: world
    output recovers; with a lag beyond the horizon it stays down."""
    later = slice(20, 30)
    switching = antimony(tajik["ore"], "world_output")[later].mean()
    stuck = antimony(tajik["never_switch"], "world_output")[later].mean()
    assert switching > stuck
    assert (
        antimony(tajik["never_switch"], "world_output")[later].mean()
        < antimony(tajik["calm"], "world_output")[later].mean()
    )


def test_a_us_plant_re_sources_feed_from_a_banned_country_after_the_lag():
    """The New York gallium refiner runs on Chinese crude gallium: under China's ban it idles for the
    switching lag, then re-sources from open countries (diverting their output); with a lag beyond the
    horizon it never does."""
    switching = run("china_ban", CALM, months=36)
    stuck = run("china_ban", CALM, "world.market.feed_switch_months=120", months=36)
    ga = switching.model.minerals.index("gallium")
    lag = switching.model.world.market.feed_switch_months
    during, after = slice(4, 2 + lag), slice(4 + lag, 36)
    assert (
        recorded(switching, "domestic_output")[during, ga].max() < 0.2 * recorded(switching, "domestic_output")[0, ga]
    )
    assert recorded(switching, "domestic_output")[after, ga].min() > 0.9 * recorded(switching, "domestic_output")[0, ga]
    assert recorded(stuck, "domestic_output")[after, ga].max() < 0.2 * recorded(stuck, "domestic_output")[0, ga]
    # Re-sourced feed is still foreign feed.
    assert switching.summary["gallium"]["import_reliance_incl_feedstock_end"] == pytest.approx(1.0, abs=1e-6)


def test_a_stage_names_what_a_us_plant_buys(write_scenario):
    """A plant fed with Tajik ore is cut by a ban on ore, not by a ban on refined antimony."""
    plant = ORE_FED_PLANT
    outputs = {}
    for stages in ("[mine]", "[processing]"):
        text = (
            f"name: s\nextends: baseline\nhorizon_months: 12\npolicies: {{funders_respond: false}}\n{plant}"
            "events:\n  - {type: export_restriction, exporter: Tajikistan, minerals: [antimony], destinations: [all],"
            f" kind: ban, start: 2026-03, stages: {stages}}}\n"
        )
        from sim.api import simulate

        result = simulate(load_scenario(write_scenario(text)))
        outputs[stages] = result.model.recorder.plants["ore_fed"]["output"]
    assert outputs["[mine]"][6:].max() == 0.0
    assert outputs["[processing]"][6:].min() > 0.0


def test_us_ore_goes_first_to_us_plants_and_the_rest_is_processed_abroad(write_scenario):
    """Copper: US mines yield more than US refineries use; a new domestic-fed refinery takes US ore that was
    processed abroad, and the mine-stage gap stays zero."""
    from sim.api import simulate

    base = run("baseline", CALM, months=12).summary["copper"]
    assert base["us_mine_processed_abroad_t_per_yr_end"] > 0 and base["mine_gap_t_per_yr_end"] == 0
    text = (
        "name: s\nextends: baseline\nhorizon_months: 12\npolicies: {funders_respond: false}\n"
        "world: {plants: {new_refinery: {mineral: copper, capacity_t_per_yr: 200000, status: operating, "
        "electricity_mwh_per_t: 0.3, other_cost_usd_per_t: 500, feed_stage: mine, hedged_power_share: 0.5}}}\n"
    )
    more = simulate(load_scenario(write_scenario(text))).summary["copper"]
    assert more["us_mine_processed_abroad_t_per_yr_end"] < base["us_mine_processed_abroad_t_per_yr_end"] - 1e5
    # A mineral with no mine stage in the data reports none (by-products: the host stage).
    assert run("baseline", CALM, months=12).summary["gallium"]["mine_gap_t_per_yr_end"] is None


def test_a_mine_stage_restriction_needs_a_mine(write_scenario):
    from typer.testing import CliRunner

    from sim.cli import app

    text = (
        "name: s\nextends: baseline\nevents:\n  - {type: export_restriction, exporter: Belgium, minerals: [antimony],"
        " kind: ban, start: 2026-03, stages: [mine]}\n"
    )
    outcome = CliRunner().invoke(app, ["validate", str(write_scenario(text))])
    assert outcome.exit_code == 2 and "Belgium mines no antimony" in outcome.output, outcome.output


def test_magnets_cannot_be_made_without_oxides(write_scenario):
    """With every NdPr separator stopped, regions' NdPr stocks run out and so does every maker's magnet
    output: a maker runs on the share of its region's NdPr demand that was met."""
    from sim.api import simulate

    world = run("baseline", months=1).model.world
    producers = [c for c, rows in world.supply.items() if "ndpr" in rows]
    events = "".join(
        f"  - {{type: supply_disruption, country: {c}, minerals: [ndpr], capacity_loss: 1.0, start: 2026-01}}\n"
        for c in producers
    )
    text = f"name: s\nextends: baseline\nhorizon_months: 24\npolicies: {{funders_respond: false}}\nevents:\n{events}"
    result = simulate(load_scenario(write_scenario(text)))
    model = result.model
    magnets, ndpr = model.minerals.index("ndfeb_magnets"), model.minerals.index("ndpr")
    world_magnets = recorded(result, "world_output")[:, magnets]
    assert recorded(result, "world_output")[:, ndpr].max() == 0.0
    assert world_magnets[-1] < 0.05 * world_magnets[0]
    # Each maker's capacity follows the share of its region's NdPr demand that was met.
    met = np.minimum(model.region_delivered[ndpr] / model.region_demand[ndpr], 1.0)
    makers = model.output0[magnets] > 0
    assert np.allclose(model.input_share[magnets][makers], met[model.home_region][makers])


def test_magnet_controls_shows_dytb_and_magnet_shortfalls_and_where_the_gap_is():
    """magnet_controls.yaml: licences on Dy/Tb oxide and magnets to every destination. The US runs short of
    both (defence served first), others shorter still; the US gap is in separation and magnet making, while
    most US rare-earth ore is processed abroad; NdPr, not covered, is not short."""
    summary = run("magnet_controls").summary
    for product in ("dytb", "ndfeb_magnets"):
        assert summary[product]["cumulative_shortfall_share"] > 0.01
        assert summary[product]["other_regions_shortfall_share_max"] > summary[product]["cumulative_shortfall_share"]
        assert summary[product]["defence_shortfall_share"] <= summary[product]["cumulative_shortfall_share"]
        assert summary[product]["capacity_gap_t_per_yr_peak"] > 0
    assert summary["ndpr"]["cumulative_shortfall_share"] == 0.0
    assert (
        summary["ndpr"]["us_mine_processed_abroad_t_per_yr_end"] > 0.5 * summary["ndpr"]["us_mine_output_t_per_yr_end"]
    )
    assert summary["ndpr"]["mine_gap_t_per_yr_end"] == 0.0


def test_a_us_mine_closes_the_mine_stage_gap_of_a_plant_cut_off_from_its_ore(write_scenario):
    """A plant on Tajik ore under a Tajik ore ban: the gap sits at the mine stage (ore the plant can neither
    import nor get at home). A programme that builds US mines sizes them to that gap, and once the mine is
    online the plant runs on US ore (before its switching lag would have re-sourced it abroad)."""
    from sim.api import simulate
    from sim.results.summary import gap_stages

    ban = (
        "events:\n  - {type: export_restriction, exporter: Tajikistan, minerals: [antimony], destinations: [all],"
        " kind: ban, start: 2026-01, stages: [mine]}\n"
    )
    mine = (
        "  - {type: funding_programme, name: mines, instrument: grant, builds: mine, minerals: [antimony],"
        " annual_budget_usd: 1.0e8, success_rate: 1.0, start: 2026-01}\n"
    )
    head = "name: s\nextends: baseline\nhorizon_months: 120\npolicies: {funders_respond: false}\n"
    # No re-sourcing abroad within the horizon: only a US mine can feed it.
    world = ORE_FED_PLANT.replace("}}}\n", "}}, market: {feed_switch_months: 120}}\n")
    cut = simulate(load_scenario(write_scenario(head + world + ban)))
    mined = simulate(load_scenario(write_scenario(head + world + ban + mine)))
    row = cut.summary["antimony"]
    assert row["mine_gap_t_per_yr_end"] == pytest.approx(1200, rel=0.05) and "mine" in gap_stages(row)
    built = mined.summary["antimony"]["mine_capacity_built_t_per_yr"]
    assert 1000 < built <= 1200 * 1.5
    assert mined.model.recorder.plants["ore_fed"]["output"][-1] > 0.9 * 100  # 1,200 t/yr at full use
    assert mined.summary["antimony"]["mine_gap_t_per_yr_end"] < 1.0


def test_mass_balance_across_stages(kitchen_sink_like):
    """No processor turns out more than the ore it can reach supports (nor its hosts and inputs allow), and
    US ore is all used at home or exported, every month."""
    result = kitchen_sink_like
    model, t = result.model, result.model.month - 1
    ceiling = (
        model.capacity0
        * model.growth[:, None]
        * model.timeline.capacity_factor[t]
        * model.feed_capacity_share
        * model.input_share
    )
    ceiling = np.minimum(ceiling, model.host_capacity)
    assert (model.output <= ceiling + model.timeline.allied_t_per_month[t] + 1e-9).all()
    assert np.allclose(
        model.us_mine_used + model.us_mine_exported, np.maximum(model.us_mine_output, model.us_mine_used)
    )
    abroad = recorded(result, "us_mine_processed_abroad")
    assert (abroad >= 0).all() and (abroad <= recorded(result, "us_mine_output") + 1e-9).all()
    assert (recorded(result, "mine_gap") >= -1e-9).all()
    # And the processed product's own accounting still closes, US and world, with the stages in force.
    scale = recorded(result, "world_output").max()
    assert np.abs(recorded(result, "world_balance_residual")).max() < 1e-9 * scale
    assert np.abs(recorded(result, "us_balance_residual")).max() < 1e-9 * scale


@pytest.fixture(scope="module")
def kitchen_sink_like(tmp_path_factory):
    """Mine-stage and host-stage events together, cut at a month while they are in force."""
    from sim.api import simulate

    folder = tmp_path_factory.mktemp("stages")
    (folder / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    (folder / "s.yaml").write_text(
        "name: s\nextends: baseline\nhorizon_months: 30\n" + ORE_FED_PLANT + "events:\n"
        "  - {type: export_restriction, exporter: Burma, minerals: [ndpr, dytb], destinations: [all], kind: ban,"
        " start: 2026-02, stages: [mine]}\n"
        "  - {type: export_restriction, exporter: Tajikistan, minerals: [antimony], destinations: [all],"
        " kind: quota, quota_share: 0.3, start: 2026-03, stages: [mine]}\n"
        "  - {type: supply_disruption, country: Chile, minerals: [copper], capacity_loss: 0.5, start: 2026-04,"
        " stages: [mine]}\n"
        "  - {type: supply_disruption, country: China, minerals: [aluminium], capacity_loss: 0.7, start: 2026-04}\n"
        "  - {type: export_restriction, exporter: China, minerals: [dytb, ndfeb_magnets], destinations: [all],"
        " kind: licensing, refused_share: 0.5, start: 2026-05}\n"
    )
    return simulate(load_scenario(folder / "s.yaml"))


def test_a_programme_that_builds_mines_needs_a_mineral_with_a_mine_stage(write_scenario):
    from typer.testing import CliRunner

    from sim.cli import app

    text = (
        "name: s\nextends: baseline\nevents:\n  - {type: funding_programme, name: p, instrument: grant, builds: mine,"
        " minerals: [gallium], annual_budget_usd: 1.0e8, start: 2026-01}\n"
    )
    outcome = CliRunner().invoke(app, ["validate", str(write_scenario(text))])
    assert outcome.exit_code == 2 and "no mineral of this programme has a mine stage" in outcome.output
    assert "antimony" in outcome.output  # the minerals that have one
