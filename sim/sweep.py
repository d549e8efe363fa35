"""Sweeps: run a scenario at many settings of some inputs (a grid or a Latin hypercube).

Every point runs with the same seed (common random numbers), so differences between points come from
the inputs, not from luck. Points run in batches on any executor (see sim.executors).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.executors import ExecutorKind, StartProgress, map_batches, no_progress
from sim.limits import check_run_count
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, load_scenario, with_horizon
from sim.scenario.yaml_lines import parse_value

SPLIT_SWEEP = "Split the sweep into several (narrower ranges or coarser steps), or use --sample lhs --n N."


@dataclass
class Vary:
    """One input to vary: a list of values, or a numeric range (lo, hi, step or None)."""

    path: str
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None

    def count(self) -> int:
        """Values in the grid (computed without building it)."""
        if self.values is not None:
            return len(self.values)
        assert self.low is not None and self.high is not None
        if self.step is None:
            raise ScenarioError(f"--vary {self.path}: a grid needs lo:hi:step (or a list a,b,c)", field="--vary")
        return int(np.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def grid(self) -> list[Any]:
        if self.values is not None:
            return self.values
        assert self.low is not None and self.step is not None
        return [float(round(self.low + i * self.step, 12)) for i in range(self.count())]

    def scale(self, u: float) -> Any:
        """Map u in [0, 1) to this input (Latin hypercube sampling)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        return float(self.low + u * (self.high - self.low))


def parse_vary(text: str) -> Vary:
    """`path=a,b,c` (values) or `path=lo:hi:step` / `path=lo:hi` (a range)."""
    if "=" not in text:
        raise ScenarioError(
            f"--vary '{text}' is not path=values",
            field="--vary",
            allowed="path=a,b,c or path=lo:hi:step, e.g. events[0].leakage=0:0.5:0.1",
        )
    path, spec = (part.strip() for part in text.split("=", 1))
    if ":" in spec:
        parts = spec.split(":")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise ScenarioError(f"--vary {path}: '{spec}' is not lo:hi[:step] numbers", field="--vary") from None
        if not all(math.isfinite(x) for x in numbers) or not math.isfinite(numbers[-1] - numbers[0]):
            raise ScenarioError(f"--vary {path}: '{spec}' needs finite numbers", field="--vary")
        if len(numbers) not in (2, 3) or numbers[1] < numbers[0] or (len(numbers) == 3 and numbers[2] <= 0):
            raise ScenarioError(f"--vary {path}: '{spec}' needs lo <= hi and a positive step", field="--vary")
        if len(numbers) == 3:  # the grid's size, before anything is built
            check_run_count((numbers[1] - numbers[0]) / numbers[2] + 1, f"--vary {path}={spec}", SPLIT_SWEEP)
        return Vary(path, low=numbers[0], high=numbers[1], step=numbers[2] if len(numbers) == 3 else None)
    values = [parse_value(v, "--vary") for v in spec.split(",") if v.strip()]
    if not values:
        raise ScenarioError(f"--vary {path}: no values given", field="--vary")
    return Vary(path, values=values)


def grid_points(varies: list[Vary]) -> list[dict[str, Any]]:
    check_run_count(math.prod(v.count() for v in varies), "--vary grid", SPLIT_SWEEP)
    return [
        dict(zip([v.path for v in varies], combo, strict=True))
        for combo in itertools.product(*(v.grid() for v in varies))
    ]


def lhs_points(varies: list[Vary], n: int, seed: int) -> list[dict[str, Any]]:
    check_run_count(n, f"--n {n}", "Run several sweeps with different --seed.")
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(varies), seed=np.random.default_rng(seed)).random(n)
    return [{v.path: v.scale(u) for v, u in zip(varies, row, strict=True)} for row in unit]


def point_overrides(point: dict[str, Any]) -> list[str]:
    import json

    return [f"{path}={json.dumps(value)}" for path, value in point.items()]


def run_points_batch(
    points: list[dict[str, Any]], scenario: str, base: list[str], seed: int | None, months: int | None
) -> list[dict[str, dict[str, Any]]]:
    """Summaries of a batch of points (top-level, so any executor can ship it)."""
    from sim.api import simulate
    from sim.scenario.load import load_scenario

    return [
        simulate(load_scenario(scenario, [*base, *point_overrides(p)]), seed=seed, months=months).summary
        for p in points
    ]


def check_points(scenario: str | Path, base: list[str], points: list[dict[str, Any]]) -> None:
    """Validate every point before running any, so a bad value fails fast with its own message."""
    from sim.scenario.load import load_scenario

    for point in points:
        try:
            load_scenario(scenario, [*base, *point_overrides(point)])
        except ScenarioError as exc:
            raise ScenarioError(f"at {point}: {exc.message}", exc.file, exc.line, exc.field, exc.allowed) from None


def run_points(
    scenario: str | Path,
    base: list[str],
    points: list[dict[str, Any]],
    seed: int | None = None,
    months: int | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    batch_size: int = 10,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, dict[str, Any]]]:
    """Run each point (a dict of field path -> value); summaries in point order."""
    check_points(scenario, base, points)
    return map_batches(
        run_points_batch,
        points,
        str(scenario),
        base,
        seed,
        months,
        batch_size=batch_size,
        executor=executor,
        workers=workers,
        address=address,
        progress=progress,
    )


def sweep_table(points: list[dict[str, Any]], summaries: list[dict[str, dict[str, Any]]]) -> pd.DataFrame:
    """Tidy: point, one column per varied input, mineral, indicator, value."""
    rows = []
    for k, (point, summary) in enumerate(zip(points, summaries, strict=True)):
        for mineral, values in summary.items():
            for indicator, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    rows.append(
                        {"point": k, **point, "mineral": mineral, "indicator": indicator, "value": float(value)}
                    )
    return pd.DataFrame(rows)


Sample = Literal["grid", "lhs"]


@dataclass
class Sweep:
    """A finished sweep: what was varied and how, and the tidy table of indicators per point."""

    resolved: ResolvedScenario
    vary: list[str]  # the --vary texts as given
    inputs: list[str]  # the varied field paths, in --vary order
    sample: Sample
    seed: int | None
    months: int | None
    points: list[dict[str, Any]]
    table: pd.DataFrame  # sweep_table

    def per_point(self, indicator: str) -> pd.DataFrame:
        """`indicator` as a point x mineral table, only the minerals it moves for (or the first five if it
        moves for none); a point with no value (e.g. never recovered) is NaN."""
        table = self.table
        shown = table[table["indicator"] == indicator].pivot_table(index="point", columns="mineral", values="value")
        shown = shown.reindex(range(len(self.points)))
        moving = [m for m in shown.columns if shown[m].nunique(dropna=False) > 1] or list(shown.columns)[:5]
        return shown[moving]


def run_sweep(
    scenario: str | Path,
    vary: list[str],
    sample: Sample = "grid",
    n: int = 20,
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: StartProgress = no_progress,
) -> Sweep:
    """`sim sweep`: the scenario file at every point of a grid of the --vary inputs, or of a Latin
    hypercube of `n` points over them; `months` is the horizon."""
    base = with_horizon(overrides, months)
    resolved = load_scenario(scenario, base)
    varies = [parse_vary(text) for text in vary]
    base_seed = resolved.scenario.seed if seed is None else seed
    points = grid_points(varies) if sample == "grid" else lhs_points(varies, n, base_seed)
    advance = progress(f"{resolved.scenario.name}: {len(points)} points", len(points))
    summaries = run_points(
        scenario,
        base,
        points,
        seed=seed,
        months=months,
        executor=executor,
        workers=workers,
        address=address,
        progress=advance,
    )
    return Sweep(
        resolved, list(vary), [v.path for v in varies], sample, seed, months, points, sweep_table(points, summaries)
    )
