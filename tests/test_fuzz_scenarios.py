"""Generated scenario files, valid and broken, by the hundred: each either runs or gets a ScenarioError
(one message naming where and what) — never another exception."""

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api import simulate
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario_text

MINERALS = ["antimony", "tungsten", "gallium", "aluminium", "unobtainium"]
COUNTRIES = ["China", "Russia", "Japan", "Atlantis"]
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-2, 3, allow_nan=False),
    st.text(max_size=6),
    st.lists(st.integers(0, 3), max_size=2),
)
valid_months = st.sampled_from(["2026-01", "2026-03", "2026-07", "2027-12", "2040-01", "2025-06"])
months = st.integers(0, 9).flatmap(lambda k: junk if k == 0 else valid_months)


def maybe(strategy):
    """Mostly a valid value, one time in ten junk."""
    return st.integers(0, 9).flatmap(lambda k: junk if k == 0 else strategy)


def typed(kind, required, optional=None):
    optional = {**(optional or {}), "months": maybe(st.integers(1, 24))}
    return st.fixed_dictionaries({"type": maybe(st.just(kind)), "start": months, **required}, optional=optional)


minerals = maybe(st.lists(st.sampled_from(MINERALS), min_size=1, max_size=2))
EVENTS = [
    typed(
        "export_restriction",
        {
            "exporter": maybe(st.sampled_from(COUNTRIES)),
            "minerals": minerals,
            "kind": maybe(st.sampled_from(["ban", "quota", "licensing", "embargo"])),
        },
        {
            "leakage": maybe(st.one_of(st.floats(0, 1), st.just({"uniform": [0.1, 0.3]}), st.just({"uniform": [0.4]}))),
            "quota_share": maybe(st.floats(0, 1)),
            "refused_share": maybe(st.floats(0, 1)),
            "licence_delay_months": maybe(st.integers(0, 6)),
            "leak_delay_months": maybe(st.integers(0, 6)),
        },
    ),
    typed(
        "supply_disruption",
        {"country": maybe(st.sampled_from(COUNTRIES)), "minerals": minerals, "capacity_loss": maybe(st.floats(0, 1))},
    ),
    typed("power_price_shock", {"multiplier": maybe(st.floats(0.1, 3))}),
    typed(
        "demand_shock",
        {"minerals": minerals},
        {
            "multiplier": maybe(st.floats(0, 2)),
            "extra_t_per_yr": maybe(st.floats(0, 1e4)),
            "sectors": maybe(st.lists(st.sampled_from(["defence", "energy", "nowhere"]), min_size=1, max_size=2)),
        },
    ),
    typed(
        "allied_supply",
        {
            "country": maybe(st.sampled_from(COUNTRIES)),
            "mineral": maybe(st.sampled_from(MINERALS)),
            "t_per_yr": maybe(st.floats(1, 1000)),
        },
        {"ramp_months": maybe(st.integers(0, 12))},
    ),
    typed(
        "funding_programme",
        {
            "name": maybe(st.just("p")),
            "annual_budget_usd": maybe(st.floats(0, 1e9)),
            "instrument": maybe(st.sampled_from(["grant", "loan", "offtake", "stockpile", "bond"])),
        },
        {"minerals": st.one_of(minerals, st.just("all"))},
    ),
    typed("stockpile_release", {"minerals": minerals, "t_per_yr": maybe(st.floats(1, 100))}),
    st.fixed_dictionaries({"type": st.just("meteor"), "start": months}),
]


def event():
    """Mostly well-formed events; now and then one with a field no event has."""
    surprising = st.one_of(*EVENTS).map(lambda e: {**e, "surprise": 1})
    return st.integers(0, 9).flatmap(lambda k: surprising if k == 0 else st.one_of(*EVENTS))


scenario = st.fixed_dictionaries(
    {"name": maybe(st.just("fuzz"))},
    optional={
        "horizon_months": maybe(st.integers(1, 12)),
        "start": months,
        "seed": maybe(st.integers(0, 5)),
        "events": st.one_of(st.lists(event(), max_size=3), junk),
        "policies": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"priority_rating": maybe(st.booleans()), "funders_respond": maybe(st.booleans())}
            ),
            junk,
        ),
        "world": st.one_of(
            st.just({"minerals": {"antimony": {"price_usd_per_t": -1}}}),
            st.just({"plants": {"usac_thompson_falls": {"capacity_t_per_yr": 900}}}),
            st.just({"market": {"price_flexibility": 2.5}}),
            junk,
        ),
    },
)

tried = {"runs": 0, "errors": 0}


def check_generated(data):
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        resolved = load_scenario_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        tried["errors"] += 1
        message = str(exc)
        assert message.startswith("fuzz.yaml"), message
        assert "Traceback" not in message and len(message) < 600
        return
    tried["runs"] += 1
    result = simulate(resolved, months=min(resolved.scenario.horizon_months, 6))
    assert result.summary


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario)
def test_generated_scenarios_run_or_fail_clearly(data):
    check_generated(data)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario)
def test_two_thousand_generated_scenarios_run_or_fail_clearly(data):
    check_generated(data)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("name: []{}-,'\"\n\t 0.5ab&*!|>")), max_size=60))
def test_arbitrary_text_is_never_a_traceback(text):
    try:
        load_scenario_text(text, "noise.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("noise.yaml")
