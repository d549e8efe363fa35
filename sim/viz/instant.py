"""Instant mode's runs: a scenario with the levers applied, run over its whole horizon, against a reference.

No solara here. A run is a plain `sim.api.RunResult`, so anything drawn from a RunResult can be shown;
runs and chart images are cached per process (every browser session of a server shares them), so a
lever moved back, or a setting another group already tried, redraws without running again.

The reference is the same scenario with no lever moved (what the levers change), or the baseline
scenario (what the scenario's own shocks do), when it covers the same months.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sim.api import RunResult, simulate
from sim.scenario.load import SHIPPED, ResolvedScenario, load_scenario
from sim.viz.dashboard_charts import CHARTS, PICTURES, ChartData, Drawn, new_picture, render_png
from sim.viz.levers import Levers, apply_levers

DEFAULT_SCENARIO = "china_ban"  # selected first when `sim dashboard` is given no scenario file
AS_WRITTEN, BASELINE = "as_written", "baseline"
REFERENCES = {AS_WRITTEN: "no lever moved", BASELINE: "the baseline (no shocks)"}


def scenario_catalogue(initial: Path | None = None, folder: Path = SHIPPED) -> dict[str, Path]:
    """Scenario name (file stem) -> file: every scenario in `folder`, and `initial` when it is not one of
    them (a file of one's own, which then hides a shipped one of the same name)."""
    files = {path.stem: path.resolve() for path in sorted(folder.glob("*.yaml"))}
    if initial is not None:
        files[initial.stem] = initial.resolve()
    return files


@lru_cache(maxsize=32)
def loaded(path: str) -> ResolvedScenario:
    return load_scenario(path)


@lru_cache(maxsize=8)  # a run holds about 20 MB (its tidy table most of it)
def run_with_levers(path: str, levers: Levers) -> RunResult:
    """The scenario file with the levers applied, run over its whole horizon."""
    return simulate(apply_levers(loaded(path), levers))


def references(path: str, catalogue: dict[str, Path]) -> list[str]:
    """The references a scenario can be compared with: the baseline only if it covers the same months."""
    baseline = catalogue.get(BASELINE)
    if baseline is None or Path(path) == baseline:
        return [AS_WRITTEN]
    mine, theirs = loaded(path).scenario, loaded(str(baseline)).scenario
    same_months = (mine.start, mine.horizon_months) == (theirs.start, theirs.horizon_months)
    return [AS_WRITTEN, BASELINE] if same_months else [AS_WRITTEN]


def reference_file(path: str, reference: str, catalogue: dict[str, Path]) -> str:
    """The file of the reference run: the scenario itself (run with no lever moved), or the baseline."""
    return str(catalogue[BASELINE]) if reference in references(path, catalogue)[1:] else path


@dataclass(frozen=True, eq=False)
class Comparison:
    """A scenario with levers against its reference: what instant mode shows."""

    result: RunResult
    reference: RunResult


def compare(path: str, levers: Levers, reference_path: str) -> Comparison:
    return Comparison(run_with_levers(path, levers), run_with_levers(reference_path, Levers()))


@lru_cache(maxsize=256)  # about 0.1 MB an image
def instant_chart(chart: str, path: str, levers: Levers, reference_path: str, mineral: str) -> tuple[bytes, Drawn]:
    """A chart of the comparison as PNG bytes, and what it drew (cached: the same runs, the same picture)."""
    comparison = compare(path, levers, reference_path)
    result, reference = comparison.result, comparison.reference
    data = ChartData(result.model.recorder, result.months, reference.model.recorder, mineral, result)
    if chart in CHARTS:
        return render_png(CHARTS[chart], data)
    return render_png(PICTURES[chart], data, layout=new_picture)
