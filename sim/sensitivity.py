"""Global sensitivity: which uncertain inputs (the scenario's distributions) move an indicator most.

Morris elementary effects (cheap: (D + 1) x N runs) or Sobol indices (N x (2D + 2) runs), with SALib.
All runs share one seed, so an input's effect is not confounded with a different draw of luck.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.executors import StartProgress, no_progress
from sim.limits import check_run_count
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, is_integer_field, load_scenario, path_text, with_horizon
from sim.sweep import run_points

Method = Literal["morris", "sobol"]


@dataclass
class SensitivityResult:
    method: Method
    indicator: str
    inputs: list[str]
    samples: int
    ranking: pd.DataFrame  # mineral, input, effect, spread, rank


@dataclass
class SensitivityStudy:
    """`sim sensitivity`'s result: the ranking and what it was computed from."""

    resolved: ResolvedScenario
    n: int  # trajectories (morris) or base samples (sobol)
    seed: int | None
    result: SensitivityResult


def run_count(method: Method, d: int, n: int) -> int:
    """Runs for `n` trajectories (Morris: (D + 1) x N) or base samples (Sobol, first order: N x (D + 2))."""
    return (d + 1) * n if method == "morris" else n * (d + 2)


def problem_of(resolved: ResolvedScenario) -> dict[str, Any]:
    """SALib problem from the scenario's distributions: uniform -> unif, triangular -> triang."""
    if not resolved.distributions:
        raise ScenarioError(
            "the scenario has no uncertain inputs to rank",
            field="distributions",
            allowed="give inputs as distributions, e.g. --set 'events[0].leakage={uniform: [0.05, 0.3]}'",
        )
    names, bounds, dists = [], [], []
    for path in sorted(resolved.distributions, key=path_text):
        kind, params = resolved.distributions[path]
        names.append(path_text(path))
        if kind == "uniform":
            bounds.append([params[0], params[1]]), dists.append("unif")
        else:
            low, mode, high = params
            width = high - low
            bounds.append([low, high, (mode - low) / width if width > 0 else 0.5]), dists.append("triang")
    return {"num_vars": len(names), "names": names, "bounds": bounds, "dists": dists}


def run_sensitivity(
    scenario: str | Path,
    resolved: ResolvedScenario,
    base: list[str],
    method: Method = "morris",
    n: int = 10,
    indicator: str = "cumulative_shortfall_share",
    seed: int | None = None,
    months: int | None = None,
    progress: Callable[[int], None] | None = None,
    **executor: Any,
) -> SensitivityResult:
    problem = problem_of(resolved)
    d = problem["num_vars"]
    check_run_count(
        run_count(method, d, n),
        f"--n {n} with {d} uncertain inputs",
        "Use a smaller --n, or fewer distributions.",
    )
    sample_seed = resolved.scenario.seed if seed is None else seed
    if method == "morris":
        from SALib.sample import morris as sampler

        x = sampler.sample(problem, n, num_levels=4, seed=sample_seed)
    else:
        from SALib.sample import sobol as sampler

        x = sampler.sample(problem, n, calc_second_order=False, seed=sample_seed)
    points = [
        {
            name: round(v) if is_integer_field((name.rsplit(".", 1)[-1],)) else float(v)
            for name, v in zip(problem["names"], row, strict=True)
        }
        for row in x
    ]
    summaries = run_points(scenario, base, points, seed=seed, months=months, progress=progress, **executor)
    rows = []
    for mineral in summaries[0]:
        y = np.array([float(s[mineral][indicator]) for s in summaries])
        if np.ptp(y) == 0:
            continue
        if method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, x, y, num_levels=4, seed=sample_seed)
            effect, spread = res["mu_star"], res["sigma"]
        else:
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=False, seed=sample_seed)
            effect, spread = res["ST"], res["S1"]
        order = np.argsort(-np.asarray(effect), kind="stable")
        for rank, i in enumerate(order, start=1):
            rows.append(
                {
                    "mineral": mineral,
                    "input": problem["names"][i],
                    "effect": float(effect[i]),
                    "spread": float(spread[i]),
                    "rank": rank,
                }
            )
    return SensitivityResult(method, indicator, problem["names"], len(points), pd.DataFrame(rows))


def run_sensitivity_file(
    scenario: str | Path,
    method: Method = "morris",
    n: int = 10,
    indicator: str = "cumulative_shortfall_share",
    seed: int | None = None,
    months: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    progress: StartProgress = no_progress,
    **executor: Any,
) -> SensitivityStudy:
    """`sim sensitivity`: rank the scenario file's distributions (with `--set` overrides; `months` is the
    horizon) by their effect on `indicator`."""
    base = with_horizon(overrides, months)
    resolved = load_scenario(scenario, base)
    total = run_count(method, problem_of(resolved)["num_vars"], n)
    advance = progress(f"{resolved.scenario.name}: {method}, {total} runs", total)
    result = run_sensitivity(scenario, resolved, base, method, n, indicator, seed, months, progress=advance, **executor)
    return SensitivityStudy(resolved, n, seed, result)
