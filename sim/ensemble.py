"""Many runs of one scenario: Monte Carlo over seeds (and over the scenario's distributions).

Child seeds come from `numpy.random.SeedSequence(seed).spawn(n)`, so run k has the same seed whatever
the executor, the number of workers or the batch size. Runs are batched (about ten a task) so that
scheduling does not dominate short runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import ExecutorKind, StartProgress, map_batches, no_progress
from sim.limits import check_run_count
from sim.scenario.load import ResolvedScenario
from sim.scenario.schema import month_label

BAND_SERIES = (
    "shortfall_share",
    "capacity_gap",
    "price_outside_ratio",
    "price_inside_ratio",
    "price_us_ratio",
    "import_reliance",
)
QUANTILES = {"p5": 5, "p50": 50, "p95": 95}


def child_seeds(seed: int, n: int) -> list[int]:
    """n independent 63-bit seeds derived from one."""
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in np.random.SeedSequence(seed).spawn(n)]


@dataclass
class RunOutcome:
    seed: int
    summary: dict[str, dict[str, Any]]
    draws: dict[str, float]
    series: dict[str, np.ndarray]  # name -> [month, mineral]


def run_batch(seeds: list[int], resolved: ResolvedScenario, months: int | None) -> list[RunOutcome]:
    """Run a batch of seeds in this process (a top-level function, so any executor can ship it)."""
    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder
    from sim.results.summary import summarise

    outcomes = []
    for seed in seeds:
        model = SupplyChainModel(resolved, seed=seed, months=months, recorder=Recorder)
        model.run()
        series = {name: model.recorder.series[name].copy() for name in BAND_SERIES}
        outcomes.append(RunOutcome(seed, summarise(model.recorder), model.draws, series))
    return outcomes


@dataclass
class EnsembleResult:
    resolved: ResolvedScenario
    seed: int
    months: int
    minerals: list[str]
    outcomes: list[RunOutcome]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.resolved.scenario.name

    def indicators(self) -> pd.DataFrame:
        """One row per run, mineral and indicator: run, seed, mineral, indicator, value."""
        rows = [
            (k, o.seed, mineral, indicator, float(value))
            for k, o in enumerate(self.outcomes)
            for mineral, values in o.summary.items()
            for indicator, value in values.items()
            if isinstance(value, int | float) and value is not None
        ]
        return pd.DataFrame(rows, columns=["run", "seed", "mineral", "indicator", "value"])

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """mineral -> indicator -> {p5, p50, p95, mean} across runs."""
        table = self.indicators()
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (mineral, indicator), values in table.groupby(["mineral", "indicator"], sort=False)["value"]:
            v = values.to_numpy()
            stats = {name: float(np.percentile(v, q)) for name, q in QUANTILES.items()}
            stats["mean"] = float(v.mean())
            out.setdefault(mineral, {})[indicator] = stats
        return out

    def bands(self) -> pd.DataFrame:
        """Tidy percentiles over runs, each month: month, mineral, variable, p5, p50, p95."""
        start = self.resolved.scenario.start
        months = np.array([month_label(start, t) for t in range(self.months)], dtype=object)
        frames = []
        for name in BAND_SERIES:
            stack = np.stack([o.series[name] for o in self.outcomes])  # [run, month, mineral]
            frame = pd.DataFrame(
                {
                    "month": np.repeat(months, len(self.minerals)),
                    "mineral": np.tile(np.array(self.minerals, dtype=object), self.months),
                    "variable": name,
                }
            )
            for label, q in QUANTILES.items():
                frame[label] = np.percentile(stack, q, axis=0).reshape(-1)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def run_ensemble(
    resolved: ResolvedScenario,
    runs: int,
    seed: int | None = None,
    months: int | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    batch_size: int = 10,
    progress: Callable[[int], None] | None = None,
) -> EnsembleResult:
    """Run `runs` seeds of a scenario; `progress(n)` is called as each batch of n runs finishes."""

    check_run_count(
        runs, f"--runs {runs}", "Run several ensembles with different --seed and compare them (sim compare A B)."
    )
    started = time.perf_counter()
    seed = resolved.scenario.seed if seed is None else seed
    outcomes = map_batches(
        run_batch,
        child_seeds(seed, runs),
        resolved,
        months,
        batch_size=batch_size,
        executor=executor,
        workers=workers,
        address=address,
        progress=progress,
    )
    horizon = months or resolved.scenario.horizon_months
    minerals = list(resolved.world.minerals)
    return EnsembleResult(resolved, seed, horizon, minerals, outcomes, {"wall_s": time.perf_counter() - started})


def run_ensemble_file(
    scenario: str | Path,
    runs: int,
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    uncertain: bool = False,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: StartProgress = no_progress,
) -> EnsembleResult:
    """`sim run --runs N`: load the scenario file as one run would (sim.api.load_for_run), then run_ensemble."""
    from sim.api import load_for_run

    resolved = load_for_run(scenario, overrides, months, uncertain)
    advance = progress(f"{resolved.scenario.name}: {runs} runs ({executor})", runs)
    return run_ensemble(
        resolved, runs, seed=seed, months=months, executor=executor, workers=workers, address=address, progress=advance
    )
