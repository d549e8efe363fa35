"""The benchmarks keep working: their synthetic worlds stay valid as the world data grow new tables (they
broke silently twice), and the browser benchmark still drives the dashboard."""

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

from sim.api import simulate
from sim.scenario.load import load_scenario

from .helpers import ROOT, SCENARIOS, require_chromium


def test_the_synthetic_world_copies_every_mineral_and_each_copy_runs_like_the_original():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    resolved = load_scenario(SCENARIOS / "china_ban.yaml")
    doubled = bench.synthetic(resolved, 2)
    assert set(doubled.world.minerals) == {f"{m}_{i}" for m in resolved.world.minerals for i in range(2)}
    assert set(doubled.world.product_inputs) == {f"{p}_{i}" for p in resolved.world.product_inputs for i in range(2)}
    one, two = simulate(resolved, months=6), simulate(doubled, months=6)
    for mineral in resolved.world.minerals:
        for i in range(2):
            a = one.model.recorder.series["world_output"][:, one.model.minerals.index(mineral)]
            b = two.model.recorder.series["world_output"][:, two.model.minerals.index(f"{mineral}_{i}")]
            assert np.allclose(a, b, rtol=1e-9), mineral


@pytest.mark.slow
def test_the_lever_to_chart_benchmark_runs_and_says_what_it_measured():
    """benchmarks/browser.py still drives the dashboard (a change to the page must not break it silently);
    its figures are not checked here: speed is the benchmark's to report, not a test's to assert."""
    require_chromium()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "browser.py"), "--moves", "2", "--each"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    assert re.match(r"  move  1, Leakage    0: +\d+ ms  \(server +\d+ ms, busy x\d\.\d\d\)$", said[0]), said
    assert said[1].startswith("  move  2, Leakage  0.5:")
    summary = r"dashboard lever to chart, 2 moves \(target <= 500 ms\): median \d+ ms  \(\d+ to \d+; [012] of 2 within"
    assert re.match(summary, said[2]), said
