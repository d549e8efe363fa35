"""Scenario loading: extends, overrides, distributions, and one clear error for each kind of bad input."""

import numpy as np
import pytest

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

from .helpers import SCENARIOS

BAN = """\
name: t
extends: baseline
events:
  - type: export_restriction
    exporter: China
    minerals: [antimony]
    kind: ban
    start: 2026-03
    leakage: 0.1
"""


def error_of(write_scenario, text: str) -> ScenarioError:
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


@pytest.mark.parametrize("name", ["baseline", "china_ban", "power_price_spike"])
def test_shipped_scenarios_validate(name):
    resolved = load_scenario(SCENARIOS / f"{name}.yaml")
    assert resolved.scenario.name == name


def test_extends_merges_parent_and_appends_events(write_scenario):
    parent = write_scenario(BAN, "parent.yaml")
    child = write_scenario(
        f"name: child\nextends: {parent.name}\nhorizon_months: 24\nevents:\n"
        "  - type: power_price_shock\n    multiplier: 2\n    start: 2026-02\n"
    )
    resolved = load_scenario(child)
    assert resolved.scenario.horizon_months == 24
    assert [e.type for e in resolved.scenario.events] == ["export_restriction", "power_price_shock"]
    assert resolved.files[-1] == str(child)


def test_set_overrides_a_field_and_an_event(write_scenario):
    path = write_scenario(BAN)
    resolved = load_scenario(
        path, ["events[0].leakage=0.3", "horizon_months=36", "world.minerals.antimony.price_usd_per_t=50000"]
    )
    assert resolved.scenario.events[0].leakage == 0.3
    assert resolved.scenario.horizon_months == 36
    assert resolved.world.minerals["antimony"].price_usd_per_t == 50000


def test_distributions_are_drawn_from_the_seeded_generator(write_scenario):
    path = write_scenario(BAN.replace("leakage: 0.1", "leakage: {uniform: [0.05, 0.2]}"))
    resolved = load_scenario(path)
    a = resolved.sample(np.random.default_rng(7))[0].events[0].leakage
    b = resolved.sample(np.random.default_rng(7))[0].events[0].leakage
    c = resolved.sample(np.random.default_rng(8))[0].events[0].leakage
    assert a == b != c
    assert 0.05 <= a <= 0.2


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("name: t\nhorizon_months: [1\n", 3, None, "flow sequence (from line 2)"),
        (BAN.replace("[antimony]", "[unobtainium]"), 6, "events[0].minerals", "unknown mineral 'unobtainium'"),
        (BAN.replace("China", "Atlantis"), 5, "events[0].exporter", "unknown exporter 'Atlantis'"),
        (BAN.replace("kind: ban", "kind: embargo"), 7, "events[0].kind", "'embargo' is not allowed"),
        (BAN.replace("leakage: 0.1", "leakage: 1.5"), 9, "events[0].leakage", "less than or equal to 1"),
        (BAN.replace("leakage: 0.1", "leakage: lots"), 9, "events[0].leakage", "valid number"),
        (BAN.replace("leakage: 0.1", "leekage: 0.1"), 9, "events[0].leekage", "unknown field 'leekage'"),
        (BAN.replace("type: export_restriction", "type: meteor"), 4, "events[0]", "unknown event type 'meteor'"),
        (BAN.replace("start: 2026-03", "start: 2040-01"), 8, "events[0].start", "after the horizon"),
        (BAN.replace("start: 2026-03", "start: March"), 8, "events[0].start", "YYYY-MM"),
        (BAN.replace("extends: baseline", "extends: nowhere"), 2, "extends", "not found"),
        (BAN + "horizon_months: -5\n", 10, "horizon_months", "greater than or equal to 1"),
        (
            "name: t\nworld:\n  minerals:\n    antimony:\n      price_usd_per_t: -1\n",
            5,
            "world.minerals.antimony.price_usd_per_t",
            "greater than 0",
        ),
        ("- just\n- a list\n", 1, None, "must be a mapping"),
    ],
)
def test_bad_input_names_file_line_field_and_problem(write_scenario, text, line, field, words):
    exc = error_of(write_scenario, text)
    assert exc.file and exc.file.endswith("s.yaml")
    assert exc.line == line
    if field:
        assert exc.field == field
    assert words in str(exc)


def test_unknown_field_lists_the_allowed_ones(write_scenario):
    exc = error_of(write_scenario, BAN.replace("leakage: 0.1", "leekage: 0.1"))
    assert "leakage" in exc.allowed and "quota_share" in exc.allowed


def test_a_parent_not_found_says_where_sims_own_scenarios_are(write_scenario):
    """A scenario whose parent is not beside it (a copy moved out of scenarios/): the error says where sim's
    own scenarios are, to point `extends` at."""
    from sim.scenario.load import SHIPPED

    exc = error_of(write_scenario, BAN.replace("extends: baseline", "extends: base"))  # no base.yaml beside it
    assert "not found" in str(exc) and str(SHIPPED) in exc.allowed and (SHIPPED / "baseline.yaml").is_file()


def test_extends_loop_is_reported(write_scenario):
    write_scenario("name: a\nextends: b\n", "a.yaml")
    path = write_scenario("name: b\nextends: a\n", "b.yaml")
    with pytest.raises(ScenarioError, match="loop"):
        load_scenario(path)


def test_extends_only_reaches_scenario_files(write_scenario):
    exc = error_of(write_scenario, "name: t\nextends: /etc/hosts.txt\n")
    assert "not a scenario file" in str(exc)
    exc = error_of(write_scenario, "name: t\nextends: /etc/passwd\n")
    assert "not found" in str(exc)


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely(write_scenario):
    exc = error_of(write_scenario, "name: !!python/object/apply:os.system ['echo hi']\n")
    assert "not valid YAML" in str(exc)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            BAN.replace("leakage: 0.1", "leakage: {normal: [1, 2]}"),
            "events[0].leakage",
            "unknown distribution 'normal'",
        ),
        (BAN.replace("leakage: 0.1", "leakage: {uniform: [0.1, 0.2], seed: 3}"), "events[0].leakage", "written alone"),
        (
            "name: t\nworld:\n  minerals:\n    antimonium: {price_usd_per_t: 5}\n",
            "world.minerals.antimonium",
            "unknown mineral 'antimonium'",
        ),
        (
            "name: t\nworld:\n  plants:\n    gtp_towanda: {feedstock_country: Chna}\n",
            "world.plants.gtp_towanda.feedstock_country",
            "unknown country 'Chna'",
        ),
        (BAN.replace("start: 2026-03", "start: 2025-01\n    months: 3"), "events[0].start", "ends before the scenario"),
        (BAN.replace("China", "Chile"), "events[0].exporter", "Chile produces no antimony"),
        ("name: ../../evil\n", "name", "only letters, digits"),
        ("", "name", "required"),
    ],
)
def test_review_cases_get_a_clear_message(write_scenario, text, field, words):
    exc = error_of(write_scenario, text)
    assert exc.field == field and words in str(exc) and exc.file.endswith("s.yaml")


def test_a_childs_own_mistake_points_at_the_child(write_scenario):
    exc = error_of(write_scenario, "name: t\nextends: baseline\nevents:\n  type: power_price_shock\n")
    assert exc.file.endswith("s.yaml") and exc.line == 4


def test_set_cannot_change_extends_and_names_missing_items(write_scenario):
    path = write_scenario(BAN)
    with pytest.raises(ScenarioError, match="cannot be changed"):
        load_scenario(path, ["extends=other"])
    with pytest.raises(ScenarioError, match=r"no such item 'events\[4\]' \(there are 1\)"):
        load_scenario(path, ["events[4].leakage=0.2"])
    for malformed in ("events[0.leakage=0.2", "events[x].leakage=0.2", "events..leakage=0.2", "events[0]leakage=1"):
        with pytest.raises(ScenarioError, match="is not names joined by dots") as info:
            load_scenario(path, [malformed])
        assert "events[0].leakage" in info.value.allowed  # what a good path looks like


def test_a_restriction_only_on_the_exporters_own_region_is_refused(tmp_path):
    """Sales in a country's own region are not exports: such a restriction would cover nothing."""
    path = tmp_path / "own.yaml"
    path.write_text(
        f"name: own\nextends: {SCENARIOS / 'baseline.yaml'}\nevents:\n"
        "  - {type: export_restriction, exporter: Russia, minerals: [titanium], destinations: [Rest of world],\n"
        "     kind: ban, start: 2026-03}\n"
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert error.value.field == "events[0].destinations" and "covers nothing" in error.value.message


def test_integer_fields_are_read_off_the_schemas_and_mean_the_same_everywhere():
    """Drawn values are rounded for the fields INTEGER_FIELDS names; it is derived from the schemas, so a
    field name must be an integer in every model that has it, or in none."""
    from sim.scenario.load import INTEGER_FIELDS, _is_int, _pydantic_models
    from sim.scenario.schema import Scenario
    from sim.world.schema import World

    assert {"horizon_months", "build_lead_months", "feed_switch_months", "spot_rounds"} <= INTEGER_FIELDS
    for model in _pydantic_models(Scenario, set()) + _pydantic_models(World, set()):
        for name, field in model.model_fields.items():
            assert _is_int(field.annotation) == (name in INTEGER_FIELDS), (model.__name__, name)
