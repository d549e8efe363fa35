"""Robust decisions (RAND's Robust Decision Making): run every policy over the same sampled futures and
ask which holds up, not which is best in one future.

Every policy meets the same N futures: the same Latin-hypercube values of every uncertain input they
share, and the same seed in future k. Per policy we report the share of futures that meet a threshold,
its regret in each future (its outcome less the best policy's in that future) as a median and 90th
percentile, and its cost (funding committed). The policy with the least maximum regret is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.ensemble import child_seeds
from sim.executors import ExecutorKind, StartProgress, no_progress
from sim.limits import check_run_count
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, load_scenario, with_horizon
from sim.target import Metric, Target, parse_metric, parse_target
from sim.uncertain import Input, chosen_inputs, future_values, latin_hypercube, run_futures, uncertain_inputs

SHORTFALL = Metric("cumulative_shortfall_share")  # at the worst mineral


@dataclass
class RobustResult:
    policies: list[str]
    inputs: list[Input]
    design: pd.DataFrame  # one row per future
    outcomes: pd.DataFrame  # policy, future, metric, regret, cost_usd, meets
    table: pd.DataFrame  # one row per policy
    metric: Metric
    threshold: Target

    @property
    def minimax_policy(self) -> str:
        """The policy with the least maximum regret (the first listed of a tie)."""
        return self.tied_minimax[0]

    @property
    def tied_minimax(self) -> list[str]:
        """Every policy whose maximum regret is the least (within 1e-12)."""
        least = self.table["regret_max"].min()
        return [str(p) for p in self.table.loc[self.table["regret_max"] <= least + 1e-12, "policy"]]


@dataclass
class RobustStudy:
    """`sim robust`'s result: the policies as loaded and how they fared."""

    policies: list[ResolvedScenario]
    futures: int
    seed: int  # the seed used (the first policy's when none was given)
    months: int | None
    result: RobustResult


def robust_files(
    policies: list[str | Path],
    futures: int = 200,
    threshold: str = "all.cumulative_shortfall_share<=0.01",
    metric: str = "cumulative_shortfall_share",
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    only: list[str] | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: StartProgress = no_progress,
) -> RobustStudy:
    """`sim robust`: load each policy file (`--set` overrides; `months` is the horizon), read the threshold
    and the metric (checked against a one-month run's summary), then run robust."""
    from sim.api import simulate

    loaded = [load_scenario(p, with_horizon(overrides, months)) for p in policies]
    sample = simulate(loaded[0], months=1).summary
    goal = parse_target(threshold, sample, option="--threshold")
    outcome = parse_metric(metric, sample)
    advance = progress(f"{len(loaded)} policies x {futures} futures", futures * len(loaded))
    result = robust(
        loaded,
        futures,
        goal,
        outcome,
        seed=seed,
        months=months,
        only=only,
        executor=executor,
        workers=workers,
        address=address,
        progress=advance,
    )
    return RobustStudy(loaded, futures, loaded[0].scenario.seed if seed is None else seed, months, result)


def robust(
    policies: list[ResolvedScenario],
    futures: int,
    threshold: Target,
    metric: Metric = SHORTFALL,
    seed: int | None = None,
    months: int | None = None,
    only: list[str] | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RobustResult:
    """Run each policy over the same `futures` futures; `metric` is the outcome (lower is better). The
    policies must share a calendar and minerals. `only`: glob patterns of the inputs to vary (default all)."""
    if not policies:
        raise ScenarioError("no policies given", field="robust", allowed="two or more policy scenario files")
    names = [p.scenario.name for p in policies]
    calendars = {(p.scenario.start, p.scenario.horizon_months if months is None else months) for p in policies}
    if len(calendars) > 1:
        shown = ", ".join(f"{p.scenario.name} {p.scenario.start} {p.scenario.horizon_months} months" for p in policies)
        raise ScenarioError(
            f"the policies run on different calendars ({shown})",
            field="robust",
            allowed="policies with the same start and horizon (or give --months)",
        )
    if len({tuple(p.world.minerals) for p in policies}) > 1:
        raise ScenarioError("the policies cover different minerals", field="robust")
    if len(set(names)) < len(names):
        raise ScenarioError(f"two policies share a name ({', '.join(names)})", field="robust")
    check_run_count(futures * len(policies), f"--futures {futures} x {len(policies)} policies", "Use fewer futures.")
    own = [uncertain_inputs(p) for p in policies]
    everything = sorted({i.name: i for group in own for i in group}.values(), key=lambda i: i.name)
    inputs = chosen_inputs(everything, only)
    names_in = {i.name for i in inputs}
    per_policy = [[i for i in group if i.name in names_in] for group in own]
    seed = policies[0].scenario.seed if seed is None else seed
    design = latin_hypercube(inputs, futures, seed)
    seeds = child_seeds(seed, futures)
    tasks = [
        (k, future_values(varied, row), seeds[f])
        for k, varied in enumerate(per_policy)
        for f, (_, row) in enumerate(design.iterrows())
    ]
    summaries = run_futures(
        policies, tasks, months, executor=executor, workers=workers, address=address, progress=progress
    )
    rows = []
    for t, ((k, _, _), summary) in enumerate(zip(tasks, summaries, strict=True)):
        f = t % futures  # tasks run policy by policy, each over the futures in order
        cost = sum(float(row.get("funding_committed_usd") or 0.0) for row in summary.values())
        outcome = {"metric": metric.value(summary), "cost_usd": cost, "meets": threshold.holds(summary)}
        rows.append({"policy": names[k], "future": f, **outcome})
    outcomes = pd.DataFrame(rows)
    best = outcomes.groupby("future")["metric"].transform("min")
    outcomes["regret"] = outcomes["metric"] - best
    table = pd.DataFrame(
        [
            {
                "policy": name,
                "meets_share": float(group["meets"].mean()),
                "metric_median": float(group["metric"].median()),
                "regret_median": float(group["regret"].median()),
                "regret_p90": float(np.percentile(group["regret"], 90)),
                "regret_max": float(group["regret"].max()),
                "best_share": float((group["regret"] <= 1e-12).mean()),
                "cost_usd_median": float(group["cost_usd"].median()),
            }
            for name, group in outcomes.groupby("policy", sort=False)
        ]
    )
    return RobustResult(names, inputs, design, outcomes, table, metric, threshold)
