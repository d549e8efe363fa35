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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.ensemble import child_seeds
from sim.executors import ExecutorKind, StartProgress, no_progress
from sim.limits import check_run_count
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, load_scenario, with_horizon
from sim.target import Target, parse_target
from sim.uncertain import Input, chosen_inputs, future_values, latin_hypercube, run_futures, uncertain_inputs

MIN_FUTURES = 20  # below this PRIM's peeling (5 % at a time, 5 % least mass) has nothing to work with
WEAK_LIFT = 1.25  # boxes whose density is below this multiple of the share of all futures on target are weak


@dataclass
class Discovery:
    inputs: list[Input]
    design: pd.DataFrame  # one row per future: the inputs, then "target" (bool)
    boxes: pd.DataFrame  # box, input, low, high, full_low, full_high, coverage, density, mass
    trajectories: list[pd.DataFrame]  # per box: coverage, density, mass, res_dim; `chosen` marks the point
    target: Target
    summaries: list[dict[str, dict[str, Any]]]
    no_box: str  # why no box was found ("" when there are boxes)

    @property
    def base_rate(self) -> float:
        return float(self.design["target"].mean()) if len(self.design) else 0.0


@dataclass
class DiscoveryStudy:
    """`sim discover`'s result: the boxes found and what they were searched for in."""

    resolved: ResolvedScenario
    runs: int
    seed: int  # the seed used (the scenario's when none was given)
    months: int | None
    density: float
    found: Discovery

    @property
    def note(self) -> str:
        """How to read the boxes (or why there is none), in a sentence or two."""
        if not len(self.found.boxes):
            return self.found.no_box
        note = "Boxes restrict only the inputs listed; every other input may take any sampled value."
        if self.found.boxes["lift"].max() < WEAK_LIFT:
            note += (
                f" Read them as weak: their density is barely above the share of all futures on target (lift under "
                f"{WEAK_LIFT}), so no combination of inputs stands out."
            )
        return note


def discover_file(
    scenario: str | Path,
    target: str,
    runs: int = 500,
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    density: float = 0.8,
    max_boxes: int = 3,
    only: list[str] | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: StartProgress = no_progress,
) -> DiscoveryStudy:
    """`sim discover`: load the scenario file (`--set` overrides; `months` is the horizon), read the target
    (its syntax checked against a one-month run's summary), then discover."""
    from sim.api import simulate

    resolved = load_scenario(scenario, with_horizon(overrides, months))
    goal = parse_target(target, simulate(resolved, months=1).summary)
    advance = progress(f"{resolved.scenario.name}: {runs} futures", runs)
    found = discover(
        resolved,
        goal,
        runs,
        seed=seed,
        months=months,
        density=density,
        max_boxes=max_boxes,
        only=only,
        executor=executor,
        workers=workers,
        address=address,
        progress=advance,
    )
    return DiscoveryStudy(resolved, runs, resolved.scenario.seed if seed is None else seed, months, density, found)


BOX_COLUMNS = ("box", "input", "low", "high", "sampled range", "qp", "coverage", "density", "mass", "lift")


def box_cells(row: Any) -> list[str]:
    """One row of `Discovery.boxes` as the text of BOX_COLUMNS (the report page and the terminal table)."""
    return [
        str(int(row.box)),
        row.input,
        f"{row.low:.4g}",
        f"{row.high:.4g}",
        f"{row.full_low:.4g} to {row.full_high:.4g}",
        f"{row.qp:.2g}",
        f"{100 * row.coverage:.0f}%",
        f"{100 * row.density:.0f}%",
        f"{100 * row.mass:.0f}%",
        f"{row.lift:.2f}",
    ]


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
    if runs < MIN_FUTURES:
        raise ScenarioError(f"{runs} futures are too few for PRIM", field="--runs", allowed=f"{MIN_FUTURES} or more")
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
    boxes, trajectories, why = find_boxes(
        design[[i.name for i in inputs]], design["target"].to_numpy(), density, max_boxes
    )
    return Discovery(inputs, design, boxes, trajectories, target, summaries, why)


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
) -> tuple[pd.DataFrame, list[pd.DataFrame], str]:
    """PRIM boxes (EMA Workbench) of the inputs `x` where the boolean `y` holds, at most `max_boxes`, each
    at least `density` dense once its insignificant restrictions are lifted. Returns the boxes' rows, each
    box's peeling trajectory (`chosen` marks the point reported) and, when there is no box, why not."""
    columns = ["box", "input", "low", "high", "full_low", "full_high", "qp", "coverage", "density", "mass", "lift"]
    rows: list[list[Any]] = []
    trajectories: list[pd.DataFrame] = []
    if y.sum() == 0 or y.all():
        why = "the target held in no future" if y.sum() == 0 else "the target held in every future"
        return pd.DataFrame(rows, columns=columns), trajectories, f"No box: {why}, so there is nothing to separate."
    best, whole = 0.0, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns about optional parallel back ends
        from ema_workbench.analysis import prim
        from ema_workbench.util import ema_logging

        ema_logging.LOG_FORMAT = "%(message)s"
        finder = prim.Prim(x.reset_index(drop=True), y.astype(int), peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
        for number in range(1, max_boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            peeled = box.peeling_trajectory
            dense = peeled[peeled["density"] >= density]
            chosen = int(dense["coverage"].idxmax() if len(dense) else peeled["density"].idxmax())
            box.select(chosen)
            point = _drop_insignificant(box, chosen)
            stats = box.peeling_trajectory.loc[point]
            best = max(best, float(stats.density))
            if point == 0 and number == 1 and stats.density >= density:
                whole = True  # the target is as dense everywhere as asked: no box says more than the whole
            if point == 0 or stats.density < density or not box.p_values[point]:
                break  # no restriction left, or not dense enough: later boxes would be weaker still
            trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
            trajectory["chosen"] = trajectory.index == point
            trajectories.append(trajectory)
            limits, full = box.box_lims[point], box.box_lims[0]
            for name, qp in box.p_values[point].items():
                low, high = float(limits.loc[0, name]), float(limits.loc[1, name])
                full_low, full_high = float(full.loc[0, name]), float(full.loc[1, name])
                significance = min(v for v in qp if v >= 0)
                lift = stats.density / y.mean()
                rows.append(
                    [
                        number,
                        name,
                        low,
                        high,
                        full_low,
                        full_high,
                        significance,
                        *stats[["coverage", "density", "mass"]],
                        lift,
                    ]
                )
    if rows:
        why = ""
    elif whole:
        why = (
            f"No box: the target held in {100 * y.mean():.0f}% of all futures, already at least the "
            f"{100 * density:.0f}% density asked; ask a higher --density to find where it is denser."
        )
    else:
        why = (
            f"No box: no region of the inputs is at least {100 * density:.0f}% on target once the restrictions that "
            f"are not significant (quasi-p > 0.05) are lifted (the best reached {100 * best:.0f}%, against "
            f"{100 * y.mean():.0f}% over all futures). Run more futures, narrow --inputs, or lower --density."
        )
    return pd.DataFrame(rows, columns=columns), trajectories, why


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
