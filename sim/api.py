"""The library entry points the CLI wraps: `sim.run(...)` returns a RunResult you can plot or save."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.model.model import SupplyChainModel
from sim.results.recorder import MINERAL_SERIES, WORLD_SERIES, Recorder
from sim.results.summary import summarise
from sim.scenario.load import ResolvedScenario, load_scenario, with_horizon

if TYPE_CHECKING:
    from sim.results.compare import Compared


@dataclass
class RunResult:
    resolved: ResolvedScenario
    seed: int
    months: int
    summary: dict[str, Any]
    draws: dict[str, float]
    model: SupplyChainModel
    timings: dict[str, float] = field(default_factory=dict)
    _tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.resolved.scenario.name

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """The tidy table of every recorded series (month, variable, scope, mineral, value), made when first
        asked for: the dashboard's charts read the recorder and never need it."""
        return self.model.recorder.timeseries()

    @cached_property
    def flows(self) -> pd.DataFrame:
        """The tidy table of mineral flows (made when first asked for, as `timeseries`)."""
        return self.model.recorder.flows_frame()

    def series(self, variable: str, scope: str = "us") -> pd.DataFrame:
        """One variable as a month x mineral table (a copy: the plots and reports ask for the same tables
        many times, so each is made once)."""
        key = (variable, scope)
        if key not in self._tables:
            table = self._recorded(variable, scope)
            if table is None:
                ts = self.timeseries
                rows = ts[(ts["variable"] == variable) & (ts["scope"] == scope)]
                table = rows.pivot(index="month", columns="mineral", values="value")
            self._tables[key] = table[[m for m in self.summary if m in table.columns]]  # the world's order
        return self._tables[key].copy()

    def _recorded(self, variable: str, scope: str) -> pd.DataFrame | None:
        """The table straight from the recorder's [month, mineral] array, the one the tidy table is made
        from (the same numbers, without a pass over its ~100,000 rows); None if it is not recorded there."""
        if variable not in MINERAL_SERIES:
            return None
        if scope != ("world" if variable in WORLD_SERIES else "us"):
            return None
        recorder = self.model.recorder
        return pd.DataFrame(
            recorder.series[variable].astype(float),
            index=pd.Index(recorder.months(), dtype="string", name="month"),
            columns=pd.Index(self.model.minerals, dtype="string", name="mineral"),
        )


def simulate(resolved: ResolvedScenario, seed: int | None = None, months: int | None = None) -> RunResult:
    """Run a loaded scenario once. Same scenario and seed, same result."""
    started = time.perf_counter()
    model = SupplyChainModel(resolved, seed=seed, months=months, recorder=Recorder)
    built = time.perf_counter()
    model.run()
    stepped = time.perf_counter()
    result = RunResult(
        resolved=resolved,
        seed=model.seed,
        months=model.scenario_spec.horizon_months,
        summary=summarise(model.recorder),
        draws=model.draws,
        model=model,
    )
    result.timings = {
        "build_s": built - started,
        "model_s": stepped - built,
        "summary_s": time.perf_counter() - stepped,
    }
    return result


def run(
    scenario: str | Path,
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> RunResult:
    """Load a scenario file (with `--set`-style overrides) and run it."""
    return simulate(load_scenario(scenario, overrides), seed=seed, months=months)


def load_for_run(
    scenario: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    months: int | None = None,
    uncertain: bool = False,
) -> ResolvedScenario:
    """A scenario as `sim run` loads it: `--set` overrides, `months` as the horizon, and with `uncertain`
    the world data's uncertain figures drawn from their ranges too."""
    resolved = load_scenario(scenario, with_horizon(overrides, months))
    if uncertain:
        from sim.uncertain import with_uncertain_world

        resolved = with_uncertain_world(resolved)
    return resolved


def run_file(
    scenario: str | Path,
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    uncertain: bool = False,
) -> RunResult:
    """One run of a scenario file as `sim run` makes it (see load_for_run)."""
    return simulate(load_for_run(scenario, overrides, months, uncertain), seed=seed, months=months)


@dataclass
class ComparedRuns:
    """Several runs side by side: the first is the one every difference is taken from."""

    runs: list[Compared]
    table: pd.DataFrame  # tidy: indicator, mineral, one column per run and the differences (compare_table)

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    @property
    def note(self) -> str | None:
        """One line when the runs cover different months (see compare.periods_note)."""
        from sim.results.compare import periods_note

        return periods_note([run.described for run in self.runs])


def compare(
    items: list[str],
    seed: int | None = None,
    months: int | None = None,
    root: Path = Path("results"),
    indicators: list[str] | None = None,
    reference: str | None = None,
) -> ComparedRuns:
    """Compare stored runs (a folder or an id under `root`) and scenario files (run now, with `seed` and
    `months`). `reference`: the label of the run the others are compared with (default: the first)."""
    from sim.results.compare import compare_table, unique_labels
    from sim.results.runs import RunError

    runs = unique_labels([compared_item(item, seed, months, root) for item in items])
    if reference is not None:  # the reference goes first: every difference is taken from the first
        chosen = [run for run in runs if run.label == reference]
        if not chosen:
            names = ", ".join(run.label for run in runs)
            raise RunError(f"--reference {reference!r} is none of the runs (allowed: {names})")
        runs = [chosen[0], *(run for run in runs if run is not chosen[0])]
    return ComparedRuns(runs, compare_table(runs, indicators))


def compared_item(item: str, seed: int | None, months: int | None, root: Path) -> Compared:
    """A scenario file (.yaml/.yml, run now) or a stored run, as `compare` sees it."""
    from sim.results.compare import Compared, run_label
    from sim.results.runs import find_run
    from sim.viz.compare_plots import STORED

    if item.endswith((".yaml", ".yml")):
        result = simulate(load_scenario(item, with_horizon(None, months)), seed=seed)
        source = provenance(item, result.name, result.resolved.hash, result.seed, result.series(STORED[0]).index)
        cap = result.resolved.world.market.price_cap_ratio
        return Compared(run_label(result.name, result.seed), result.summary, result.series, source, price_cap=cap)
    run = find_run(item, root)
    tables = [run.series(variable) for variable in STORED]  # a damaged time series is found before any output
    m = run.manifest
    source = provenance(run.run_id, m.scenario_name, m.scenario_hash, m.seed, tables[0].index)
    cap = run.summary.get("price_cap_ratio")  # a single run's (an ensemble's runs may each draw their own)
    return Compared(run.label, run.minerals, run.series, source, default_label=not m.label, price_cap=cap)


def provenance(source: str, scenario: str, scenario_hash: str, seed: int, months: pd.Index) -> dict[str, object]:
    """Where a compared run comes from (enough to rerun it) and the months it covers (`months`: its
    series' month labels)."""
    return {
        "source": source,
        "scenario": scenario,
        "scenario_hash": scenario_hash,
        "seed": seed,
        "months": len(months),
        "first_month": str(months[0]),
        "last_month": str(months[-1]),
    }
