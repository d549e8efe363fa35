"""Reading stored runs: the run index (`sim runs`), one run (`sim show`), and runs for `sim compare`.

Only complete runs are read: a folder whose name does not start with '.' and whose manifest.json and
summary.json parse. Anything else (a torn or foreign folder) is skipped by the index and is an error
when named directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results.store import MANIFEST


class RunError(Exception):
    """A named run cannot be read."""


@dataclass
class StoredRun:
    path: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def kind(self) -> str:
        return self.manifest.get("kind", "run")

    @property
    def label(self) -> str:
        return f"{self.manifest['scenario_name']} s{self.manifest['seed']}"

    @property
    def minerals(self) -> dict[str, dict[str, Any]]:
        return self.summary["minerals"]

    def timeseries(self) -> pd.DataFrame:
        path = self.path / "timeseries.parquet"
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise RunError(f"{path}: cannot read the time series ({exc.__class__.__name__})") from None

    def series(self, variable: str, scope: str = "us") -> pd.DataFrame:
        ts = self.timeseries()
        rows = ts[(ts["variable"] == variable) & (ts["scope"] == scope) & ts["entity"].isin(["", "p50"])]
        return rows.pivot(index="month", columns="mineral", values="value")


def read_run(path: Path) -> StoredRun:
    """Open one complete run directory, or raise RunError saying what is wrong with it."""
    if not path.is_dir():
        raise RunError(f"{path}: no such run directory")
    if path.name.startswith("."):
        raise RunError(f"{path}: an unfinished run (its name starts with '.'); it holds no complete results")
    documents = []
    for name in (MANIFEST, "summary.json"):
        try:
            documents.append(json.loads((path / name).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise RunError(f"{path}: not a complete run ({name} is missing)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"{path}: {name} is damaged ({exc.__class__.__name__})") from None
    manifest, summary = documents
    if not isinstance(manifest, dict) or "run_id" not in manifest or "minerals" not in summary:
        raise RunError(f"{path}: not a run made by sim (manifest or summary lacks its fields)")
    return StoredRun(path, manifest, summary)


def find_run(name: str, root: Path) -> StoredRun:
    """A run named by its path or by its id (or a unique prefix of it) under `root`."""
    path = Path(name)
    if path.is_dir():
        return read_run(path)
    candidates = (
        [p for p in root.glob(f"{name}*") if p.is_dir() and not p.name.startswith(".")] if root.is_dir() else []
    )
    if len(candidates) == 1:
        return read_run(candidates[0])
    if not candidates:
        raise RunError(f"no run '{name}' (not a directory, and no run id under {root} starts with it)")
    raise RunError(f"'{name}' matches {len(candidates)} runs under {root}; give more of the id")


def list_runs(root: Path) -> list[StoredRun]:
    """Every complete run under `root`, oldest first; torn or foreign folders are skipped."""
    if not root.is_dir():
        return []
    runs = []
    for path in sorted(root.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            runs.append(read_run(path))
        except RunError:
            continue
    return sorted(runs, key=lambda r: (r.manifest.get("created_utc", ""), r.run_id))


def stale_partials(root: Path, older_than_s: float = 3600.0) -> list[Path]:
    """Hidden `.tmp-*` folders left by runs that were killed, untouched for `older_than_s` seconds.
    Younger ones may belong to a run still being written, so they are left alone."""
    import time

    if not root.is_dir():
        return []
    now = time.time()
    return sorted(p for p in root.glob(".tmp-*") if p.is_dir() and now - p.stat().st_mtime > older_than_s)
