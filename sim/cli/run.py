"""`sim run` (one run, or an ensemble with --runs) and `sim show` (a stored run)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.console import out, progress_bar, refusals
from sim.cli.options import (
    ExecutorOption,
    MonthsOption,
    OutOption,
    SeedOption,
    SetOption,
    WideOption,
    check_executor,
    checked_label,
    results_dir,
)
from sim.cli.tables import print_ensemble_tables, print_summary, print_summary_table

if TYPE_CHECKING:
    from sim.api import RunResult
    from sim.ensemble import EnsembleResult


def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    seed: SeedOption = None,
    months: MonthsOption = None,
    out_dir: OutOption = "results",
    overrides: SetOption = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="write PNG plots")] = True,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Monte Carlo runs (child seeds), at most 10,000")] = 1,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="worker processes (default: all cores)")
    ] = None,
    executor: ExecutorOption = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster)")
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="your name for this run, shown by sim runs, compare and the report"),
    ] = None,
    wide: WideOption = False,
    uncertain: Annotated[
        bool,
        typer.Option(
            "--uncertain",
            help="also draw the world data's uncertain figures (assumptions, behavioural parameters) from "
            "their ranges, each run from its own seed",
        ),
    ] = False,
) -> None:
    """Simulate a scenario (or an ensemble with --runs), print shortfalls and capacity gaps, save the run."""
    out_dir = results_dir(out_dir)
    check_executor(executor, address)
    label = checked_label(label)
    if runs > 1 or executor == "dask":
        from sim.ensemble import run_ensemble_file
        from sim.results.store import save_ensemble

        with refusals(), progress_bar() as progress:
            ensemble = run_ensemble_file(
                scenario,
                runs,
                seed=seed,
                months=months,
                overrides=overrides or [],
                uncertain=uncertain,
                executor=executor,
                workers=workers,
                address=address,
                progress=progress,
            )
        with refusals(), collector_spared():
            folder = save_ensemble(ensemble, out_dir, with_plots=plots, label=label, overrides=overrides or [])
        print_ensemble(ensemble, folder, wide)
        return
    from sim.api import run_file
    from sim.results.store import save_run

    with refusals():
        result = run_file(scenario, seed=seed, months=months, overrides=overrides or [], uncertain=uncertain)
        with collector_spared():
            folder = save_run(result, out_dir, with_plots=plots, label=label, overrides=overrides or [])
    print_run(result, folder, wide)


@contextmanager
def collector_spared() -> Iterator[None]:
    """Exempt every object alive now (the modules, the world, the run or ensemble) from Python's cyclic
    garbage collector while it is saved: re-scanning them at each collection that matplotlib's import and
    figures trigger cost a single run about 0.1 s, a sixth of the plots' cost. Reference counting still
    frees what is dropped; afterwards they are collectable again (a test process runs many commands)."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:  # unfreeze thaws everything: leave what a host process froze as it was
            gc.unfreeze()


def print_run(result: RunResult, folder: Path, wide: bool) -> None:
    """The summary tables, then where the run was saved and how long it took: the model alone, and
    everything since the process started (interpreter start-up and imports included)."""
    from sim.clock import process_age_s

    print_summary(result, wide)
    out.print(
        f"Saved [bold]{folder}[/]  (model {result.timings['model_s'] * 1000:.0f} ms, "
        f"total {process_age_s():.2f} s from process start)",
        highlight=False,
    )


def print_ensemble(result: EnsembleResult, folder: Path, wide: bool) -> None:
    runs = len(result.outcomes)
    title = (
        f"{result.name} — {runs} runs from seed {result.seed}, {result.months} months"
        f"{', world data drawn (--uncertain)' if result.resolved.coherent else ''} (median \\[p5-p95])"
    )
    print_ensemble_tables(title, result.summary(), wide)
    out.print(f"Saved [bold]{folder}[/]  (wall {result.timings['wall_s']:.1f} s for {runs} runs)", highlight=False)


def show(
    run: Annotated[str, typer.Argument(help="run directory or id (a unique prefix is enough)")],
    out_dir: OutOption = "results",
    wide: WideOption = False,
) -> None:
    """Print one stored run: what was run and its summary table."""
    out_dir = results_dir(out_dir)
    from rich.markup import escape

    from sim.results.runs import find_run

    with refusals():
        stored = find_run(run, out_dir)
    m = stored.manifest
    size = f"{m.runs} runs (medians)" if stored.kind == "ensemble" else f"seed {m.seed}"
    out.print(f"[bold]{escape(stored.run_id)}[/]  {escape(str(stored.path))}", highlight=False)
    if m.label:
        out.print(f"label: {escape(m.label)}", highlight=False)
    out.print(
        f"scenario {m.scenario_name} ({', '.join(m.scenario_files)}), hash {m.scenario_hash[:12]}, "
        f"{size}, {m.months} months, sim {m.package_version or '?'}, created {m.created_utc or '?'}",
        highlight=False,
        markup=False,
    )
    out.print(f"overrides: {stored.overrides_text}", highlight=False, markup=False, soft_wrap=True)
    print_summary_table(f"{m.scenario_name} — {size}", stored.minerals, wide, stored.summary.get("price_cap_ratio"))
