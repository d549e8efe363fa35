"""Benchmarks: `make bench` (or `python benchmarks/run.py`). Prints medians of repeated measurements.

- model time of one china_ban run (built and stepped; no tables or files) and cost per agent-step
- tidy tables time, and the whole `sim run scenarios/china_ban.yaml` wall time in a subprocess
- an ensemble of --ensemble seeds (default 1,000) on all cores: local processes, then a dask LocalCluster
- scaling with synthetic worlds 1x, 10x, 100x (every mineral copied k times, with its countries'
  supply rows, plants, sectors and programmes): cost should grow linearly with world size
- `sim --help` start-up time
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "china_ban.yaml"


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def synthetic(resolved, k: int):
    """The china_ban scenario in a world with every mineral copied k times (k=1: unchanged)."""
    from sim.scenario.load import ResolvedScenario
    from sim.world.schema import World

    if k == 1:
        return resolved
    base = resolved.world.model_dump()
    world = copy.deepcopy(base)
    world["minerals"], world["sectors"], world["plants"] = {}, {}, {}
    for country in world["supply"]:
        world["supply"][country] = {}
    names = {m: [f"{m}_{i}" for i in range(k)] for m in base["minerals"]}
    for m, copies in names.items():
        for name in copies:
            world["minerals"][name] = base["minerals"][m]
            world["sectors"][name] = base["sectors"][m]
            for country, rows in base["supply"].items():
                if m in rows:
                    world["supply"][country][name] = rows[m]
            for plant, row in base["plants"].items():
                if row["mineral"] == m:
                    world["plants"][f"{plant}_{name}"] = {**row, "mineral": name}
    for prog in world["programmes"].values():
        if prog["minerals"] != "all":
            prog["minerals"] = [c for m in prog["minerals"] for c in names[m]]
    events = []
    for event in resolved.scenario.events:
        event = event.model_copy(deep=True)
        if hasattr(event, "minerals") and isinstance(event.minerals, list):
            event.minerals = [c for m in event.minerals for c in names[m]]
        events.append(event)
    scenario = resolved.scenario.model_copy(update={"events": events})
    return ResolvedScenario(scenario, World.model_validate(world), {}, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ensemble", type=int, default=1000, help="seeds in the ensemble benchmark (0: skip)")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask LocalCluster ensemble")
    args = parser.parse_args()

    from sim.api import simulate
    from sim.ensemble import run_ensemble
    from sim.model.model import SupplyChainModel
    from sim.scenario.load import load_scenario

    resolved = load_scenario(SCENARIO)
    simulate(resolved)  # warm caches and imports
    rows: list[tuple[str, str]] = []

    def model_only(res=resolved) -> SupplyChainModel:
        model = SupplyChainModel(res)
        model.run()
        return model

    model = model_only()
    model_s = median_time(model_only, args.repeat)
    agent_steps = len(model.agents) * model.scenario_spec.horizon_months
    tables_s = median_time(lambda: (model.recorder.timeseries(), model.recorder.flows_frame()), args.repeat)
    rows += [
        ("china_ban model time (120 months)", f"{model_s * 1000:.1f} ms"),
        ("agents x months", f"{len(model.agents)} x {model.scenario_spec.horizon_months} = {agent_steps}"),
        ("cost per agent-step", f"{model_s / agent_steps * 1e6:.2f} us"),
        ("tidy tables (timeseries + flows)", f"{tables_s * 1000:.1f} ms"),
    ]

    for k in (1, 10, 100):
        world = synthetic(resolved, k)
        built = SupplyChainModel(world)
        size = built.capacity0.size + len(built.agents)
        seconds = median_time(
            lambda w=world: model_only(w), max(1, args.repeat // (1 if k == 1 else 2 if k == 10 else 5))
        )
        rows.append(
            (
                f"synthetic world {k}x ({len(built.minerals)} minerals, {len(built.agents)} agents)",
                f"{seconds * 1000:.0f} ms  ({seconds / size * 1e6:.1f} us per cell+agent)",
            )
        )

    if args.ensemble:
        cores = os.cpu_count() or 1
        started = time.perf_counter()
        run_ensemble(resolved, args.ensemble, workers=cores)
        rows.append(
            (
                f"ensemble {args.ensemble} runs, local processes ({cores} cores)",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        if not args.no_dask:
            started = time.perf_counter()
            run_ensemble(resolved, args.ensemble, executor="dask", workers=cores)
            rows.append(
                (
                    f"ensemble {args.ensemble} runs, dask LocalCluster ({cores} workers)",
                    f"{time.perf_counter() - started:.1f} s",
                )
            )

    sim_exe = str(Path(sys.executable).with_name("sim"))
    with tempfile.TemporaryDirectory() as out:
        cli_s = median_time(
            lambda: subprocess.run([sim_exe, "run", str(SCENARIO), "--out", out], check=True, capture_output=True),
            max(3, args.repeat // 2),
        )
    help_s = median_time(lambda: subprocess.run([sim_exe, "--help"], check=True, capture_output=True), args.repeat)
    rows += [
        ("`sim run china_ban` wall time (plots included)", f"{cli_s:.2f} s"),
        ("`sim --help` start-up", f"{help_s:.2f} s"),
    ]

    width = max(len(name) for name, _ in rows)
    print(f"benchmarks (median of {args.repeat}; python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
