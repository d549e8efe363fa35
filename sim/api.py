"""The library entry points the CLI wraps: `sim.run(...)` returns a RunResult you can plot or save."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.model.model import SupplyChainModel
from sim.results.recorder import MINERAL_SERIES, WORLD_SERIES, Recorder
from sim.results.summary import summarise
from sim.scenario.load import ResolvedScenario, load_scenario


@dataclass
class RunResult:
    resolved: ResolvedScenario
    seed: int
    months: int
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    summary: dict[str, Any]
    draws: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    model: SupplyChainModel | None = None
    _tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.resolved.scenario.name

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
        """The table straight from the recorder's [month, mineral] array, the one the tidy table was made
        from (the same numbers, without a pass over its ~100,000 rows); None if the run kept no model."""
        if self.model is None or variable not in MINERAL_SERIES:
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
    recorder = model.recorder
    result = RunResult(
        resolved=resolved,
        seed=model.seed,
        months=model.scenario_spec.horizon_months,
        timeseries=recorder.timeseries(),
        flows=recorder.flows_frame(),
        summary=summarise(recorder),
        draws=model.draws,
        model=model,
    )
    result.timings = {
        "build_s": built - started,
        "model_s": stepped - built,
        "tables_s": time.perf_counter() - stepped,
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
