"""Benchmarks: `python benchmarks/run.py` (or `make bench`). Prints medians of repeated measurements.

- model time of one china_ban run (model built and stepped, no tables or files)
- cost per agent-step (model time / (agents x months))
- tables time (tidy frames and summary)
- whole `sim run scenarios/china_ban.yaml` wall time, in a subprocess, plots included
- `sim --help` start-up time
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from sim.api import simulate
    from sim.model.model import SupplyChainModel
    from sim.scenario.load import load_scenario

    resolved = load_scenario(SCENARIO)
    simulate(resolved)  # warm caches and imports

    def model_only() -> SupplyChainModel:
        model = SupplyChainModel(resolved)
        model.run()
        return model

    model = model_only()
    model_s = median_time(model_only, args.repeat)
    agent_steps = len(model.agents) * model.scenario_spec.horizon_months
    tables_s = median_time(lambda: (model.recorder.timeseries(), model.recorder.flows_frame()), args.repeat)

    sim_exe = str(Path(sys.executable).with_name("sim"))
    with tempfile.TemporaryDirectory() as out:
        cli_s = median_time(
            lambda: subprocess.run([sim_exe, "run", str(SCENARIO), "--out", out], check=True, capture_output=True),
            max(3, args.repeat // 2),
        )
    help_s = median_time(lambda: subprocess.run([sim_exe, "--help"], check=True, capture_output=True), args.repeat)

    rows = [
        ("china_ban model time (120 months)", f"{model_s * 1000:.1f} ms"),
        ("agents x months", f"{len(model.agents)} x {model.scenario_spec.horizon_months} = {agent_steps}"),
        ("cost per agent-step", f"{model_s / agent_steps * 1e6:.1f} us"),
        ("tidy tables (timeseries + flows)", f"{tables_s * 1000:.1f} ms"),
        ("`sim run china_ban` wall time", f"{cli_s:.2f} s"),
        ("`sim --help` start-up", f"{help_s:.2f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"benchmarks (median of {args.repeat}; python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
