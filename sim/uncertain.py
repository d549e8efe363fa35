"""Uncertain inputs: the world data's ranges (its assumptions and behavioural parameters) and a scenario's
own distributions, drawn on request (`sim run --uncertain`) or laid out as a Latin hypercube of futures
(`sim discover`, `sim robust`).

A world range is drawn from a triangular distribution with its mode at the default figure: the default is
the best estimate, the range its doubt. Shares that must sum to one (sector shares, US import shares,
regional demand shares) are rescaled as a group after a draw, and a drawn capacity is never below output
(sim.world.coherent).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import ExecutorKind, map_batches
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, is_integer_field, path_text
from sim.scenario.yaml_lines import PathKey


@dataclass(frozen=True)
class Input:
    """One uncertain input: where it is in a scenario, its distribution, and where its range comes from."""

    path: PathKey
    kind: str  # uniform | triangular
    params: tuple[float, ...]
    integer: bool
    origin: str  # "world data" | "scenario"

    @property
    def name(self) -> str:
        return path_text(self.path)

    @property
    def low(self) -> float:
        return self.params[0]

    @property
    def high(self) -> float:
        return self.params[-1]

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map points of [0, 1) to this input through its inverse distribution (Latin hypercube)."""
        low, high = self.low, self.high
        if self.kind == "uniform":
            x = low + u * (high - low)
        else:
            mode = self.params[1]
            c = (mode - low) / (high - low)
            x = np.where(
                u < c,
                low + np.sqrt(u * (high - low) * (mode - low)),
                high - np.sqrt((1 - u) * (high - low) * (high - mode)),
            )
        return np.round(x) if self.integer else x


def uncertain_inputs(resolved: ResolvedScenario, world: bool = True) -> list[Input]:
    """The scenario's distributions and, with `world`, every world-data range the scenario does not set
    itself (a figure the scenario writes down is the analyst's choice, not drawn)."""
    inputs = [
        Input(path, kind, tuple(params), is_integer_field(path), "scenario")
        for path, (kind, params) in resolved.distributions.items()
    ]
    if world:
        from sim.world.load import world_ranges

        for span in world_ranges():
            path = ("world", *span.path)
            if path in resolved.distributions or _written(resolved.raw, path) or span.low == span.high:
                continue
            mode = min(max(span.default, span.low), span.high)
            inputs.append(Input(path, "triangular", (span.low, mode, span.high), span.integer, "world data"))
    return sorted(inputs, key=lambda i: i.name)


def chosen_inputs(inputs: list[Input], patterns: list[str] | None) -> list[Input]:
    """The inputs whose names match any of the glob patterns (all of them without patterns); the others
    stay at their default figures. A pattern that matches nothing is an error, with the names it missed."""
    if not patterns:
        return inputs
    for pattern in patterns:
        if not any(_matches(i.name, pattern) for i in inputs):
            import difflib

            close = difflib.get_close_matches(pattern, [i.name for i in inputs], n=4, cutoff=0.4)
            raise ScenarioError(
                f"'{pattern}' matches no uncertain input",
                field="--inputs",
                allowed=f"{', '.join(close) or inputs[0].name if inputs else 'none'}, ... ({len(inputs)} inputs; "
                "globs like 'world.minerals.*.demand_growth_per_yr')",
            )
    return [i for i in inputs if any(_matches(i.name, p) for p in patterns)]


def _matches(name: str, pattern: str) -> bool:
    """Glob with * and ? only: brackets are literal, as in events[0].leakage."""
    return fnmatch.fnmatchcase(name, pattern.replace("[", "[[]"))


def with_uncertain_world(resolved: ResolvedScenario) -> ResolvedScenario:
    """The scenario with the world data's ranges added to its distributions (`sim run --uncertain`): each
    run draws them, in a fixed order, from its seeded generator."""
    inputs = [i for i in uncertain_inputs(resolved) if i.origin == "world data"]
    distributions = dict(resolved.distributions)
    distributions.update({i.path: (i.kind, list(i.params)) for i in inputs})
    return dataclasses.replace(
        resolved, distributions=distributions, coherent=resolved.coherent | frozenset(i.path for i in inputs)
    )


def latin_hypercube(inputs: list[Input], n: int, seed: int) -> pd.DataFrame:
    """n futures, one column per input (named by its path), stratified in every input."""
    from scipy.stats import qmc

    if not inputs:
        return pd.DataFrame(index=range(n))
    unit = qmc.LatinHypercube(d=len(inputs), seed=np.random.default_rng(seed)).random(n)
    return pd.DataFrame({i.name: i.from_unit(unit[:, k]) for k, i in enumerate(inputs)})


def future_values(inputs: list[Input], row: pd.Series) -> dict[PathKey, float]:
    return {i.path: int(row[i.name]) if i.integer else float(row[i.name]) for i in inputs if i.name in row.index}


def run_futures(
    policies: list[ResolvedScenario],
    tasks: list[tuple[int, dict[PathKey, float], int]],
    months: int | None = None,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, dict[str, Any]]]:
    """Summaries of (policy index, input values, seed) tasks, in task order, on any executor."""
    return map_batches(
        run_futures_batch,
        tasks,
        policies,
        months,
        batch_size=10,
        executor=executor,
        workers=workers,
        address=address,
        progress=progress,
    )


def run_futures_batch(
    tasks: list[tuple[int, dict[PathKey, float], int]], policies: list[ResolvedScenario], months: int | None
) -> list[dict[str, dict[str, Any]]]:
    """Run a batch of futures in this process (top level, so any executor can ship it)."""
    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder
    from sim.results.summary import summarise

    out = []
    for policy, values, seed in tasks:
        model = SupplyChainModel(policies[policy].fixed(values), seed=seed, months=months, recorder=Recorder)
        model.run()
        out.append(summarise(model.recorder))
    return out


def _written(raw: dict[str, Any], path: PathKey) -> bool:
    node: Any = raw
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
