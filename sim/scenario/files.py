"""Scenario files as the command line meets them: several checked at once (`sim validate`), a new one
written from the commented template (`sim new`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, load_scenario
from sim.scenario.template import scenario_template


@dataclass(frozen=True)
class Checked:
    """One scenario file checked: loaded, or the error that stopped it."""

    path: Path
    resolved: ResolvedScenario | None
    error: ScenarioError | None


def check_files(paths: list[Path]) -> list[Checked]:
    """Load each file (without running it); a bad file does not stop the others from being checked."""
    checked = []
    for path in paths:
        try:
            checked.append(Checked(path, load_scenario(path), None))
        except ScenarioError as exc:
            checked.append(Checked(path, None, exc))
    return checked


def write_new_scenario(target: Path, parent: str) -> None:
    """Write `target` from the template, extending `parent`, and check that it loads; a file that does not
    load is removed again (ScenarioError). OSError if it cannot be written."""
    target.write_text(scenario_template(target.stem, parent), encoding="utf-8")
    try:
        load_scenario(target)
    except ScenarioError:
        target.unlink(missing_ok=True)
        raise
