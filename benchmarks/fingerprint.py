"""Fingerprint every output a speed-up must leave alone, to check it did.

    python benchmarks/fingerprint.py --out before.json     # before the change
    python benchmarks/fingerprint.py --compare before.json # after it: exit 1 if any output moved

It hashes, for every scenario in scenarios/: the summary, the timeseries and flows tables (values,
columns and dtypes) and the recorder's raw arrays; three china_ban variants that take other branches
(priority rating and stockpile release off; standing programmes off; distributions drawn); a 20-run
ensemble and a 12-run ensemble with distributions (indicators, bands); and the synthetic 10x world of
the benchmarks. A speed-up keeps every hash. Compare on one machine: numpy's exp, log and power may
round differently on another CPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHINA_BAN = ROOT / "scenarios" / "china_ban.yaml"
VARIANTS = {
    "no_priority_no_release": ["policies.priority_rating=false", "policies.stockpile_release_in_shortfall=false"],
    "no_standing_funders": ["policies.funders_respond=false"],
    "uncertain": [
        "events[0].leakage={uniform: [0.0, 0.4]}",
        "world.market.contract_share={triangular: [0.3, 0.5, 0.9]}",
    ],
}


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:16]


def frame_digest(frame) -> str:
    import pandas as pd

    rows = pd.util.hash_pandas_object(frame, index=True).values.tobytes()
    return digest(rows, repr(list(frame.columns)).encode(), repr([str(d) for d in frame.dtypes]).encode())


def json_digest(value) -> str:
    return digest(json.dumps(value, sort_keys=True, default=str).encode())


def recorder_digest(recorder) -> str:
    parts = []
    for name in sorted(recorder.series):
        parts += [name.encode(), recorder.series[name].tobytes()]
    for array in (
        recorder.flows,
        recorder.country_exports,
        recorder.sector_demand,
        recorder.sector_delivered,
        recorder.power_price,
    ):
        parts.append(array.tobytes())
    for column in sorted(recorder.plant_state):
        parts += [column.encode(), recorder.plant_state[column].tobytes()]
    return digest(*parts)


def result_digests(result) -> dict[str, str]:
    return {
        "summary": json_digest(result.summary),
        "timeseries": frame_digest(result.timeseries),
        "flows": frame_digest(result.flows),
        "draws": json_digest(result.draws),
        "recorder": recorder_digest(result.model.recorder),
    }


def fingerprints() -> dict[str, dict[str, str]]:
    from sim.api import simulate
    from sim.ensemble import run_ensemble
    from sim.scenario.load import load_scenario

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import synthetic

    out = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        out[path.name] = result_digests(simulate(load_scenario(path)))
    for name, overrides in VARIANTS.items():
        out[f"china_ban+{name}"] = result_digests(simulate(load_scenario(CHINA_BAN, overrides), seed=7))
    for name, overrides, runs in (("ensemble", [], 20), ("ensemble+uncertain", VARIANTS["uncertain"], 12)):
        ensemble = run_ensemble(load_scenario(CHINA_BAN, overrides), runs, workers=1)
        out[name] = {"indicators": frame_digest(ensemble.indicators()), "bands": frame_digest(ensemble.bands())}
    out["synthetic10x"] = result_digests(simulate(synthetic(load_scenario(CHINA_BAN), 10)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the fingerprints here (JSON)")
    parser.add_argument("--compare", type=Path, help="fingerprints written before the change")
    args = parser.parse_args()
    now = fingerprints()
    if args.out:
        args.out.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    if not args.compare:
        if not args.out:
            print(json.dumps(now, indent=1, sort_keys=True))
        return 0
    before = json.loads(args.compare.read_text())
    moved = [
        f"{case}: {part}"
        for case in sorted(set(before) | set(now))
        for part in sorted(set(before.get(case, {})) | set(now.get(case, {})))
        if before.get(case, {}).get(part) != now.get(case, {}).get(part)
    ]
    total = sum(len(parts) for parts in now.values())
    if moved:
        print(f"{len(moved)} of {total} outputs differ:\n  " + "\n  ".join(moved))
        return 1
    print(f"all {total} outputs identical ({len(now)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
