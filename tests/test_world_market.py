"""Properties of the world market over the scenario library (issue: no region has first claim)."""

import numpy as np
import pytest

from sim.results.summary import region_key

from .helpers import SCENARIOS, recorded, run

BANNED = ("antimony", "tungsten", "ndpr", "dytb", "ndfeb_magnets", "gallium", "germanium")
NO_FUNDERS = "policies.funders_respond=false"
LIBRARY = sorted(p.stem for p in SCENARIOS.glob("*.yaml") if p.stem != "hindcast_2023_2025")


def us_shortfall(result, mineral):
    return result.summary[mineral]["cumulative_shortfall_t"]


@pytest.fixture(scope="module")
def bans():
    """China's ban on the US alone, and on every destination (standing funders off)."""
    return run("china_ban", NO_FUNDERS, months=60), run(
        "china_ban", NO_FUNDERS, "events[0].destinations=[all]", months=60
    )


def test_a_ban_on_all_destinations_never_leaves_the_us_less_short_than_a_ban_on_the_us_alone(bans):
    us_only, everyone = bans
    for mineral in BANNED:
        assert us_shortfall(everyone, mineral) >= us_shortfall(us_only, mineral) - 1e-6, mineral
    # Under the ban on everyone the US is short of gallium; the other regions are shorter still.
    assert us_shortfall(everyone, "gallium") > 0
    others = [region_key(r) for r in everyone.model.regions[1:] if r != "China"]
    gallium = everyone.summary["gallium"]
    assert min(gallium[k] for k in others) > gallium["cumulative_shortfall_share"]
    assert max(us_only.summary["gallium"][k] for k in others) < 1e-9


@pytest.mark.parametrize(
    "mineral",
    [
        "antimony",
        "tungsten",
        "ndpr",
        "dytb",
        "ndfeb_magnets",
        "gallium",
        "germanium",
    ],
)
def test_the_us_receives_no_more_when_everyone_is_cut_off_than_when_it_alone_is(bans, mineral):
    us_only, everyone = bans
    i, us = us_only.model.mineral_index[mineral], us_only.model.region_index["United States"]
    got = [r.model.recorder.region["delivered"][:, i, us].sum() for r in (us_only, everyone)]
    assert got[1] <= got[0] * (1 + 1e-9), got


@pytest.mark.parametrize(
    "narrow, wide",
    [
        (["events[0].minerals=[antimony]"], ["events[0].minerals=[antimony, gallium]"]),
        (["events[0].destinations=[United States]"], ["events[0].destinations=[United States, EU]"]),
        (["events[0].destinations=[United States, EU]"], ["events[0].destinations=[all]"]),
        (["events[0].months=12"], ["events[0].months=36"]),
    ],
)
def test_widening_a_ban_never_lowers_any_regions_shortfall(narrow, wide):
    def shortfall(settings):
        result = run("china_ban", NO_FUNDERS, "events[0].leakage=0", *settings, months=48)
        return result.model.recorder.region["shortfall"].sum(0)  # [mineral, region], t

    small, large = shortfall(narrow), shortfall(wide)
    assert (large >= small - 1e-6 * (1 + small)).all(), np.argwhere(large < small - 1e-6 * (1 + small))


@pytest.mark.parametrize("name", LIBRARY)
def test_world_mass_balance_holds_each_month_across_regions_and_stocks(name):
    result = run(name, months=60)
    scale = recorded(result, "world_output") + recorded(result, "us_demand")
    assert np.abs(recorded(result, "world_balance_residual") / scale).max() < 1e-9
    region = result.model.recorder.region
    assert (region["stock"] >= -1e-9).all() and (region["purchases"] >= -1e-9).all()
    assert (region["shortfall"] >= -1e-9).all() and (region["shortfall"] <= region["demand"] + 1e-9).all()


def test_allied_supply_comes_from_named_capacity_never_from_nothing():
    result = run("forge_allies", NO_FUNDERS, months=60)
    model = result.model
    capacity = model.capacity0 * model.growth[:, None]  # the last month's capacity, no disruption in this run
    assert (model.output <= capacity + 1e-9).all()
    allied = result.flows[result.flows["route"] == "allied"]
    assert set(allied["exporter"]) <= {"Malaysia", "Japan", "Canada", "Bolivia"} and allied["t"].sum() > 0
    # A commitment above the country's capacity is capped by what the country has: capacity and stock.
    huge = run("forge_allies", NO_FUNDERS, "events[5].t_per_yr=1e6", months=60)
    m, c = huge.model.mineral_index["tungsten"], huge.model.country_index["Bolivia"]
    sent = huge.model.recorder.flows[:, m, c].sum(1)
    first_stock = huge.model.output0[m, c] * huge.model.world.market.producer_stock_months
    assert sent.max() <= huge.model.capacity0[m, c] * huge.model.growth[m] + first_stock + 1e-6
    assert sent.max() > 0


def test_sanctioned_suppliers_never_ship_to_the_us():
    result = run("china_ban", months=36)
    sanctioned = {("North Korea", "tungsten"), ("Russia", "aluminium"), ("Russia", "copper")}
    flows = result.flows
    for exporter, mineral in sanctioned:
        assert flows[(flows["exporter"] == exporter) & (flows["mineral"] == mineral)].empty


def test_a_tariff_shifts_us_imports_away_from_the_taxed_supplier():
    base = run("baseline", NO_FUNDERS, months=24)
    taxed = run(
        "baseline",
        NO_FUNDERS,
        "events=[{type: tariff, exporters: [Canada], minerals: [aluminium], rate: 0.5, start: 2026-03}]",
        months=24,
    )

    def share_from_canada(result):
        f = result.flows[(result.flows["mineral"] == "aluminium") & (result.flows["month"] >= "2026-06")]
        return f.loc[f["exporter"] == "Canada", "t"].sum() / f["t"].sum()

    assert share_from_canada(taxed) < share_from_canada(base) - 0.05
    # US buyers turn to other suppliers, so the duty they pay on average ends below Canada's share of it.
    i = base.model.mineral_index["aluminium"]
    duty = recorded(taxed, "price_us")[-1, i] / recorded(taxed, "price_outside")[-1, i] - 1
    market = taxed.model.price_market[i, 0] / taxed.model.price_outside[i] - 1  # the US market's own premium
    canada0 = base.model.flow_share0[i, base.model.country_index["Canada"], 0]
    assert duty - market < 0.5 * canada0


def test_a_region_levies_no_duty_on_its_own_producers():
    free = run("baseline", NO_FUNDERS, months=24)
    taxed = run(
        "baseline",
        NO_FUNDERS,
        "events=[{type: tariff, importer: China, minerals: [gallium], rate: 1.0, start: 2026-03}]",
        months=24,
    )
    i, china = free.model.mineral_index["gallium"], free.model.region_index["China"]
    paid = [r.model.recorder.region["price_paid"][-1, i, china] / r.model.price0[i] for r in (free, taxed)]
    assert paid[1] < paid[0] * 1.02  # China buys its gallium from itself: the duty barely touches it


def test_inside_price_rises_when_the_restricting_country_also_cuts_its_output():
    bottled = run("china_ban", NO_FUNDERS, "events[0].destinations=[all]", months=36)
    cut = run(
        "china_ban",
        NO_FUNDERS,
        "events[0].destinations=[all]",
        "events=[{type: export_restriction, exporter: China, minerals: [antimony], destinations: [all], kind: ban,"
        " start: 2026-03}, {type: supply_disruption, country: China, minerals: [antimony], capacity_loss: 0.6,"
        " start: 2026-03}]",
        months=36,
    )
    m = bottled.model.mineral_index["antimony"]
    assert recorded(bottled, "price_inside_ratio")[-1, m] < 1.0  # exports bottled up: the inside price falls
    assert recorded(cut, "price_inside_ratio")[-1, m] > recorded(bottled, "price_inside_ratio")[-1, m]


def test_precautionary_buying_raises_the_price_before_stocks_run_out():
    calm = run("china_ban", NO_FUNDERS, "world.regions.United States.precautionary_months=0", months=6)
    wary = run("china_ban", NO_FUNDERS, "world.regions.United States.precautionary_months=3", months=6)
    m = calm.model.mineral_index["antimony"]
    assert recorded(wary, "price_us")[3, m] > 1.05 * recorded(calm, "price_us")[3, m]  # the ban's first month


@pytest.mark.parametrize(
    "looser, stricter",
    [
        (["events[0].kind=licensing"], ["events[0].kind=quota", "events[0].quota_share=0.3"]),
        (["events[0].kind=quota", "events[0].quota_share=0.3"], ["events[0].kind=ban"]),
    ],
)
def test_a_stricter_kind_never_lowers_any_regions_shortfall(looser, stricter):
    def shortfall(settings):
        base = [NO_FUNDERS, "events[0].destinations=[all]", "events[0].leakage=0"]
        return run("china_ban", *base, *settings, months=36).model.recorder.region["shortfall"].sum(0)

    loose, strict = shortfall(looser), shortfall(stricter)
    assert (strict >= loose - 1e-6 * (1 + loose)).all(), np.argwhere(strict < loose - 1e-6 * (1 + loose))


def test_a_ban_on_the_us_prices_demand_out_where_it_makes_no_shortfall(bans):
    """Shortfall is against demand at the prices paid; what the price rise itself removed is reported apart,
    so 'no shortfall' cannot hide need."""
    us_only, everyone = bans
    base = run("baseline", NO_FUNDERS, months=60)
    for result in (base, us_only, everyone):
        for values in result.summary.values():
            assert 0.0 <= values["demand_priced_out_share"] < 1.0
    for mineral in ("antimony", "gallium"):
        assert us_only.summary[mineral]["cumulative_shortfall_share"] == 0.0
        assert (
            us_only.summary[mineral]["demand_priced_out_share"] > 3 * base.summary[mineral]["demand_priced_out_share"]
        )
