"""Scenario discovery: which combinations of uncertain inputs make a target outcome happen?

The scenario's uncertain inputs (sim.uncertain) are laid out as a Latin hypercube, each future is run, the
target is evaluated on each summary, and PRIM (the Patient Rule Induction Method, Friedman and Fisher
1999, as implemented in the EMA Workbench) peels the input space down to boxes where the target holds
much more often than overall. For each box we choose the point on its peeling trajectory with the
highest coverage among those with density at least `density`, then lift the restrictions that are not
significant (quasi-p value above 0.05: with hundreds of inputs some are restricted by chance); the
trajectory is kept for the trade-off plot.

coverage: share of all futures where the target holds that fall in the box.
density: share of futures in the box where the target holds.
mass: share of all futures in the box.
lift: density over the share of all futures on target (1: the box tells nothing).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.ensemble import child_seeds
from sim.executors import ExecutorKind
from sim.limits import check_run_count
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario
from sim.target import Target
from sim.uncertain import Input, chosen_inputs, future_values, latin_hypercube, run_futures, uncertain_inputs


@dataclass
class Discovery:
    inputs: list[Input]
    design: pd.DataFrame  # one row per future: the inputs, then "target" (bool)
    boxes: pd.DataFrame  # box, input, low, high, full_low, full_high, coverage, density, mass
    trajectories: list[pd.DataFrame]  # per box: coverage, density, mass, res_dim; `chosen` marks the point
    target: Target
    summaries: list[dict[str, dict[str, Any]]]

    @property
    def base_rate(self) -> float:
        return float(self.design["target"].mean()) if len(self.design) else 0.0


def discover(
    resolved: ResolvedScenario,
    target: Target,
    runs: int,
    seed: int | None = None,
    months: int | None = None,
    density: float = 0.8,
    max_boxes: int = 3,
    only: list[str] | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Discovery:
    check_run_count(runs, f"--runs {runs}", "Use fewer futures, or run discover on narrower ranges.")
    require_prim()
    inputs = chosen_inputs(uncertain_inputs(resolved), only)
    if not inputs:
        raise ScenarioError("the scenario has no uncertain inputs to explore", field="discover")
    seed = resolved.scenario.seed if seed is None else seed
    design = latin_hypercube(inputs, runs, seed)
    seeds = child_seeds(seed, runs)
    tasks = [(0, future_values(inputs, row), seeds[k]) for k, row in design.iterrows()]
    summaries = run_futures(
        [resolved], tasks, months, executor=executor, workers=workers, address=address, progress=progress
    )
    design["target"] = [target.holds(s) for s in summaries]
    boxes, trajectories = find_boxes(design[[i.name for i in inputs]], design["target"].to_numpy(), density, max_boxes)
    return Discovery(inputs, design, boxes, trajectories, target, summaries)


def require_prim() -> None:
    """Fail before any run if the EMA Workbench (an optional dependency) is missing."""
    import importlib.util

    if importlib.util.find_spec("ema_workbench") is None:
        raise ScenarioError(
            "sim discover needs the EMA Workbench's PRIM: pip install 'critical-minerals-sim[decide]'",
            field="discover",
        )


def find_boxes(
    x: pd.DataFrame, y: np.ndarray, density: float = 0.8, max_boxes: int = 3
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """PRIM boxes (EMA Workbench) of the inputs `x` where the boolean `y` holds; at most `max_boxes`."""
    columns = ["box", "input", "low", "high", "full_low", "full_high", "qp", "coverage", "density", "mass", "lift"]
    if y.sum() == 0 or y.all():
        return pd.DataFrame(columns=columns), []  # nothing to separate: the target never or always holds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns about optional parallel back ends
        from ema_workbench.analysis import prim
        from ema_workbench.util import ema_logging

        ema_logging.LOG_FORMAT = "%(message)s"
        finder = prim.Prim(x.reset_index(drop=True), y.astype(int), peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
        rows, trajectories = [], []
        for number in range(1, max_boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
            dense = trajectory[trajectory["density"] >= density]
            chosen = int(dense["coverage"].idxmax() if len(dense) else trajectory["density"].idxmax())
            if chosen == 0 and number > 1:
                break  # the next box is the whole space: nothing more to find
            box.select(chosen)
            point = _drop_insignificant(box, chosen)
            stats = box.peeling_trajectory.loc[point]
            if number > 1 and stats.density < density:
                break  # what is left of the target futures forms no dense box
            trajectory["chosen"] = trajectory.index == chosen
            trajectories.append(trajectory)
            limits, full = box.box_lims[point], box.box_lims[0]
            for name, qp in box.p_values[point].items():
                low, high = float(limits.loc[0, name]), float(limits.loc[1, name])
                full_low, full_high = float(full.loc[0, name]), float(full.loc[1, name])
                significance = min(v for v in qp if v >= 0)
                rows.append(
                    [
                        number,
                        name,
                        low,
                        high,
                        full_low,
                        full_high,
                        significance,
                        stats.coverage,
                        stats.density,
                        stats.mass,
                        stats.density / y.mean(),
                    ]
                )
            if stats.density < density:
                break  # the best box falls short of the density asked for: later boxes would be weaker still
    return pd.DataFrame(rows, columns=columns), trajectories


def _drop_insignificant(box: Any, point: int, alpha: float = 0.05) -> int:
    """Drop, one at a time (the weakest first), the restrictions whose quasi-p value (EMA Workbench: the
    chance of the box's density with that restriction lifted, under a binomial test) exceeds `alpha`: with
    hundreds of inputs, PRIM also restricts inputs by chance. Returns the trajectory point of the result."""
    for _ in range(len(box.p_values[point])):
        weakest = max(
            ((min(v for v in qp if v >= 0), name) for name, qp in box.p_values[point].items()), default=(0.0, "")
        )
        if weakest[0] <= alpha:
            break
        box.drop_restriction(weakest[1])
        point = len(box.peeling_trajectory) - 1
    return point
