"""The folders of studies made of many runs: sweeps, sensitivity analyses, scenario discovery, robust
decisions and hindcasts. Each is written atomically (sim.results.store) with a manifest that
sim.results.schema reads back; plots and pages come from sim.viz."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.results.store import atomic_directory, new_id, write_json

if TYPE_CHECKING:
    from sim.discover import DiscoveryStudy
    from sim.hindcast import Hindcast
    from sim.robust import RobustStudy
    from sim.scenario.load import ResolvedScenario
    from sim.sensitivity import SensitivityStudy
    from sim.sweep import Sweep


@dataclass(frozen=True)
class Saved:
    folder: Path
    files: list[str]  # what was written in it besides the manifest


def about(run_id: str, kind: str, resolved: ResolvedScenario) -> dict[str, Any]:
    """The manifest's fields common to the studies of one scenario: what it is and what it was run on."""
    return {
        "run_id": run_id,
        "kind": kind,
        "scenario_name": resolved.scenario.name,
        "scenario_hash": resolved.hash,
        "scenario_resolved": resolved.raw,
    }


def save_sweep(sweep: Sweep, indicator: str, root: Path) -> Saved:
    """points.parquet, points.csv and the plot of `indicator` against each varied input."""
    from sim.viz.plots import save_sweep_plot

    resolved, table = sweep.resolved, sweep.table
    run_id = new_id(f"{resolved.scenario.name}-sweep{len(sweep.points)}")
    with atomic_directory(root, run_id) as folder:
        text_columns = {c: str for c in sweep.inputs if table[c].dtype == object}
        table.astype(text_columns).to_parquet(folder / "points.parquet", index=False)
        table.to_csv(folder / "points.csv", index=False)
        files = ["points.parquet", "points.csv", *save_sweep_plot(table, sweep.inputs, indicator, folder)]
        write_json(
            folder / "manifest.json",
            {
                **about(run_id, "sweep", resolved),
                "seed": sweep.seed,
                "months": sweep.months,
                "sample": sweep.sample,
                "vary": sweep.vary,
                "points": json.loads(json.dumps(sweep.points, default=str)),
                "files": files,
            },
        )
    return Saved(root / run_id, files)


def save_sensitivity(study: SensitivityStudy, root: Path) -> Saved:
    """ranking.csv and, if any input moved the indicator, its plot."""
    from sim.viz.plots import save_sensitivity_plot

    resolved, result = study.resolved, study.result
    run_id = new_id(f"{resolved.scenario.name}-{result.method}")
    with atomic_directory(root, run_id) as folder:
        result.ranking.to_csv(folder / "ranking.csv", index=False)
        title = f"{result.indicator}: {result.method}"
        plots = [save_sensitivity_plot(result.ranking, title, folder)] if len(result.ranking) else []
        files = ["ranking.csv", *plots]
        write_json(
            folder / "manifest.json",
            {
                **about(run_id, "sensitivity", resolved),
                "method": result.method,
                "n": study.n,
                "runs": result.samples,
                "indicator": result.indicator,
                "inputs": result.inputs,
                "seed": study.seed,
                "files": files,
            },
        )
    return Saved(root / run_id, files)


def save_discovery(study: DiscoveryStudy, root: Path) -> Saved:
    """boxes.csv, futures.parquet, the peeling plots and report.html."""
    from sim.viz.decisions import discover_page, save_peeling_plot

    resolved, found = study.resolved, study.found
    run_id = new_id(f"{resolved.scenario.name}-discover{study.runs}")
    with atomic_directory(root, run_id) as folder:
        found.boxes.to_csv(folder / "boxes.csv", index=False)
        found.design.to_parquet(folder / "futures.parquet", index=False)
        plots = save_peeling_plot(found.trajectories, folder)
        page = discover_page(
            folder,
            f"{resolved.scenario.name}: scenario discovery",
            found.target.text,
            study.runs,
            len(found.inputs),
            found.base_rate,
            found.boxes,
            plots,
            study.note,
        )
        (folder / "report.html").write_text(page, encoding="utf-8")
        files = ["boxes.csv", "futures.parquet", *plots, "report.html"]
        write_json(
            folder / "manifest.json",
            {
                **about(run_id, "discover", resolved),
                "seed": study.seed,
                "months": study.months,
                "runs": study.runs,
                "target": found.target.text,
                "density": study.density,
                "inputs": [
                    {"input": i.name, "kind": i.kind, "params": list(i.params), "origin": i.origin}
                    for i in found.inputs
                ],
                "files": files,
            },
        )
    return Saved(root / run_id, files)


def save_robust(study: RobustStudy, root: Path) -> Saved:
    """robust.csv, outcomes.parquet, futures.parquet, the regret plot and report.html."""
    from sim.viz.decisions import robust_page, save_regret_plot

    result = study.result
    run_id = new_id(f"robust{len(study.policies)}x{study.futures}")
    with atomic_directory(root, run_id) as folder:
        result.table.to_csv(folder / "robust.csv", index=False)
        result.outcomes.to_parquet(folder / "outcomes.parquet", index=False)
        result.design.to_parquet(folder / "futures.parquet", index=False)
        plots = save_regret_plot(result.outcomes, result.table, result.metric, folder)
        page = robust_page(
            folder,
            "Robust decisions",
            result.table,
            result.metric,
            result.threshold.text,
            study.futures,
            result.tied_minimax,
            plots,
        )
        (folder / "report.html").write_text(page, encoding="utf-8")
        files = ["robust.csv", "outcomes.parquet", "futures.parquet", *plots, "report.html"]
        write_json(
            folder / "manifest.json",
            {
                "run_id": run_id,
                "kind": "robust",
                "scenario_name": ", ".join(p.scenario.name for p in study.policies),
                "policies": [
                    {"name": p.scenario.name, "files": p.files, "scenario_hash": p.hash} for p in study.policies
                ],
                "seed": study.seed,
                "months": study.months,
                "futures": study.futures,
                "threshold": result.threshold.text,
                "metric": result.metric.text,
                "minimax_regret": result.tied_minimax,
                "inputs": [i.name for i in result.inputs],
                "files": files,
            },
        )
    return Saved(root / run_id, files)


def save_hindcast(hindcast: Hindcast, root: Path) -> Saved:
    """hindcast.csv: the observed moves beside the simulated ones, as scored."""
    run_id = new_id("hindcast")
    with atomic_directory(root, run_id) as folder:
        hindcast.table.to_csv(folder / "hindcast.csv", index=False)
    return Saved(root / run_id, ["hindcast.csv"])
