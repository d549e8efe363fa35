"""The dashboard's levers, as scenarios: each moves the model the way its name says, and untouched levers
leave the scenario exactly as the file has it."""

import numpy as np
import pytest

from sim.api import simulate
from sim.scenario.load import load_scenario
from sim.viz.levers import (
    Levers,
    apply_levers,
    banned_minerals,
    describe_levers,
    exporters,
    lever_menus,
    levers_from,
    restriction_pairs,
)

from .helpers import SCENARIOS, recorded


@pytest.fixture(scope="module")
def china_ban():
    return load_scenario(SCENARIOS / "china_ban.yaml")


@pytest.fixture(scope="module")
def china_ban_all():
    """China's ban to every destination: a ban on the US alone is largely diverted (a price, not a shortfall)."""
    return load_scenario(SCENARIOS / "china_ban.yaml", ["events[0].destinations=[all]", "events[0].leakage=0.1"])


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(SCENARIOS / "baseline.yaml")


def run(resolved, months=48, **levers):
    return simulate(apply_levers(resolved, Levers(**levers)), months=months)


def total(result, variable, mineral):
    i = result.model.minerals.index(mineral)
    return recorded(result, variable)[:, i].sum()


def test_untouched_levers_leave_the_scenario_as_it_is(china_ban):
    assert apply_levers(china_ban, Levers()).scenario == china_ban.scenario
    plain, levered = simulate(china_ban, months=36), run(china_ban, months=36)
    for name in ("shortfall", "price_outside", "capacity_gap"):
        np.testing.assert_array_equal(recorded(plain, name), recorded(levered, name))


def test_the_scenario_restrictions_are_offered_one_by_one(china_ban, baseline):
    pairs = restriction_pairs(china_ban)
    assert "China: antimony" in pairs and "China: gallium" in pairs
    assert len(pairs) == len(china_ban.scenario.events[0].minerals)  # one per banned mineral
    assert restriction_pairs(baseline) == []
    assert "China" in exporters(baseline)


def test_lifting_every_restriction_removes_the_shortfall(china_ban_all):
    banned, lifted = run(china_ban_all), run(china_ban_all, lift="all")
    assert total(banned, "shortfall", "gallium") > 0
    assert total(lifted, "shortfall", "gallium") == 0
    assert recorded(lifted, "price_outside_ratio").max() < recorded(banned, "price_outside_ratio").max()


def test_lifting_one_restriction_lifts_only_that_one(china_ban_all):
    result = run(china_ban_all, lift="China: gallium")
    assert total(result, "shortfall", "gallium") == 0
    assert total(result, "shortfall", "tungsten") > 0


def test_a_new_ban_makes_a_shortfall_in_the_baseline(baseline):
    assert total(run(baseline), "shortfall", "antimony") == 0
    us_only = run(baseline, ban_exporter="China", ban_mineral="gallium", leakage=0.0)
    banned = run(baseline, ban_exporter="China", ban_mineral="gallium", ban_destinations="all", leakage=0.0)
    assert total(us_only, "price_us", "gallium") > total(run(baseline), "price_us", "gallium")  # diverted: dearer
    assert total(banned, "shortfall", "gallium") > total(us_only, "shortfall", "gallium")
    assert total(banned, "shortfall", "antimony") == 0  # only what was banned


def test_a_ban_on_all_minerals_covers_what_the_exporter_produces(baseline):
    resolved = apply_levers(baseline, Levers(ban_exporter="China", ban_mineral="all"))
    (ban,) = [e for e in resolved.scenario.events if e.type == "export_restriction"]
    assert set(ban.minerals) == set(baseline.world.supply["China"])


def test_more_leakage_never_deepens_the_shortfall(china_ban_all):
    shortfalls = [total(run(china_ban_all, leakage=x), "shortfall", "gallium") for x in (0.0, 0.2, 0.5)]
    assert shortfalls[0] >= shortfalls[1] >= shortfalls[2]
    assert shortfalls[0] > shortfalls[2]


def test_a_power_shock_curtails_aluminium_smelting(baseline):
    calm, shocked = run(baseline, months=24), run(baseline, months=24, power_multiplier=2.5, power_months=18)
    assert total(shocked, "domestic_output", "aluminium") < total(calm, "domestic_output", "aluminium")
    assert recorded(shocked, "capacity_gap").max() > recorded(calm, "capacity_gap").max()


def test_grants_build_capacity():
    # Standing programmes held still (MODEL.md §7), so the difference is the lever's programme alone.
    quiet = load_scenario(SCENARIOS / "china_ban.yaml", ["policies.funders_respond=false"])
    plain, funded = run(quiet, months=60), run(quiet, months=60, grants_musd_per_yr=500)
    assert recorded(plain, "capacity_built")[-1].sum() == 0
    assert recorded(funded, "capacity_built")[-1].sum() > 0
    assert recorded(funded, "funding_committed_usd")[-1].sum() > 0


def test_no_stockpile_release_means_no_release_and_no_smaller_shortfall(china_ban_all):
    released, held = run(china_ban_all), run(china_ban_all, stockpile_release=False)
    assert recorded(held, "stockpile_release").sum() == 0
    assert recorded(released, "stockpile_release").sum() > 0
    for mineral in ("antimony", "tungsten", "ndpr", "dytb", "ndfeb_magnets"):
        assert total(held, "shortfall", mineral) >= total(released, "shortfall", mineral)


def test_a_ban_on_a_mineral_the_exporter_does_not_produce_bans_nothing(baseline):
    levers = Levers(ban_exporter="Canada", ban_mineral="antimony")
    assert banned_minerals(baseline, levers) == []
    assert apply_levers(baseline, levers).scenario == baseline.scenario
    assert "Rest of world" not in exporters(baseline)


def test_menus_start_where_the_scenario_is_and_there_change_nothing(china_ban):
    menus = lever_menus(china_ban)
    defaults = {menu.name: menu.default for menu in menus}
    assert levers_from(china_ban, defaults) == Levers()
    assert describe_levers(china_ban, levers_from(china_ban, defaults)) == "no lever moved"
    (leakage,) = [menu for menu in menus if menu.name == "leakage"]
    assert leakage.default in leakage.values  # the scenario's own value is on the menu
    assert all(menu.default in menu.values for menu in menus if menu.values)


def test_moved_levers_are_described_in_words(china_ban):
    levers = levers_from(china_ban, {"lift": "all", "leakage": 0.3, "stockpile_release": False})
    assert levers == Levers(lift="all", leakage=0.3, stockpile_release=False)
    assert describe_levers(china_ban, levers) == "lifted: all; leakage 0.30; stockpile release off"
