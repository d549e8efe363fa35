"""Every shipped scenario validates and runs, and shows what its description says it shows."""

import pytest

from sim.scenario.load import load_scenario

from .helpers import SCENARIOS, run

SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_scenario_validates_names_its_sources_and_runs(name):
    resolved = load_scenario(SCENARIOS / f"{name}.yaml")
    assert resolved.scenario.description.strip()
    if name != "baseline":
        assert resolved.scenario.sources, "a scenario says which briefs in seeds/ it draws on"
        for source in resolved.scenario.sources:
            assert (SCENARIOS.parent / "seeds" / f"{source}.md").is_file(), source
    assert run(name, months=18).summary


@pytest.fixture(scope="module")
def headline():
    names = [
        "china_ban",
        "processing_first",
        "mines_first",
        "forge_allies",
        "stockpile_release",
        "licensing_delays",
        "partial_quota",
        "antimony_tungsten_2026",
        "ai_power_squeeze",
        "baseline",
    ]
    return {name: run(name).summary for name in names}


def short(summary, mineral):
    return summary[mineral]["cumulative_shortfall_share"]


def peak_us_price(summary, mineral):
    return summary[mineral]["price_us_peak_ratio"]


def test_processing_first_closes_the_gap_sooner_than_mines_first(headline):
    for mineral in ("antimony", "gallium"):
        gap = [headline[name][mineral]["capacity_gap_t_per_yr_mean"] for name in ("processing_first", "mines_first")]
        assert gap[0] < gap[1], mineral


def test_allies_and_stockpiles_ease_the_price_the_us_pays_under_the_china_ban(headline):
    """The ban on the US alone is largely diverted (no US shortfall): what allies and the stockpile change is
    the price US buyers pay."""
    for name in ("forge_allies", "stockpile_release"):
        for mineral in ("antimony", "gallium"):
            assert short(headline[name], mineral) <= short(headline["china_ban"], mineral)
            assert peak_us_price(headline[name], mineral) < peak_us_price(headline["china_ban"], mineral), (
                name,
                mineral,
            )


def test_milder_instruments_do_less_damage_than_a_ban(headline):
    for name in ("licensing_delays", "partial_quota"):
        for mineral in ("antimony", "gallium"):
            # (their leakage differs from the ban's, so prices are compared like for like in
            # tests/test_world_market.py, not here)
            assert short(headline[name], mineral) <= short(headline["china_ban"], mineral)
            assert peak_us_price(headline[name], mineral) > 1.02


def test_antimony_tungsten_disruption_is_worse_than_the_ban_alone_and_defence_is_served(headline):
    both, ban = headline["antimony_tungsten_2026"], headline["china_ban"]
    assert both["antimony"]["price_outside_peak_ratio"] > ban["antimony"]["price_outside_peak_ratio"]
    assert short(both, "antimony") >= short(ban, "antimony")
    assert both["antimony"]["defence_shortfall_share"] <= short(both, "antimony")


def test_ai_power_squeeze_curtails_aluminium_and_raises_its_import_reliance(headline):
    squeeze, base = headline["ai_power_squeeze"]["aluminium"], headline["baseline"]["aluminium"]
    assert squeeze["capacity_gap_t_per_yr_peak"] > 100_000
    assert squeeze["import_reliance_end"] > base["import_reliance_end"] + 0.05
