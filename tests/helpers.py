"""Small helpers for running scenarios in tests."""

import signal
from contextlib import contextmanager
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


@contextmanager
def no_hang(seconds: int = 60):
    """Fail instead of hanging forever (a guard, not a timing test: what it guards takes well under a
    second)."""

    def stop(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
