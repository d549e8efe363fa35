"""The run store: results/<run-id>/ written atomically (temporary directory, then rename).

A directory is a complete run exactly when its name does not start with '.' and it holds manifest.json,
which is written last inside the temporary directory. The temporary directory carries a marker file
(PARTIAL_MARKER) from its first moment until just before the rename, so `sim runs --clean` removes only
partial folders that sim itself made.

JSON is written strictly: a NaN or infinite number is refused (StoreError naming where it is), so a
stored document never holds a token that other JSON readers reject or a number that is not one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sim.api import RunResult
    from sim.ensemble import EnsembleResult
    from sim.results.compare import Compared

MANIFEST = "manifest.json"
REPORT = "report.html"
PARTIAL_MARKER = ".sim-partial"


class StoreError(Exception):
    """The output location cannot be written."""


def package_version() -> str:
    try:
        return metadata.version("critical-minerals-sim")
    except metadata.PackageNotFoundError:
        return "unknown"


def new_id(prefix: str) -> str:
    """`prefix-<UTC time>-<random>`: unique even for many runs started in the same second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{os.urandom(3).hex()}"


def new_run_id(name: str, seed: int) -> str:
    return new_id(f"{name}-s{seed}")


def summary_document(result: RunResult) -> dict[str, Any]:
    return {
        "scenario": result.name,
        "seed": result.seed,
        "months": result.months,
        "start": result.resolved.scenario.start,
        "price_cap_ratio": result.resolved.world.market.price_cap_ratio,  # the run's, for the cap's note
        "minerals": result.summary,
    }


def manifest_document(
    result: RunResult, run_id: str, plots: list[str], label: str = "", overrides: Sequence[str] = ()
) -> dict[str, Any]:
    import mesa

    return {
        "run_id": run_id,
        "label": label,
        "overrides": list(overrides),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario_name": result.name,
        "scenario_files": result.resolved.files,
        "scenario_hash": result.resolved.hash,
        "scenario_resolved": result.resolved.raw,
        "distribution_draws": result.draws,
        "uncertain_world": bool(result.resolved.coherent),  # --uncertain: the world's ranges were drawn too
        "seed": result.seed,
        "months": result.months,
        "package_version": package_version(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
        "files": ["summary.json", "timeseries.parquet", "flows.parquet", *plots, MANIFEST],
    }


def _plain(value: Any) -> Any:
    """JSON for what json cannot write itself: numpy numbers as numbers, anything else as text."""
    import numpy as np

    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def non_finite(document: Any, where: str = "") -> str | None:
    """Where in `document` a NaN or infinite number is (e.g. 'minerals.gallium.peak'), or None."""
    import numpy as np

    if isinstance(document, float | np.floating):
        return None if math.isfinite(document) else where or "the document"
    if isinstance(document, dict):
        children = [(str(key), value) for key, value in document.items()]
    elif isinstance(document, list | tuple):
        children = [(str(k), value) for k, value in enumerate(document)]
    else:
        return None
    for key, value in children:
        found = non_finite(value, f"{where}.{key}" if where else key)
        if found:
            return found
    return None


def write_json(path: Path, document: Any) -> None:
    """Write `document` as strict JSON; a NaN or infinite number is a StoreError naming where it is."""
    try:
        text = json.dumps(document, indent=2, sort_keys=True, default=_plain, allow_nan=False)
    except ValueError:
        where = non_finite(document) or "a value"
        raise StoreError(f"{path.name}: {where} is not a finite number; nothing was saved") from None
    path.write_text(text + "\n", encoding="utf-8")


def write_file_atomic(target: Path, text: str) -> None:
    """Write `target` whole or not at all (a hidden temporary file beside it, then a rename)."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # on a read-only or vanished folder this fails too
            tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from None


@contextmanager
def atomic_directory(root: Path, name: str) -> Iterator[Path]:
    """Yield a hidden temporary folder under `root`; rename it to `root/name` only if the block ends
    without error, else remove it. Readers never see a half-written folder."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the output directory {root}: {exc.strerror or exc}") from None
    if not os.access(root, os.W_OK):
        raise StoreError(f"the output directory {root} is not writable")
    tmp = root / f".tmp-{name}"
    try:
        tmp.mkdir()
        (tmp / PARTIAL_MARKER).write_text("a partial folder of critical-minerals-sim\n", encoding="utf-8")
        yield tmp
        (tmp / PARTIAL_MARKER).unlink()
        _fsync_dir(tmp)
        os.rename(tmp, root / name)
        _fsync_dir(root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot write to {root}: {exc.strerror or exc}") from None
        raise


def save_run(
    result: RunResult, root: Path, with_plots: bool = True, label: str = "", overrides: Sequence[str] = ()
) -> Path:
    """Write a complete run directory under `root` and return its path; `label` is the user's name for it,
    `overrides` the `--set` texts it was run with (recorded in the manifest as given)."""
    started = time.perf_counter()
    run_id = new_run_id(result.name, result.seed)
    with atomic_directory(root, run_id) as tmp:
        write_json(tmp / "summary.json", summary_document(result))
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.flows.to_parquet(tmp / "flows.parquet", index=False)
        plots: list[str] = []
        if with_plots:
            from sim.viz.plots import save_run_plots

            plots = save_run_plots(result, tmp)
        result.timings["store_s"] = time.perf_counter() - started
        write_json(tmp / MANIFEST, manifest_document(result, run_id, [*plots, REPORT], label, overrides))
        write_report(tmp)
    return root / run_id


def save_comparison(items: list[Compared], table: pd.DataFrame, root: Path) -> Path:
    """Write a comparison folder under `root`: compare.md, compare.csv, overlay plots, compare.json (the
    runs, their provenance and months) and report.html; return its path. compare.csv's `diff_from_first` is
    the row's run minus the first run of `items` (the reference): positive where the run's value is higher."""
    from sim.results.compare import periods_note, to_markdown
    from sim.viz.compare_plots import save_overlays
    from sim.viz.report import COMPARE_RUNS, build_compare_report

    labels = [item.label for item in items]
    runs = [item.described for item in items]
    name = new_id("compare")
    with atomic_directory(root, name) as tmp:
        (tmp / "compare.md").write_text(to_markdown(table, labels, periods_note(runs)) + "\n", encoding="utf-8")
        table.to_csv(tmp / "compare.csv", index=False)
        document = {
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "package_version": package_version(),
            "runs": runs,
            "plots": save_overlays(items, tmp),
        }
        write_json(tmp / COMPARE_RUNS, document)
        (tmp / REPORT).write_text(build_compare_report(tmp), encoding="utf-8")
    return root / name


def write_report(folder: Path) -> None:
    """report.html of the run just written in `folder`, built by reading it back as any reader would."""
    from sim.results.runs import RunError
    from sim.viz.report import build_report

    try:
        text = build_report(folder, pending=[REPORT])
    except RunError as exc:
        raise StoreError(f"the run does not read back, so it was not saved: {exc}") from None
    (folder / REPORT).write_text(text, encoding="utf-8")


def _fsync_dir(path: Path) -> None:
    if sys.platform.startswith("win"):
        return
    for child in path.iterdir():
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_ensemble(
    result: EnsembleResult, root: Path, with_plots: bool = True, label: str = "", overrides: Sequence[str] = ()
) -> Path:
    """Write an ensemble folder: medians as the headline summary, percentiles, every run's indicators;
    `label` and `overrides` as for save_run."""
    run_id = new_id(f"{result.name}-ens{len(result.outcomes)}-s{result.seed}")
    stats = result.summary()
    # The runs' shared price cap; --uncertain draws each run's world, its cap too: then there is no one cap.
    cap = None if result.resolved.coherent else result.resolved.world.market.price_cap_ratio
    bands = result.bands()
    with atomic_directory(root, run_id) as tmp:
        write_json(
            tmp / "summary.json",
            {
                "scenario": result.name,
                "seed": result.seed,
                "months": result.months,
                "start": result.resolved.scenario.start,
                "price_cap_ratio": cap,
                "runs": len(result.outcomes),
                "statistic": "median over runs; percentiles in 'spread'",
                "minerals": {m: {k: v["p50"] for k, v in values.items()} for m, values in stats.items()},
                "spread": stats,
            },
        )
        result.indicators().to_parquet(tmp / "indicators.parquet", index=False)
        bands.to_parquet(tmp / "bands.parquet", index=False)
        tidy = bands.melt(id_vars=["month", "mineral", "variable"], var_name="entity", value_name="value")
        tidy.insert(2, "scope", "us")
        tidy["unit"] = ""
        tidy = tidy[["month", "mineral", "scope", "entity", "variable", "unit", "value"]]
        tidy.astype({c: "string" for c in ("month", "mineral", "scope", "entity", "variable", "unit")}).to_parquet(
            tmp / "timeseries.parquet", index=False
        )
        plots: list[str] = []
        if with_plots:
            from sim.viz.charts import event_windows
            from sim.viz.plots import save_band_plots

            windows = event_windows(result.resolved.scenario, result.months)
            plots = save_band_plots(bands, f"{result.name}: {len(result.outcomes)} runs", tmp, windows, cap)
        resolved = result.resolved
        import mesa

        write_json(
            tmp / MANIFEST,
            {
                "run_id": run_id,
                "label": label,
                "overrides": list(overrides),
                "kind": "ensemble",
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "scenario_name": result.name,
                "scenario_files": resolved.files,
                "scenario_hash": resolved.hash,
                "scenario_resolved": resolved.raw,
                "uncertain_world": bool(resolved.coherent),
                "seed": result.seed,
                "runs": len(result.outcomes),
                "run_seeds": [o.seed for o in result.outcomes],
                "months": result.months,
                "package_version": package_version(),
                "python": platform.python_version(),
                "mesa": mesa.__version__,
                "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
                "files": [
                    "summary.json",
                    "indicators.parquet",
                    "bands.parquet",
                    "timeseries.parquet",
                    *plots,
                    REPORT,
                    MANIFEST,
                ],
            },
        )
        write_report(tmp)
    return root / run_id
