"""The benchmarks' synthetic worlds stay valid as the world data grow new tables (they broke silently twice)."""

import importlib.util

import numpy as np

from sim.api import simulate
from sim.scenario.load import load_scenario

from .helpers import ROOT, SCENARIOS


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
