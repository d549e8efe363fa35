"""Reading stored results: the index (`sim runs`), one run (`sim show`, `sim report`, `sim compare`).

Nothing stored is trusted: manifest.json, summary.json and compare.json are checked against the models in
sim/results/schema.py on every read, a run's id is its folder's name on disk (never the text stored in
it), and a file named by a manifest is opened only if it resolves inside its folder. A folder whose name
starts with '.' is a run still being written (or a killed one) and is never read.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ValidationError

from sim.results.schema import Comparison, OtherManifest, RunManifest, Summary, problem
from sim.results.store import MANIFEST, PARTIAL_MARKER

COMPARE_RUNS = "compare.json"
HINDCAST_TABLE = "hindcast.csv"
OTHER_KINDS = ("sweep", "sensitivity", "discover", "robust", "game")
TIMESERIES_COLUMNS = ("month", "mineral", "scope", "entity", "variable", "value")


class RunError(Exception):
    """A named run cannot be read; the message says which and why, on one line."""


@dataclass
class StoredRun:
    path: Path
    manifest: RunManifest
    summary: dict[str, Any]  # as stored, checked against schema.Summary
    _timeseries: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        """The folder's name on disk (never the id stored in its manifest)."""
        return Path(os.path.abspath(self.path)).name

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def label(self) -> str:
        """The user's --label, else scenario and seed (and how many runs, of an ensemble)."""
        from sim.results.compare import run_label

        m = self.manifest
        return m.label or run_label(m.scenario_name, m.seed, m.runs if self.kind == "ensemble" else None)

    @property
    def overrides_text(self) -> str:
        """The `--set` options the run was made with, as they would be typed again; "none", or "not
        recorded" for a run stored before sim recorded them."""
        if "overrides" not in self.manifest.model_fields_set:
            return "not recorded (stored by an older sim; the report shows the scenario as run)"
        return " ".join(f"--set {shlex.quote(text)}" for text in self.manifest.overrides) or "none"

    @property
    def minerals(self) -> dict[str, dict[str, Any]]:
        """Per mineral, in the world's order (summary.json is written with sorted keys)."""
        from sim.world.load import mineral_order

        stored = self.summary["minerals"]
        order = [m for m in mineral_order() if m in stored]
        return {m: stored[m] for m in [*order, *(m for m in stored if m not in order)]}

    def timeseries(self) -> pd.DataFrame:
        if self._timeseries is None:
            self._timeseries = read_timeseries(self.path)
        return self._timeseries

    def series(self, variable: str, scope: str = "us") -> pd.DataFrame:
        ts = self.timeseries()
        rows = ts[(ts["variable"] == variable) & (ts["scope"] == scope) & ts["entity"].isin(["", "p50"])]
        if rows.empty:
            raise RunError(f"{self.path}: timeseries.parquet has no '{variable}' series (scope {scope})")
        try:
            table = rows.pivot(index="month", columns="mineral", values="value")
            return table[[m for m in self.minerals if m in table.columns]]  # the summary's (the world's) order
        except ValueError:
            raise RunError(f"{self.path}: timeseries.parquet repeats months of '{variable}'") from None


@dataclass(frozen=True)
class OtherResult:
    """A folder `sim` wrote that is not a run: a sweep, a sensitivity analysis, a comparison, a hindcast."""

    path: Path
    kind: str
    scenario: str = ""
    detail: str = ""  # e.g. a discovery's target and futures


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class Index:
    runs: list[StoredRun] = field(default_factory=list)
    others: list[OtherResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def read_timeseries(folder: Path) -> pd.DataFrame:
    path = folder / "timeseries.parquet"
    try:
        ts = pd.read_parquet(path)
    except FileNotFoundError:
        raise RunError(f"{folder}: timeseries.parquet is missing") from None
    except Exception as exc:  # pyarrow raises several types for damaged or foreign files
        raise RunError(f"{folder}: timeseries.parquet cannot be read ({exc.__class__.__name__})") from None
    missing = [c for c in TIMESERIES_COLUMNS if c not in ts.columns]
    if missing:
        raise RunError(f"{folder}: timeseries.parquet is not a sim time series (no column {', '.join(missing)})")
    if not pd.api.types.is_numeric_dtype(ts["value"]):
        raise RunError(f"{folder}: timeseries.parquet is not a sim time series ('value' is not numeric)")
    return ts


def read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{folder}: not a complete run ({name} is missing)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunError(f"{folder}: {name} is damaged ({exc.__class__.__name__})") from None


def checked[Model: BaseModel](model: type[Model], document: Any, folder: Path, name: str) -> Model:
    """`document` as `model`, or RunError naming the folder, the file and the first thing wrong."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RunError(f"{folder}: {name} is not as sim writes it ({problem(exc)})") from None


def load_run(folder: Path, pending: Collection[str] = ()) -> StoredRun:
    """The run in `folder` (any name, so also one still being written, whose `pending` files are not yet
    there), checked; or RunError."""
    manifest = read_json(folder, MANIFEST)
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind in OTHER_KINDS:
        raise RunError(f"{folder}: a {kind}, not a run (show, report and compare read runs and ensembles)")
    checked_manifest = checked(RunManifest, manifest, folder, MANIFEST)
    check_files(folder, [name for name in checked_manifest.files if name not in pending and is_data(name)])
    summary = read_json(folder, "summary.json")
    checked(Summary, summary, folder, "summary.json")
    return StoredRun(folder, checked_manifest, summary)


def is_data(name: str) -> bool:
    """A file a run's figures are read from (a picture or its report page can be drawn again from these)."""
    return name.endswith((".json", ".parquet"))


def check_files(folder: Path, names: list[str]) -> None:
    """RunError naming the first files of `names` (those a manifest lists) that are not in `folder`."""
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        verb, them = ("is", "it") if len(missing) == 1 else ("are", "them")
        raise RunError(f"{folder}: a damaged run ({shown} {verb} missing, though its manifest lists {them})")


def read_run(path: Path) -> StoredRun:
    """Open one complete run directory, or raise RunError saying what is wrong with it."""
    if not path.is_dir():
        raise RunError(f"{path}: no such run directory")
    if path.name.startswith("."):
        raise RunError(f"{path}: an unfinished run (its name starts with '.'); it holds no complete results")
    if not (path / MANIFEST).exists() and (path / COMPARE_RUNS).is_file():
        raise RunError(f"{path}: a comparison, not a run (sim report reads it; show and compare read runs)")
    if not (path / MANIFEST).exists() and (path / HINDCAST_TABLE).is_file():
        raise RunError(f"{path}: a hindcast table ({HINDCAST_TABLE}), not a run")
    return load_run(path)


def read_comparison(folder: Path) -> Comparison:
    """compare.json of a comparison folder, checked; or RunError."""
    return checked(Comparison, read_json(folder, COMPARE_RUNS), folder, COMPARE_RUNS)


def find_run(name: str, root: Path) -> StoredRun:
    """A run named by its path or by its id (or a unique prefix of it) under `root`."""
    path = Path(name)
    if path.is_dir():
        return read_run(path)
    candidates = (
        [p for p in root.iterdir() if p.name.startswith(name) and not p.name.startswith(".") and p.is_dir()]
        if name and root.is_dir()
        else []
    )
    exact = [p for p in candidates if p.name == name]
    if len(exact) == 1 or len(candidates) == 1:
        return read_run((exact or candidates)[0])
    if not candidates:
        raise RunError(f"no run '{name}' (not a directory, and no run id under {root} starts with it)")
    names = sorted(p.name for p in candidates)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise RunError(f"'{name}' matches {len(candidates)} runs under {root} ({shown}); give more of the id")


def classify(folder: Path, index: Index) -> None:
    """Add `folder` to the index as a run, another result of sim, or a skipped folder with the reason."""
    try:
        if (folder / MANIFEST).exists():
            manifest = read_json(folder, MANIFEST)
            if isinstance(manifest, dict) and manifest.get("kind") in OTHER_KINDS:
                other = checked(OtherManifest, manifest, folder, MANIFEST)
                index.others.append(OtherResult(folder, other.kind, other.scenario_name, other.detail))
            else:
                index.runs.append(load_run(folder))
        elif (folder / COMPARE_RUNS).exists():
            compared = read_comparison(folder)
            index.others.append(OtherResult(folder, "comparison", " vs ".join(r.label for r in compared.runs)))
        elif (folder / HINDCAST_TABLE).is_file():
            index.others.append(OtherResult(folder, "hindcast"))
        else:
            index.skipped.append(Skipped(folder, f"{folder}: not a run ({MANIFEST} is missing)"))
    except RunError as exc:
        index.skipped.append(Skipped(folder, str(exc)))


def scan(root: Path) -> Index:
    """Every folder under `root` sorted into runs (oldest first), other results of sim, and skipped
    folders with what is wrong; hidden folders (runs being written) are not looked at."""
    index = Index()
    if not root.is_dir():
        return index
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith("."):
            classify(path, index)
    index.runs.sort(key=lambda r: (r.manifest.created_utc, r.run_id))
    return index


def list_runs(root: Path) -> list[StoredRun]:
    """Every complete run under `root`, oldest first; torn or foreign folders are skipped."""
    return scan(root).runs


@dataclass(frozen=True)
class Partial:
    path: Path
    removable: bool
    reason: str


def partials(root: Path, older_than_s: float = 3600.0) -> list[Partial]:
    """Hidden `.tmp-*` entries under `root`: removable when sim made it (a real folder carrying sim's
    marker) and it is untouched for `older_than_s` seconds, so not a run still being written."""
    if not root.is_dir():
        return []
    found = []
    now = time.time()
    for path in sorted(root.glob(".tmp-*")):
        marker = path / PARTIAL_MARKER
        if path.is_symlink() or not path.is_dir():
            found.append(Partial(path, False, "not a folder (a link or a file); sim did not make it"))
        elif marker.is_symlink() or not marker.is_file():
            found.append(Partial(path, False, f"no {PARTIAL_MARKER} marker; sim did not make it"))
        elif (age := now - last_change(path)) <= older_than_s:
            found.append(Partial(path, False, f"changed {age / 60:.0f} min ago; a run may still be writing it"))
        else:
            found.append(Partial(path, True, f"partial run untouched for {age / 3600:.1f} h"))
    return found


@dataclass(frozen=True)
class Cleaned:
    """What `sim runs --clean` did with one partial folder: removed it, left it (and why), or failed."""

    path: Path
    outcome: Literal["removed", "left", "failed"]
    reason: str


def clean_partials(root: Path, older_than_s: float = 3600.0) -> list[Cleaned]:
    """Remove the partial folders sim made and left over `older_than_s` ago (see `partials`); report each."""
    done = []
    for partial in partials(root, older_than_s):
        if not partial.removable:
            done.append(Cleaned(partial.path, "left", partial.reason))
            continue
        try:
            shutil.rmtree(partial.path)
        except OSError as exc:
            done.append(Cleaned(partial.path, "failed", str(exc.strerror or exc)))
            continue
        done.append(Cleaned(partial.path, "removed", partial.reason))
    return done


def last_change(folder: Path) -> float:
    """The latest modification time of `folder` and the entries directly in it (links not followed)."""
    return max([folder.lstat().st_mtime, *(child.lstat().st_mtime for child in folder.iterdir())])


def stale_partials(root: Path, older_than_s: float = 3600.0) -> list[Path]:
    """The partial folders `sim runs --clean` removes (see `partials`)."""
    return [p.path for p in partials(root, older_than_s) if p.removable]
