"""Benchmarks: `make bench` (or `python benchmarks/run.py`). Prints medians of repeated measurements.

- model time of one china_ban run (stepping 120 months; build and summarise shown apart; no tables or
  files) and cost per agent-step
- tidy tables time, and the whole `sim run scenarios/china_ban.yaml` wall time in a subprocess
- an ensemble of --ensemble seeds (default 1,000) on all cores: local processes, then a dask LocalCluster
- scaling with synthetic worlds 1x, 10x, 100x (every mineral copied k times, with its countries'
  supply rows, plants, sectors and programmes): cost should grow linearly with world size
- `sim --help` start-up time
- the dashboard's lever-to-chart time in headless Chromium (`benchmarks/browser.py`; --lever-moves)
- with --profile N: the top N cProfile entries of one china_ban run
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
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
    for region in world["regions"].values():
        region["demand_share"] = {c: share for m, share in region["demand_share"].items() for c in names[m]}
    for region, by_mineral in world["contracts"].items():
        world["contracts"][region] = {c: shares for m, shares in by_mineral.items() for c in names[m]}
    for exporter, listed in world["sanctions"].items():
        if listed != "all":
            world["sanctions"][exporter] = [c for m in listed for c in names[m]]
    world["byproducts"] = {}
    for m, by_country in base["byproducts"].items():
        for i, name in enumerate(names[m]):
            world["byproducts"][name] = copy.deepcopy(by_country)
            for hosts in world["byproducts"][name].values():
                for host in hosts.values():
                    if host["host_mineral"] is not None:
                        host["host_mineral"] = names[host["host_mineral"]][i]  # copy i follows host copy i
    for table in ("mines", "feed_routes"):
        world[table] = {name: copy.deepcopy(rows) for m, rows in base[table].items() for name in names[m]}
    world["product_inputs"] = {  # copy i of a product is made from copy i of its inputs
        names[product][i]: {names[used][i]: t for used, t in inputs.items()}
        for product, inputs in base["product_inputs"].items()
        for i in range(k)
    }
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


def fresh(resolved):
    """The same scenario without the policy arrays its earlier runs built (see ResolvedScenario.shared)."""
    return dataclasses.replace(resolved)


def run_phases(resolved, repeat: int) -> dict[str, float]:
    """Median seconds of each phase of a run: build the model (cold: building the scenario's policy
    arrays; shared: as every later run of an ensemble, reusing them), step it to the horizon,
    summarise it."""
    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder
    from sim.results.summary import summarise

    times: dict[str, list[float]] = {"build_cold": [], "build": [], "step": [], "summarise": []}
    for _ in range(repeat):
        started = time.perf_counter()
        SupplyChainModel(fresh(resolved), recorder=Recorder)
        times["build_cold"].append(time.perf_counter() - started)
        started = time.perf_counter()
        model = SupplyChainModel(resolved, recorder=Recorder)
        built = time.perf_counter()
        model.run()
        stepped = time.perf_counter()
        summarise(model.recorder)
        times["build"].append(built - started)
        times["step"].append(stepped - built)
        times["summarise"].append(time.perf_counter() - stepped)
    return {phase: statistics.median(values) for phase, values in times.items()}


def scaling_row(resolved, k: int, repeat: int, base_cost: float | None) -> tuple[tuple[str, str], float]:
    """Synthetic world k x: a cold build once, then the median stepping time of `repeat` runs."""
    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder

    world = synthetic(resolved, k)
    started = time.perf_counter()
    built = SupplyChainModel(fresh(world), recorder=Recorder)
    build_s = time.perf_counter() - started
    size = built.capacity0.size + len(built.agents)
    steps = []
    for _ in range(repeat):
        model = SupplyChainModel(world, recorder=Recorder)
        started = time.perf_counter()
        model.run()
        steps.append(time.perf_counter() - started)
    step_s = statistics.median(steps)
    per_cell = step_s / size
    base_cost = base_cost or per_cell
    name = f"synthetic world {k}x ({len(built.minerals)} minerals, {len(built.agents)} agents; median of {repeat})"
    value = (
        f"{step_s * 1000:.0f} ms stepping ({per_cell * 1e6:.1f} us per cell+agent, "
        f"{per_cell / base_cost:.2f}x 1x's); cold build {build_s * 1000:.0f} ms"
    )
    return (name, value), base_cost


def profile_top(resolved, entries: int) -> str:
    """cProfile of one china_ban model run (build and step), top entries by own time."""
    import cProfile
    import io
    import pstats

    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder

    profiler = cProfile.Profile()
    profiler.enable()
    SupplyChainModel(resolved, recorder=Recorder).run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(entries)
    return out.getvalue()


def robust_overhead(futures: int, repeat: int) -> tuple[str, str]:
    """`sim robust` over 4 policies x N futures against N runs of each policy drawing the world's ranges
    (--uncertain ensembles): what the decision machinery adds to the runs themselves."""
    from sim.ensemble import run_ensemble
    from sim.robust import robust
    from sim.scenario.load import load_scenario
    from sim.target import parse_target
    from sim.uncertain import with_uncertain_world

    folder = SCENARIO.parent
    names = ("processing_first", "mines_first", "offtake_first", "split_portfolio")
    policies = [load_scenario(folder / f"{name}.yaml") for name in names]
    cores = os.cpu_count() or 1
    summary = run_ensemble(policies[0], 1, workers=1).outcomes[0].summary
    goal = parse_target("all.cumulative_shortfall_share<=0.01", summary)
    robust_s = median_time(lambda: robust(policies, futures, goal, workers=cores), repeat)
    drawn = [with_uncertain_world(p) for p in policies]
    runs_s = median_time(lambda: [run_ensemble(d, futures, workers=cores) for d in drawn], repeat)
    return (
        f"robust 4 policies x {futures} futures vs 4 --uncertain ensembles of {futures} ({cores} cores)",
        f"{robust_s:.1f} s vs {runs_s:.1f} s  (x{robust_s / runs_s:.2f})",
    )


def plots_ratio(sim_exe: str, pairs: int) -> dict[str, float]:
    """`sim run china_ban` with its PNGs and with --no-plots, in turn (with, without, with, ...), each a
    whole process from start-up to exit; the ratio is taken pair by pair, so a drift in the machine's speed
    moves both sides of a pair alike. One unmeasured pair first (disk caches)."""

    def wall(*extra: str) -> float:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            subprocess.run([sim_exe, "run", str(SCENARIO), "--out", out, *extra], check=True, capture_output=True)
            return time.perf_counter() - started

    wall(), wall("--no-plots")
    with_s, without_s = [], []
    for _ in range(pairs):
        with_s.append(wall())
        without_s.append(wall("--no-plots"))
    ratios = [a / b for a, b in zip(with_s, without_s, strict=True)]
    return {
        "with_s": statistics.median(with_s),
        "without_s": statistics.median(without_s),
        "ratio": statistics.median(ratios),
        "low": min(ratios),
        "high": max(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="repeats of each timing (the median is printed)")
    parser.add_argument("--ensemble", type=int, default=1000, help="seeds in the ensemble benchmark (0: skip)")
    parser.add_argument("--ensemble-repeat", type=int, default=1, help="repeats of each ensemble timing")
    parser.add_argument("--no-dask", action="store_true", help="skip the dask LocalCluster ensemble")
    parser.add_argument(
        "--futures", type=int, default=250, help="futures per policy in the robust benchmark, 4 policies (0: skip)"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the top N cProfile entries")
    parser.add_argument(
        "--lever-moves", type=int, default=20, help="dashboard lever moves timed in the browser (0: skip)"
    )
    args = parser.parse_args()

    from sim.api import simulate
    from sim.ensemble import run_ensemble
    from sim.model.model import SupplyChainModel
    from sim.results.recorder import Recorder
    from sim.scenario.load import load_scenario

    resolved = load_scenario(SCENARIO)
    simulate(resolved)  # warm caches and imports
    rows: list[tuple[str, str]] = []

    def model_only(res=resolved) -> SupplyChainModel:
        model = SupplyChainModel(res, recorder=Recorder)
        model.run()
        return model

    model = model_only()
    phases = run_phases(resolved, args.repeat)
    build_s, model_s, summarise_s = phases["build"], phases["step"], phases["summarise"]
    agent_steps = len(model.agents) * model.scenario_spec.horizon_months
    tables_s = median_time(lambda: (model.recorder.timeseries(), model.recorder.flows_frame()), args.repeat)
    rows += [
        ("china_ban model time (120 months, stepping)", f"{model_s * 1000:.1f} ms"),
        (
            "  build (cold / policies shared) / summarise",
            f"{phases['build_cold'] * 1000:.1f} ms / {build_s * 1000:.1f} ms / {summarise_s * 1000:.1f} ms",
        ),
        ("agents x months", f"{len(model.agents)} x {model.scenario_spec.horizon_months} = {agent_steps}"),
        ("cost per agent-step", f"{model_s / agent_steps * 1e6:.2f} us"),
        ("tidy tables (timeseries + flows)", f"{tables_s * 1000:.1f} ms"),
    ]

    base_cost = None
    for k in (1, 10, 100):
        row, base_cost = scaling_row(resolved, k, max(3, args.repeat // (1 if k == 1 else 2)), base_cost)
        rows.append(row)

    if args.ensemble:
        cores = os.cpu_count() or 1
        executors = ["local"] + ([] if args.no_dask else ["dask"])
        for executor in executors:
            seconds = median_time(
                lambda e=executor: run_ensemble(resolved, args.ensemble, executor=e, workers=cores),
                args.ensemble_repeat,
            )
            where = "local processes" if executor == "local" else "dask LocalCluster"
            rows.append(
                (
                    f"ensemble {args.ensemble} runs, {where} ({cores} cores)",
                    f"{seconds:.1f} s  ({args.ensemble / seconds:.0f} runs/s, "
                    f"{seconds * cores / args.ensemble * 1000:.0f} ms per run per core)",
                )
            )

    if args.futures:
        rows.append(robust_overhead(args.futures, args.ensemble_repeat))

    sim_exe = str(Path(sys.executable).with_name("sim"))
    plots = plots_ratio(sim_exe, max(5, args.repeat))
    help_s = median_time(lambda: subprocess.run([sim_exe, "--help"], check=True, capture_output=True), args.repeat)
    rows += [
        ("`sim run china_ban` wall time (plots included)", f"{plots['with_s']:.2f} s"),
        ("  the same with --no-plots", f"{plots['without_s']:.2f} s"),
        (
            "  plots / no-plots, pair by pair (target <= 1.5)",
            f"x{plots['ratio']:.2f}  (pairs x{plots['low']:.2f} to x{plots['high']:.2f})",
        ),
        ("`sim --help` start-up", f"{help_s:.2f} s"),
    ]
    if args.lever_moves:
        import browser  # beside this file

        rows.append(browser.row(args.lever_moves))

    width = max(len(name) for name, _ in rows)
    print(f"benchmarks (median of {args.repeat}; ensembles of {args.ensemble_repeat}; python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if args.profile:
        print(profile_top(resolved, args.profile))


if __name__ == "__main__":
    main()
