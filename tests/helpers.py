"""Small helpers for running scenarios in tests."""

from pathlib import Path

import numpy as np

from sim.api import RunResult, simulate
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def run(name: str, *overrides: str, months: int | None = None, seed: int | None = None) -> RunResult:
    return simulate(load_scenario(SCENARIOS / f"{name}.yaml", list(overrides)), seed=seed, months=months)


def series(result: RunResult, variable: str, mineral: str | None = None, scope: str = "us"):
    table = result.series(variable, scope)
    return table[mineral].to_numpy() if mineral else table


def recorded(result: RunResult, variable: str) -> np.ndarray:
    """The recorder's [month, mineral] array (no pandas round trip)."""
    return result.model.recorder.series[variable]
