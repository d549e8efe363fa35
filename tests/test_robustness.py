"""Kills and crowds: a run folder is whole or absent, whatever happens to the process writing it."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.results.runs import list_runs

from .helpers import ROOT, SCENARIOS, recorded, run

SIM = str(Path(sys.executable).with_name("sim"))


def assert_complete(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        assert (folder / name).is_file(), (folder, name)
    json.loads((folder / "summary.json").read_text())
    for name in manifest["files"]:
        if name.endswith(".parquet"):
            assert len(pd.read_parquet(folder / name)) > 0


def test_baseline_prices_stay_near_start_over_the_full_horizon():
    base = run("baseline")
    assert abs(recorded(base, "price_outside_ratio") - 1).max() < 0.1
    assert recorded(base, "shortfall_share").max() < 0.005


@pytest.mark.slow
def test_sixteen_concurrent_runs_into_one_folder_all_complete_with_distinct_ids(tmp_path):
    procs = [
        subprocess.Popen(
            [
                SIM,
                "run",
                str(SCENARIOS / "china_ban.yaml"),
                "--months",
                "24",
                "--no-plots",
                "--seed",
                str(k % 4),
                "--out",
                str(tmp_path),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for k in range(16)
    ]
    codes = [p.wait(timeout=600) for p in procs]
    assert codes == [0] * 16, [p.stderr.read() for p in procs]
    folders = [p for p in tmp_path.iterdir()]
    assert len(folders) == 16 and len({f.name for f in folders}) == 16
    assert not [f for f in folders if f.name.startswith(".")]
    for folder in folders:
        assert_complete(folder)
    # runs with the same seed wrote the same numbers
    by_seed: dict[int, list[bytes]] = {}
    for folder in folders:
        seed = json.loads((folder / "manifest.json").read_text())["seed"]
        by_seed.setdefault(seed, []).append((folder / "summary.json").read_bytes())
    assert all(len(set(v)) == 1 for v in by_seed.values())


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_run_that_looks_complete(tmp_path):
    rng = random.Random(7)
    trials, torn = 8, 0
    for _ in range(trials):
        proc = subprocess.Popen(
            [SIM, "run", str(SCENARIOS / "china_ban.yaml"), "--months", "60", "--out", str(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 6.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        for stored in list_runs(tmp_path):
            try:
                assert_complete(stored.path)
            except Exception:
                torn += 1
    assert torn == 0
    listing = subprocess.run([SIM, "runs", "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr


def age(path: Path, hours: float = 2.0) -> None:
    """Set `path` and what is directly in it to `hours` ago (links themselves, not their targets)."""
    old = time.time() - hours * 3600
    for p in [path, *(path.iterdir() if path.is_dir() and not path.is_symlink() else [])]:
        os.utime(p, (old, old), follow_symlinks=False)


UNFINISHED: list = []  # writers kept open, as a killed process leaves them (closing one removes its folder)


def killed_partial(root: Path, name: str) -> Path:
    """The hidden folder a run leaves when killed mid-write: atomic_directory entered, never left."""
    from sim.results.store import atomic_directory

    writing = atomic_directory(root, name)
    UNFINISHED.append(writing)
    tmp = writing.__enter__()
    (tmp / "summary.json").write_text("{")
    return tmp


def test_runs_clean_removes_only_stale_partial_folders_sim_made(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    stale, fresh = killed_partial(tmp_path, "killed"), killed_partial(tmp_path, "writing")
    foreign = tmp_path / ".tmp-not-ours"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    elsewhere = killed_partial(tmp_path / "elsewhere", "target")
    link = tmp_path / ".tmp-link"
    link.symlink_to(elsewhere, target_is_directory=True)
    for path in (stale, foreign, elsewhere, link):
        age(path)
    result = CliRunner().invoke(app, ["runs", "--out", str(tmp_path), "--clean"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("removed") == 1 and f"removed {stale}" in result.stdout
    assert not stale.exists()
    assert fresh.exists() and foreign.exists() and link.is_symlink() and elsewhere.is_dir()
    assert f"left {foreign}: no .sim-partial marker" in result.stdout
    assert f"left {link}: not a folder" in result.stdout
    assert f"left {fresh}: changed 0 min ago" in result.stdout
