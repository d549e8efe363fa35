"""Properties of the world market over the scenario library (issue: no region has first claim)."""

import numpy as np
import pytest

from sim.results.summary import region_key

from .helpers import SCENARIOS, recorded, run

BANNED = ("antimony", "tungsten", "rare_earths", "gallium", "germanium")
NO_FUNDERS = "policies.funders_respond=false"
LIBRARY = sorted(p.stem for p in SCENARIOS.glob("*.yaml") if p.stem != "hindcast_2023_2025")


def us_shortfall(result, mineral):
    return result.summary[mineral]["cumulative_shortfall_t"]


def test_a_ban_on_all_destinations_never_leaves_the_us_better_off_than_a_ban_on_the_us_alone():
    us_only = run("china_ban", NO_FUNDERS, months=60)
    everyone = run("china_ban", NO_FUNDERS, "events[0].destinations=[all]", months=60)
    for mineral in BANNED:
        assert us_shortfall(everyone, mineral) >= us_shortfall(us_only, mineral) - 1e-6, mineral
    # Other buyers lose far more when the ban covers them too.
    others = [region_key(r) for r in everyone.model.regions[1:] if r != "China"]
    assert max(everyone.summary["gallium"][k] for k in others) > 0.2
    assert max(us_only.summary["gallium"][k] for k in others) < 1e-9


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
    assert set(allied["exporter"]) <= {"Australia", "Japan", "Canada", "Bolivia"} and allied["t"].sum() > 0
    # A commitment above the country's capacity is capped by it.
    huge = run("forge_allies", NO_FUNDERS, "events[5].t_per_yr=1e6", months=60)
    m, c = huge.model.mineral_index["tungsten"], huge.model.country_index["Bolivia"]
    sent = huge.model.recorder.flows[:, m, c].sum(1)
    assert sent.max() <= huge.model.capacity0[m, c] * huge.model.growth[m] + huge.model.producer_stock.max() + 1e-6


def test_sanctioned_suppliers_never_ship_to_the_us():
    result = run("china_ban", months=36)
    sanctioned = {("North Korea", "tungsten"), ("Russia", "aluminium"), ("Russia", "copper")}
    flows = result.flows
    for exporter, mineral in sanctioned:
        assert flows[(flows["exporter"] == exporter) & (flows["mineral"] == mineral)].empty


def test_a_tariff_shifts_us_imports_away_from_the_taxed_supplier_and_raises_the_us_price():
    base = run("baseline", NO_FUNDERS, months=24)
    taxed = run(
        "baseline",
        NO_FUNDERS,
        "events=[{type: tariff, exporters: [Canada], minerals: [aluminium], rate: 0.5, start: 2026-03}]",
        months=24,
    )

    def from_canada(result):
        f = result.flows
        return f[(f["exporter"] == "Canada") & (f["mineral"] == "aluminium") & (f["month"] >= "2026-06")]["t"].sum()

    assert from_canada(taxed) < from_canada(base)
    assert taxed.summary["aluminium"]["price_us_peak_ratio"] > base.summary["aluminium"]["price_us_peak_ratio"]


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
        pytest.param(
            ["events[0].kind=quota", "events[0].quota_share=0.3"],
            ["events[0].kind=ban"],
            marks=pytest.mark.xfail(
                strict=True,
                reason="known violation, reported: under the ban the world tungsten price reaches its 20x bound "
                "and EU demand falls further than under the quota, so the EU's shortfall (demand less deliveries) "
                "is smaller although it receives less",
            ),
        ),
    ],
)
def test_a_stricter_kind_never_lowers_any_regions_shortfall(looser, stricter):
    def shortfall(settings):
        base = [NO_FUNDERS, "events[0].destinations=[all]", "events[0].leakage=0"]
        return run("china_ban", *base, *settings, months=36).model.recorder.region["shortfall"].sum(0)

    loose, strict = shortfall(looser), shortfall(stricter)
    assert (strict >= loose - 1e-6 * (1 + loose)).all(), np.argwhere(strict < loose - 1e-6 * (1 + loose))
