"""The `sim` command: a thin shell over the library. Heavy imports happen inside commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sim.game.command import game_command

if TYPE_CHECKING:
    from sim.api import RunResult
    from sim.results.runs import StoredRun

app = typer.Typer(
    help="Scenario simulator of US critical-mineral supply chains: export bans, power prices, funding.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
if not out.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
    out = Console(width=160)

SeedOption = Annotated[int | None, typer.Option("--seed", min=0, help="random seed (default: the scenario's)")]
MonthsOption = Annotated[int | None, typer.Option("--months", min=1, max=600, help="horizon in months")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a field: path=value, e.g. events[0].leakage=0.2 (repeatable)"),
]

ExecutorOption = Annotated[str, typer.Option("--executor", metavar="[local|dask]", help="where the runs execute")]
WorkersOption = Annotated[int | None, typer.Option("--workers", min=1, help="worker processes (default: all cores)")]
AddressOption = Annotated[
    str | None, typer.Option("--address", help="dask scheduler address (default: a LocalCluster)")
]
OutOption = Annotated[str, typer.Option("--out", help="results directory")]
InputsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--inputs",
        help="vary only the uncertain inputs matching this glob, e.g. 'world.minerals.*.demand_growth_per_yr' "
        "(repeatable; default: every world range and scenario distribution)",
    ),
]


def results_dir(text: str) -> Path:
    """--out, checked before any work: a directory, or a path where one can be made."""
    if not text.strip():
        fail("--out is empty; give a directory for the results (default: results)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        fail(f"--out {text} is a file, not a directory for the results")
    return path


def with_horizon(overrides: list[str] | None, months: int | None) -> list[str]:
    """--months is a horizon override, so events beyond it are reported, not silently dropped."""
    return [*(overrides or []), *([f"horizon_months={months}"] if months else [])]


def check_indicators(names: list[str], allowed: list[str]) -> None:
    unknown = [name for name in names if name not in allowed]
    if unknown:
        fail(f"unknown indicator '{unknown[0]}' (allowed: {', '.join(allowed)})")


def _print_version(asked: bool) -> None:
    if asked:
        from importlib import metadata

        try:
            version = metadata.version("critical-minerals-sim")
        except metadata.PackageNotFoundError:
            version = "unknown (not installed)"
        out.print(f"sim (critical-minerals-sim) {version}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="print the version and exit")
    ] = False,
) -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminated)  # `kill` ends a command as Ctrl-C does: workers and temp folders go


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def entry() -> None:
    """The `sim` console script: the typer app, with a usage error (an unknown option, a value out of its
    range) reported in one line, as every other refusal is, instead of typer's boxed panel."""
    import sys

    from rich.markup import escape

    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click's usage errors; typer vendors click, so they are known by their interface
        if not (hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int)):
            raise
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # `sim` alone: its help, as before
            out.print(ctx.get_help(), highlight=False, markup=False)
        else:
            where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            err.print(f"[bold red]error:[/] {escape(exc.format_message() + where)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def fail(message: str) -> None:
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
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
    wide: Annotated[bool, typer.Option("--wide", help="one wide summary table instead of two 80-column ones")] = False,
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
    from sim.api import simulate
    from sim.results.store import StoreError, save_run
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario

    check_executor(executor, address)
    label = checked_label(label)
    try:
        resolved = load_scenario(scenario, with_horizon(overrides, months))
    except ScenarioError as exc:
        fail(str(exc))
    if uncertain:
        from sim.uncertain import with_uncertain_world

        resolved = with_uncertain_world(resolved)
    if runs > 1 or executor == "dask":
        run_ensemble_command(resolved, runs, seed, months, out_dir, plots, executor, workers, address, label, wide)
        return
    try:
        result = simulate(resolved, seed=seed, months=months)
    except ScenarioError as exc:  # drawn values that break a rule together
        fail(str(exc))
    try:
        folder = save_run(result, out_dir, with_plots=plots, label=label)
    except StoreError as exc:
        fail(str(exc))
    print_summary(result, wide)
    t = result.timings
    out.print(
        f"Saved [bold]{folder}[/]  (model {t['model_s'] * 1000:.0f} ms, total {sum(t.values()):.2f} s)",
        highlight=False,
    )


def checked_label(label: str | None) -> str:
    """A label is one printable line of at most 80 characters."""
    if label is None:
        return ""
    text = label.strip()
    if not text or len(text) > 80 or not text.isprintable():
        fail(f"--label {label[:40]!r} is not a label (allowed: one line of printable text, 1 to 80 characters)")
    return text


def run_ensemble_command(
    resolved, runs, seed, months, out_dir, plots, executor, workers, address, label, wide=False
) -> None:
    from sim.ensemble import run_ensemble
    from sim.executors import ExecutorError
    from sim.results.store import StoreError, save_ensemble
    from sim.scenario.errors import ScenarioError

    bar, advance = progress_bar(f"{resolved.scenario.name}: {runs} runs ({executor})", runs)
    with bar:
        try:
            result = run_ensemble(
                resolved,
                runs,
                seed=seed,
                months=months,
                executor=executor,
                workers=workers,
                address=address,
                progress=advance,
            )
        except (ExecutorError, ScenarioError) as exc:
            fail(str(exc))
    try:
        folder = save_ensemble(result, out_dir, with_plots=plots, label=label)
    except StoreError as exc:
        fail(str(exc))
    title = (
        f"{result.name} — {runs} runs from seed {result.seed}, {result.months} months"
        f"{', world data drawn (--uncertain)' if resolved.coherent else ''} (median \\[p5-p95])"
    )
    print_ensemble_tables(title, result.summary(), wide)
    out.print(f"Saved [bold]{folder}[/]  (wall {result.timings['wall_s']:.1f} s for {runs} runs)", highlight=False)


def _band(values: dict[str, float], scale: float = 1.0, fmt: str = ".2f") -> str:
    p5, p50, p95 = (values[k] * scale for k in ("p5", "p50", "p95"))
    return f"{p50:{fmt}} [{p5:{fmt}}-{p95:{fmt}}]"


# An ensemble's columns: header, part, cell (of the mineral's percentiles). Each part fits 80 columns.
ENSEMBLE_PARTS = {1: "US shortfall and capacity", 2: "prices and funding"}
ENSEMBLE_COLUMNS: list[tuple[str, int, Callable[[dict], str]]] = [
    ("shortfall\n% demand", 1, lambda v: _band(v["cumulative_shortfall_share"], 100, ".1f")),
    ("months\nshort", 1, lambda v: _band(v["months_in_shortfall"], 1, ".0f")),
    ("capacity gap\npeak, t/yr", 1, lambda v: _band(v["capacity_gap_t_per_yr_peak"], 1, ",.0f")),
    ("price US\npeak x", 2, lambda v: _band(v.get("price_us_peak_ratio", v["price_outside_peak_ratio"]))),
    ("price out\npeak x", 2, lambda v: _band(v["price_outside_peak_ratio"])),
    ("funding\nUSD m", 2, lambda v: _band(v["funding_committed_usd"], 1e-6, ",.0f")),
]


def print_ensemble_tables(title: str, stats: dict, wide: bool = False) -> None:
    print_mineral_tables(title, stats, ENSEMBLE_PARTS, ENSEMBLE_COLUMNS, wide)


def print_mineral_tables(
    title: str,
    rows: dict[str, dict],
    parts: dict[int, str],
    columns: list[tuple[str, int, Callable[[dict], str]]],
    wide: bool = False,
) -> None:
    """Per-mineral tables, one per part (each fitting 80 columns) under its name, or all parts in one."""
    out.print(title, highlight=False, style="bold")
    for shown in [tuple(parts)] if wide else [(k,) for k in parts]:
        chosen = [c for c in columns if c[1] in shown]
        table = Table(title=None if wide else parts[shown[0]], title_justify="left")
        table.add_column("mineral")
        for header, _, _ in chosen:
            table.add_column(header, justify="right")
        for mineral, row in rows.items():
            table.add_row(mineral, *(cell(row) for _, _, cell in chosen))
        out.print(table)


def progress_bar(label: str, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        "left",
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(label, total=total)
    return bar, (lambda n: bar.advance(task, n))


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    vary: Annotated[list[str], typer.Option("--vary", help="path=a,b,c or path=lo:hi:step (repeat for a grid)")],
    sample: Annotated[
        str, typer.Option("--sample", metavar="[grid|lhs]", help="a grid, or a Latin hypercube of --n points")
    ] = "grid",
    n: Annotated[int, typer.Option("--n", min=1, help="points for --sample lhs")] = 20,
    indicator: Annotated[str, typer.Option("--indicator", help="indicator to plot")] = "cumulative_shortfall_share",
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Run a scenario over a grid or Latin hypercube of inputs; one tidy table of indicators per point."""
    out_dir = results_dir(out_dir)
    import json

    from sim.executors import ExecutorError
    from sim.results.compare import HEADLINE
    from sim.results.store import StoreError, atomic_directory, new_id, write_json
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.sweep import grid_points, lhs_points, parse_vary, run_points, sweep_table
    from sim.viz.plots import save_sweep_plot

    check_executor(executor, address)
    if sample not in ("grid", "lhs"):
        fail(f"--sample '{sample}' is not known (allowed: grid, lhs)")
    check_indicators([indicator], [*HEADLINE, "capacity_gap_t_per_yr_end", "time_to_recover_months"])
    try:
        resolved = load_scenario(scenario, with_horizon(overrides, months))
        varies = [parse_vary(v) for v in vary]
        base_seed = resolved.scenario.seed if seed is None else seed
        points = grid_points(varies) if sample == "grid" else lhs_points(varies, n, base_seed)
        bar, advance = progress_bar(f"{resolved.scenario.name}: {len(points)} points", len(points))
        with bar:
            summaries = run_points(
                scenario,
                with_horizon(overrides, months),
                points,
                seed=seed,
                months=months,
                executor=executor,
                workers=workers,
                address=address,
                progress=advance,
            )
    except (ScenarioError, ExecutorError) as exc:
        fail(str(exc))
    table = sweep_table(points, summaries)
    inputs = [v.path for v in varies]
    shown = table[table["indicator"] == indicator].pivot_table(index="point", columns="mineral", values="value")
    shown = shown.reindex(range(len(points)))  # a point with no value (e.g. never recovered) shows "-"
    moving = [m for m in shown.columns if shown[m].nunique(dropna=False) > 1] or list(shown.columns)[:5]
    rich_table = Table(title=f"{indicator} per point", title_justify="left")
    for header in [*inputs, *moving]:
        rich_table.add_column(header, justify="right")
    for k, point in enumerate(points[:40]):
        values = (shown.loc[k, m] for m in moving)
        rich_table.add_row(*(str(point[i]) for i in inputs), *("-" if v != v else f"{v:.4g}" for v in values))
    out.print(rich_table)
    if indicator == "time_to_recover_months":
        out.print("-: never short; -1: still short at the horizon", highlight=False)
    if len(points) > 40:
        out.print(f"... {len(points) - 40} more points in points.csv")
    run_id = new_id(f"{resolved.scenario.name}-sweep{len(points)}")
    try:
        with atomic_directory(out_dir, run_id) as folder:
            table.astype({c: str for c in inputs if table[c].dtype == object}).to_parquet(
                folder / "points.parquet", index=False
            )
            table.to_csv(folder / "points.csv", index=False)
            plots = save_sweep_plot(table, inputs, indicator, folder)
            write_json(
                folder / "manifest.json",
                {
                    "run_id": run_id,
                    "kind": "sweep",
                    "scenario_name": resolved.scenario.name,
                    "scenario_hash": resolved.hash,
                    "scenario_resolved": resolved.raw,
                    "seed": seed,
                    "months": months,
                    "sample": sample,
                    "vary": vary,
                    "points": json.loads(json.dumps(points, default=str)),
                    "files": ["points.parquet", "points.csv", *plots],
                },
            )
    except StoreError as exc:
        fail(str(exc))
    out.print(f"Saved [bold]{out_dir / run_id}[/]", highlight=False)


@app.command()
def sensitivity(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file with inputs given as distributions")],
    method: Annotated[
        str, typer.Option("--method", metavar="[morris|sobol]", help="Morris or Sobol (SALib)")
    ] = "morris",
    n: Annotated[int, typer.Option("--n", min=2, help="trajectories (morris) or base samples (sobol)")] = 10,
    indicator: Annotated[str, typer.Option("--indicator", help="indicator to explain")] = "cumulative_shortfall_share",
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Rank the scenario's uncertain inputs by their effect on an indicator (Morris or Sobol, SALib)."""
    out_dir = results_dir(out_dir)
    from sim.executors import ExecutorError
    from sim.results.compare import HEADLINE
    from sim.results.store import StoreError, atomic_directory, new_id, write_json
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.sensitivity import run_sensitivity
    from sim.viz.plots import save_sensitivity_plot

    check_executor(executor, address)
    if method not in ("morris", "sobol"):
        fail(f"--method '{method}' is not known (allowed: morris, sobol)")
    check_indicators([indicator], list(HEADLINE))
    try:
        resolved = load_scenario(scenario, with_horizon(overrides, months))
        from sim.sensitivity import problem_of

        d = problem_of(resolved)["num_vars"]
        total = (d + 1) * n if method == "morris" else n * (d + 2)
        bar, advance = progress_bar(f"{resolved.scenario.name}: {method}, {total} runs", total)
        with bar:
            result = run_sensitivity(
                scenario,
                resolved,
                with_horizon(overrides, months),
                method,
                n,
                indicator,
                seed,
                months,
                progress=advance,
                executor=executor,
                workers=workers,
                address=address,
            )
    except (ScenarioError, ExecutorError) as exc:
        fail(str(exc))
    effect, spread = ("mu*", "sigma") if method == "morris" else ("total index ST", "first-order S1")
    table = Table(title=f"{indicator}: inputs ranked by {method} ({result.samples} runs)", title_justify="left")
    for header in ("mineral", "rank", "input", effect, spread):
        table.add_column(header, justify="left" if header in ("mineral", "input") else "right")
    for row in result.ranking.itertuples():
        table.add_row(row.mineral, str(row.rank), row.input, f"{row.effect:.4g}", f"{row.spread:.4g}")
    out.print(table if len(result.ranking) else f"{indicator} does not move for any mineral over these inputs")
    run_id = new_id(f"{resolved.scenario.name}-{method}")
    try:
        with atomic_directory(out_dir, run_id) as folder:
            result.ranking.to_csv(folder / "ranking.csv", index=False)
            plots = (
                [save_sensitivity_plot(result.ranking, f"{indicator}: {method}", folder)] if len(result.ranking) else []
            )
            write_json(
                folder / "manifest.json",
                {
                    "run_id": run_id,
                    "kind": "sensitivity",
                    "scenario_name": resolved.scenario.name,
                    "scenario_hash": resolved.hash,
                    "scenario_resolved": resolved.raw,
                    "method": method,
                    "n": n,
                    "runs": result.samples,
                    "indicator": indicator,
                    "inputs": result.inputs,
                    "seed": seed,
                    "files": ["ranking.csv", *plots],
                },
            )
    except StoreError as exc:
        fail(str(exc))
    out.print(f"Saved [bold]{out_dir / run_id}[/]", highlight=False)


@app.command()
def discover(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="condition on a run's summary, e.g. 'antimony.cumulative_shortfall_share>0.02' "
            "(mineral, any or all; and/or)",
        ),
    ],
    runs: Annotated[int, typer.Option("--runs", min=1, help="futures to sample (Latin hypercube)")] = 500,
    density: Annotated[
        float, typer.Option("--density", min=0.0, max=1.0, help="least share of a box's futures on target")
    ] = 0.8,
    boxes: Annotated[int, typer.Option("--boxes", min=1, max=10, help="boxes to find at most")] = 3,
    inputs: InputsOption = None,
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Find with PRIM the combinations of uncertain inputs (world ranges and the scenario's distributions)
    under which a target outcome happens."""
    out_dir = results_dir(out_dir)
    from sim.api import simulate
    from sim.discover import discover as run_discovery
    from sim.executors import ExecutorError
    from sim.results.store import StoreError, atomic_directory, new_id, write_json
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.target import parse_target
    from sim.viz.decisions import discover_page, save_peeling_plot

    check_executor(executor, address)
    try:
        resolved = load_scenario(scenario, with_horizon(overrides, months))
        goal = parse_target(target, simulate(resolved, months=1).summary)
        bar, advance = progress_bar(f"{resolved.scenario.name}: {runs} futures", runs)
        with bar:
            found = run_discovery(
                resolved,
                goal,
                runs,
                seed=seed,
                months=months,
                density=density,
                max_boxes=boxes,
                only=inputs,
                executor=executor,
                workers=workers,
                address=address,
                progress=advance,
            )
    except (ScenarioError, ExecutorError) as exc:
        fail(str(exc))
    held = int(found.design["target"].sum())
    out.print(
        f"{goal.text}: held in {held} of {runs} futures ({100 * found.base_rate:.1f}%), "
        f"over {len(found.inputs)} uncertain input{'s' if len(found.inputs) != 1 else ''}",
        highlight=False,
    )
    if len(found.boxes):
        table = Table(title="PRIM boxes: where the target holds", title_justify="left")
        for header in ("box", "input", "low", "high", "sampled", "qp", "coverage", "density", "mass", "lift"):
            table.add_column(header, justify="left" if header == "input" else "right")
        for r in found.boxes.itertuples():
            table.add_row(
                str(r.box),
                r.input,
                f"{r.low:.4g}",
                f"{r.high:.4g}",
                f"{r.full_low:.4g} to {r.full_high:.4g}",
                f"{r.qp:.2g}",
                f"{100 * r.coverage:.0f}%",
                f"{100 * r.density:.0f}%",
                f"{100 * r.mass:.0f}%",
                f"{r.lift:.2f}",
            )
        out.print(table)
        note = "Boxes restrict only the inputs listed; every other input may take any sampled value."
        if found.boxes["lift"].max() < 1.25:
            note += (
                " Read them as weak: their density is barely above the share of all futures on target (lift under "
                "1.25), so no combination of inputs stands out."
            )
    else:
        note = found.no_box
    out.print(note, highlight=False)
    run_id = new_id(f"{resolved.scenario.name}-discover{runs}")
    try:
        with atomic_directory(out_dir, run_id) as folder:
            found.boxes.to_csv(folder / "boxes.csv", index=False)
            found.design.to_parquet(folder / "futures.parquet", index=False)
            plots = save_peeling_plot(found.trajectories, folder)
            page = discover_page(
                folder,
                f"{resolved.scenario.name}: scenario discovery",
                goal.text,
                runs,
                len(found.inputs),
                found.base_rate,
                found.boxes,
                plots,
                note,
            )
            (folder / "report.html").write_text(page, encoding="utf-8")
            write_json(
                folder / "manifest.json",
                {
                    "run_id": run_id,
                    "kind": "discover",
                    "scenario_name": resolved.scenario.name,
                    "scenario_hash": resolved.hash,
                    "scenario_resolved": resolved.raw,
                    "seed": resolved.scenario.seed if seed is None else seed,
                    "months": months,
                    "runs": runs,
                    "target": goal.text,
                    "density": density,
                    "inputs": [
                        {"input": i.name, "kind": i.kind, "params": list(i.params), "origin": i.origin}
                        for i in found.inputs
                    ],
                    "files": ["boxes.csv", "futures.parquet", *plots, "report.html"],
                },
            )
    except StoreError as exc:
        fail(str(exc))
    written = ", ".join(["boxes.csv", "futures.parquet", *plots, "report.html"])
    out.print(f"Saved [bold]{out_dir / run_id}[/] ({written})", highlight=False)


@app.command()
def robust(
    policies: Annotated[
        list[Path] | None, typer.Argument(help="policy scenario files (each usually extends the same one)")
    ] = None,
    futures: Annotated[int, typer.Option("--futures", min=1, help="futures every policy meets")] = 200,
    threshold: Annotated[
        str, typer.Option("--threshold", help="what a future must meet (same syntax as discover's --target)")
    ] = "all.cumulative_shortfall_share<=0.01",
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="summary indicator (lower is better) for regret: INDICATOR at the worst mineral, or MINERAL.INDICATOR",
        ),
    ] = "cumulative_shortfall_share",
    inputs: InputsOption = None,
    seed: SeedOption = None,
    months: MonthsOption = None,
    overrides: SetOption = None,
    out_dir: OutOption = "results",
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    address: AddressOption = None,
) -> None:
    """Run every policy over the same sampled futures; share meeting a threshold, regret, cost, and the
    policy with the least maximum regret."""
    out_dir = results_dir(out_dir)
    from sim.api import simulate
    from sim.executors import ExecutorError
    from sim.results.store import StoreError, atomic_directory, new_id, write_json
    from sim.robust import robust as run_robust
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.target import parse_metric, parse_target
    from sim.viz.decisions import robust_page, save_regret_plot

    check_executor(executor, address)
    if not policies or len(policies) < 2:
        fail("robust needs at least two policy scenario files to compare")
    try:
        loaded = [load_scenario(p, with_horizon(overrides, months)) for p in policies]
        sample = simulate(loaded[0], months=1).summary
        goal = parse_target(threshold, sample, option="--threshold")
        outcome = parse_metric(metric, sample)
        total = futures * len(loaded)
        bar, advance = progress_bar(f"{len(loaded)} policies x {futures} futures", total)
        with bar:
            result = run_robust(
                loaded,
                futures,
                goal,
                outcome,
                seed=seed,
                months=months,
                only=inputs,
                executor=executor,
                workers=workers,
                address=address,
                progress=advance,
            )
    except (ScenarioError, ExecutorError) as exc:
        fail(str(exc))
    minimax = result.minimax_policy
    tied = result.tied_minimax
    unit, scale = outcome.unit, outcome.scale
    gap_unit = "pp" if outcome.is_share else unit
    table = Table(
        title=f"{futures} futures per policy; outcome: {outcome.words}"
        f"{f', {unit}' if unit else ''}; threshold {goal.text}",
        title_justify="left",
    )
    for header in (
        "policy",
        "meets\nthreshold",
        "outcome\nmedian",
        "regret\nmedian",
        "regret\np90",
        "regret\nmax",
        "best\nin",
        "funding\nUSD m",
    ):
        table.add_column(header, justify="left" if header == "policy" else "right")
    for r in result.table.itertuples():
        table.add_row(
            f"{r.policy}{' *' if r.policy in tied else ''}",
            f"{100 * r.meets_share:.0f}%",
            f"{scale * r.metric_median:.4g}",
            f"{scale * r.regret_median:.4g}",
            f"{scale * r.regret_p90:.4g}",
            f"{scale * r.regret_max:.4g}",
            f"{100 * r.best_share:.0f}%",
            f"{r.cost_usd_median / 1e6:,.0f}",
        )
    out.print(table)
    out.print(
        f"* least maximum regret: {' = '.join(tied) if len(tied) > 1 else minimax}"
        f"{' (a tie: they differ by no more than 1e-12 in every future)' if len(tied) > 1 else ''}. "
        f"Regret{f' in {gap_unit}' if gap_unit else ''} against the best policy in the same future; funding: "
        "median committed over the horizon.",
        highlight=False,
    )
    run_id = new_id(f"robust{len(loaded)}x{futures}")
    try:
        with atomic_directory(out_dir, run_id) as folder:
            result.table.to_csv(folder / "robust.csv", index=False)
            result.outcomes.to_parquet(folder / "outcomes.parquet", index=False)
            result.design.to_parquet(folder / "futures.parquet", index=False)
            plots = save_regret_plot(result.outcomes, result.table, outcome, folder)
            page = robust_page(folder, "Robust decisions", result.table, outcome, goal.text, futures, tied, plots)
            (folder / "report.html").write_text(page, encoding="utf-8")
            write_json(
                folder / "manifest.json",
                {
                    "run_id": run_id,
                    "kind": "robust",
                    "scenario_name": ", ".join(p.scenario.name for p in loaded),
                    "policies": [{"name": p.scenario.name, "files": p.files, "scenario_hash": p.hash} for p in loaded],
                    "seed": loaded[0].scenario.seed if seed is None else seed,
                    "months": months,
                    "futures": futures,
                    "threshold": goal.text,
                    "metric": outcome.text,
                    "minimax_regret": tied,
                    "inputs": [i.name for i in result.inputs],
                    "files": ["robust.csv", "outcomes.parquet", "futures.parquet", *plots, "report.html"],
                },
            )
    except StoreError as exc:
        fail(str(exc))
    written = ", ".join(["robust.csv", "outcomes.parquet", "futures.parquet", *plots, "report.html"])
    out.print(f"Saved [bold]{out_dir / run_id}[/] ({written})", highlight=False)


def check_executor(executor: str, address: str | None) -> None:
    """The executor and the dask address, checked before any work or progress bar starts."""
    from sim.executors import ExecutorError, check_address

    if executor not in ("local", "dask"):
        fail(f"--executor '{executor}' is not known (allowed: local, dask)")
    if address is not None and executor != "dask":
        fail(f"--address {address!r} names a dask scheduler: add --executor dask")
    try:
        if address is not None:
            check_address(address)
    except ExecutorError as exc:
        fail(str(exc))


@app.command()
def hindcast(
    scenario: Annotated[
        Path | None, typer.Argument(help="hindcast scenario (default: scenarios/hindcast_2023_2025.yaml)")
    ] = None,
    overrides: SetOption = None,
    cross_validated: Annotated[
        bool,
        typer.Option(
            "--cross-validate",
            help="fit price flexibility and contract share leaving one 2023-2024 event out at a time; "
            "print in-sample and out-of-sample scores",
        ),
    ] = False,
    out_dir: OutOption = "results",
) -> None:
    """Replay China's 2023-2024 export controls and score simulated price moves against observed ones."""
    out_dir = results_dir(out_dir)
    from sim.hindcast import DEFAULT_SCENARIO, counted, cross_validate, hits, run_hindcast
    from sim.results.store import StoreError, atomic_directory, new_id
    from sim.scenario.errors import ScenarioError

    try:
        if cross_validated:
            cv = cross_validate(scenario or DEFAULT_SCENARIO, overrides or [])
            table = cv.table
        else:
            table = run_hindcast(scenario or DEFAULT_SCENARIO, overrides or [])
    except ScenarioError as exc:
        fail(str(exc))
    title = "hindcast: observed vs simulated change (score = simulated log change / observed; 1 is exact)"
    rich_table = Table(title=title, title_justify="left")
    columns = ["event", "mineral", "what", "from → to", "role", "observed"]
    columns += ["in sample", "score", "out of sample", "score"] if cross_validated else ["simulated", "score"]
    for header in columns:
        rich_table.add_column(header, justify="left" if header in columns[:5] else "right")
    for row in table.itertuples():
        cells = [row.event, row.mineral, f"{row.market} {row.quantity}", f"{row.month_before} → {row.month_after}"]
        cells += [row.role.replace("_", " "), f"{100 * row.observed_change:+.0f}%"]
        pairs = (
            [(row.in_sample_change, row.in_sample_log_ratio), (row.out_of_sample_change, row.out_of_sample_log_ratio)]
            if cross_validated
            else [(row.simulated_change, row.log_ratio)]
        )
        for change, ratio in pairs:
            cells += [f"{100 * change:+.0f}%", "-" if ratio != ratio else f"{ratio:.2f}"]
        rich_table.add_row(*cells)
    out.print(rich_table)
    scored = counted(table)
    if cross_validated:
        calibration = scored[scored["role"] == "calibration"]
        held = scored[scored["role"] == "held_out"]
        out.print(
            f"counted: {len(scored)} price moves ({len(calibration)} from 2023-2024 events, {len(held)} with 2025 "
            f"outcomes, never fitted); volume rows are inputs and mixed-evidence rows are not scored.\n"
            f"in sample (fitted on all 2023-2024 events): {hits(calibration['in_sample_log_ratio'])} of "
            f"{len(calibration)} within a factor of 2 of the observed log change\n"
            f"out of sample (each event left out of the fit): {hits(calibration['out_of_sample_log_ratio'])} of "
            f"{len(calibration)}; 2025 outcomes: {hits(held['out_of_sample_log_ratio'])} of {len(held)}\n"
            f"fitted: {cv.fitted['all']}",
            highlight=False,
        )
    else:
        out.print(
            f"{hits(scored['log_ratio'])} of {len(scored)} counted price moves within a factor of 2 of the observed "
            f"log change; {int((scored['log_ratio'] > 0).sum())} in the right direction. Volume rows are inputs "
            "(not counted); run with --cross-validate for out-of-sample scores.",
            highlight=False,
        )
    try:
        with atomic_directory(out_dir, new_id("hindcast")) as folder:
            table.to_csv(folder / "hindcast.csv", index=False)
    except StoreError as exc:
        fail(str(exc))
    out.print(f"Saved [bold]{out_dir / folder.name[len('.tmp-') :]}[/]", highlight=False)


@app.command()
def report(
    run: Annotated[str, typer.Argument(help="run directory or id (a unique prefix is enough), or a compare folder")],
    output: Annotated[str | None, typer.Option("--output", help="HTML file (default: <results>/<run id>.html)")] = None,
    out_dir: OutOption = "results",
) -> None:
    """Write one self-contained HTML report of a stored run or comparison (plots embedded; opens offline)."""
    out_dir = results_dir(out_dir)
    from sim.results.runs import RunError, find_run
    from sim.results.store import StoreError, write_file_atomic
    from sim.viz.report import COMPARE_RUNS, build_compare_report, build_report

    try:
        compared = next((p for p in (Path(run), out_dir / run) if (p / COMPARE_RUNS).is_file()), None)
        if compared is not None:
            name, text = Path(os.path.abspath(compared)).name, build_compare_report(compared)
        else:
            stored = find_run(run, out_dir)
            name, text = stored.run_id, build_report(stored.path)
    except RunError as exc:
        fail(str(exc))
    except (OSError, KeyError, ValueError) as exc:
        fail(f"{run}: cannot build a report ({exc.__class__.__name__}: {exc})")
    target = report_target(output, out_dir, name)
    try:
        write_file_atomic(target, text)
    except StoreError as exc:
        fail(str(exc))
    out.print(f"Wrote [bold]{target}[/] ({target.stat().st_size / 1024:,.0f} KiB)", highlight=False)


def report_target(output: str | None, out_dir: Path, name: str) -> Path:
    """Where `sim report` writes: --output if it names a file, else <results>/<run id>.html."""
    if output is None:
        return out_dir / f"{name}.html"
    if not output.strip():
        fail(f"--output is empty; give an HTML file, e.g. --output {name}.html")
    target = Path(output)
    if target.name in ("", ".", "..") or output.endswith(("/", os.sep)) or target.is_dir():
        fail(f"--output '{output}' is a directory; give an HTML file, e.g. --output {target / name}.html")
    return target


@app.command()
def dashboard(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario YAML file selected first (default: china_ban); all can be chosen")
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (default: this machine only; 0.0.0.0: the network)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = 8765,
) -> None:
    """Serve the workshop dashboard in a browser: every scenario, levers that redraw at once, step and play."""
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.viz.instant import DEFAULT_SCENARIO, SHIPPED, scenario_catalogue
    from sim.viz.serve import LOCAL_HOSTS, DashboardError, check_setup, dashboard_urls, serve_dashboard

    try:
        if scenario is not None:
            load_scenario(scenario)  # refused here, in one line, rather than in the browser
        check_setup(host, port)
    except (ScenarioError, DashboardError) as exc:
        fail(str(exc))
    first = DEFAULT_SCENARIO if scenario is None else scenario.stem  # the page lists scenarios by file name
    if first not in scenario_catalogue(scenario):
        fail(f"no {first}.yaml in {SHIPPED}: give the dashboard a scenario file")
    urls = " or ".join(dashboard_urls(host, port))
    out.print(f"Dashboard (first [bold]{first}[/]) at {urls}  (Ctrl-C to stop)", highlight=False)
    if host not in LOCAL_HOSTS:
        err.print(f"[yellow]note:[/] listening on {host}: anyone who can reach this machine can open the dashboard")
    raise typer.Exit(serve_dashboard(scenario, host, port))


app.command(name="game")(game_command)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    import json

    from sim.scenario.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="the new scenario's name (letters, digits, _ . -)")],
    parent: Annotated[str, typer.Option("--from", help="scenario to extend")] = "baseline",
    folder: Annotated[Path, typer.Option("--dir", help="where scenario files live")] = Path("scenarios"),
) -> None:
    """Write a commented scenario file to start from."""
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.scenario.schema import NAME_PATTERN
    from sim.scenario.template import scenario_template

    if not NAME_PATTERN.fullmatch(name):
        fail(f"{name!r} is not a scenario name (allowed: letters, digits and _ . -)")
    target = folder / f"{name}.yaml"
    if target.exists():
        fail(f"{target} already exists; choose another name")
    if not (folder / f"{parent}.yaml").is_file():
        fail(f"no scenario '{parent}' in {folder} to start from")
    try:
        target.write_text(scenario_template(name, parent), encoding="utf-8")
        load_scenario(target)
    except ScenarioError as exc:
        target.unlink(missing_ok=True)
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    out.print(f"Wrote [bold]{target}[/]; edit it, then: sim validate {target} && sim run {target}", highlight=False)


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="scenario YAML files")]) -> None:
    """Check scenario files without running them."""
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario

    bad = 0
    for path in files:
        try:
            resolved = load_scenario(path)
        except ScenarioError as exc:
            from rich.markup import escape

            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            bad += 1
            continue
        spec = resolved.scenario
        out.print(
            f"ok: {path} ({spec.name}: {len(spec.events)} events, {spec.horizon_months} months from {spec.start})",
            highlight=False,
        )
    if bad:
        raise typer.Exit(2)


@app.command()
def compare(
    items: Annotated[list[str], typer.Argument(help="run directories or ids, or scenario files (run now)")],
    seed: SeedOption = None,
    months: MonthsOption = None,
    out_dir: OutOption = "results",
    indicators: Annotated[
        list[str] | None, typer.Option("--indicator", help="headline indicator to show (repeatable; default all)")
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="the run the others are compared with, by its label (default: the first)"),
    ] = None,
) -> None:
    """Headline indicators of several runs side by side, with differences from the first (or from
    --reference); writes an HTML report, Markdown, CSV and overlay plots."""
    out_dir = results_dir(out_dir)
    from sim.api import simulate
    from sim.results.compare import HEADLINE, Compared, compare_table, unique_labels, wide
    from sim.results.runs import RunError, find_run
    from sim.results.store import StoreError, save_comparison
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.viz.compare_plots import OVERLAYS

    if len(items) < 2:
        fail("compare needs at least two runs or scenario files")
    check_indicators(indicators or [], list(HEADLINE))
    compared = []
    for item in items:
        try:
            if item.endswith((".yaml", ".yml")):
                result = simulate(load_scenario(item, with_horizon(None, months)), seed=seed)
                source = provenance(item, result.name, result.resolved.hash, result.seed, result.months)
                compared.append(Compared(f"{result.name} s{result.seed}", result.summary, result.series, source))
            else:
                run = find_run(item, out_dir)
                for variable in OVERLAYS:  # a damaged time series is found before anything is printed
                    run.series(variable)
                m = run.manifest
                source = provenance(run.run_id, m.scenario_name, m.scenario_hash, m.seed, m.months)
                compared.append(Compared(run.label, run.minerals, run.series, source))
        except (ScenarioError, RunError) as exc:
            fail(str(exc))
    compared = unique_labels(compared)
    if reference is not None:  # the reference goes first: every difference is taken from the first
        chosen = [c for c in compared if c.label == reference]
        if not chosen:
            fail(f"--reference {reference!r} is none of the runs (allowed: {', '.join(c.label for c in compared)})")
        compared = [chosen[0], *(c for c in compared if c is not chosen[0])]
    labels = [c.label for c in compared]
    table = compare_table(compared, indicators)
    for indicator in dict.fromkeys(table["indicator"]):
        frame = wide(table, indicator, labels)
        rich_table = Table(title=HEADLINE[indicator][0], title_justify="left")
        rich_table.add_column("mineral")
        for column in frame.columns:
            rich_table.add_column(column, justify="right")
        for mineral, row in frame.iterrows():
            rich_table.add_row(str(mineral), *(format_cell(v, indicator) for v in row))
        out.print(rich_table)
    try:
        folder = save_comparison(compared, table, out_dir)
    except (StoreError, RunError) as exc:
        fail(str(exc))
    out.print(f"Saved comparison to [bold]{folder}[/] (report.html, compare.md, compare.csv, plots)", highlight=False)


def provenance(source: str, scenario: str, scenario_hash: str, seed: int, months: int) -> dict[str, object]:
    """Where a compared run comes from: enough to rerun it."""
    return {"source": source, "scenario": scenario, "scenario_hash": scenario_hash, "seed": seed, "months": months}


def format_cell(value: object, indicator: str | None = None) -> str:
    from sim.results.compare import format_value

    return format_value(value, indicator)


@app.command()
def runs(
    out_dir: OutOption = "results",
    clean: Annotated[
        bool,
        typer.Option("--clean", help="remove partial folders sim left when killed (untouched for an hour)"),
    ] = False,
) -> None:
    """List the complete runs in the results directory, oldest first, and the other results beside them;
    name on stderr each folder that cannot be read and why."""
    out_dir = results_dir(out_dir)
    from rich.markup import escape

    from sim.results.runs import scan

    if clean:
        clean_partials(out_dir)
    index = scan(out_dir)
    for skipped in index.skipped:
        err.print(f"[yellow]skipped:[/] {escape(skipped.reason)}", highlight=False, soft_wrap=True)
    if not index.runs and not index.others:
        out.print(f"no runs in {out_dir}", highlight=False)
        return
    if index.runs:
        out.print(runs_table(index.runs, f"runs in {out_dir}"))
    if index.others:
        table = Table(title=f"other results in {out_dir}", title_justify="left")
        for header in ("folder", "kind", "of", "what"):
            table.add_column(header)
        for other in index.others:
            table.add_row(other.path.name, other.kind, other.scenario, other.detail)
        out.print(table)


def runs_table(found: list[StoredRun], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("run id", "label", "seed / runs", "months", "created (UTC)", "worst shortfall", "peak price"):
        table.add_column(header)
    for run in found:
        minerals, m = run.minerals, run.manifest
        worst = max(minerals, key=lambda k: minerals[k]["cumulative_shortfall_share"])
        priciest = max(minerals, key=lambda k: minerals[k]["price_outside_peak_ratio"])
        table.add_row(
            run.run_id,
            run.label,
            f"{m.runs} runs" if run.kind == "ensemble" else str(m.seed),
            str(m.months),
            m.created_utc,
            f"{worst} {100 * minerals[worst]['cumulative_shortfall_share']:.1f}%",
            f"{priciest} {minerals[priciest]['price_outside_peak_ratio']:.2f}x",
        )
    return table


def clean_partials(out_dir: Path) -> None:
    """Remove the partial folders sim made and left over an hour ago; say what was left and why."""
    import shutil

    from sim.results.runs import partials

    for partial in partials(out_dir):
        if not partial.removable:
            out.print(f"left {partial.path}: {partial.reason}", highlight=False, soft_wrap=True)
            continue
        try:
            shutil.rmtree(partial.path)
        except OSError as exc:
            err.print(f"could not remove {partial.path}: {exc.strerror or exc}", highlight=False, soft_wrap=True)
            continue
        out.print(f"removed {partial.path} ({partial.reason})", highlight=False, soft_wrap=True)


@app.command()
def show(
    run: Annotated[str, typer.Argument(help="run directory or id (a unique prefix is enough)")],
    out_dir: OutOption = "results",
    wide: Annotated[bool, typer.Option("--wide", help="one wide summary table instead of two 80-column ones")] = False,
) -> None:
    """Print one stored run: what was run and its summary table."""
    out_dir = results_dir(out_dir)
    from sim.results.runs import RunError, find_run

    try:
        stored = find_run(run, out_dir)
    except RunError as exc:
        fail(str(exc))
    m = stored.manifest
    size = f"{m.runs} runs (medians)" if stored.kind == "ensemble" else f"seed {m.seed}"
    out.print(f"[bold]{stored.run_id}[/]  {stored.path}", highlight=False)
    out.print(
        f"scenario {m.scenario_name} ({', '.join(m.scenario_files)}), hash {m.scenario_hash[:12]}, "
        f"{size}, {m.months} months, sim {m.package_version or '?'}, created {m.created_utc or '?'}",
        highlight=False,
    )
    print_summary_table(f"{m.scenario_name} — {size}", stored.minerals, wide)


def print_summary(result: RunResult, wide: bool = False) -> None:
    title = f"{result.name} — seed {result.seed}, {result.months} months from {result.resolved.scenario.start}"
    if result.resolved.coherent:
        title += ", world data drawn from their ranges (--uncertain)"
    print_summary_table(title, result.summary, wide)


def _percent(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}"


# The run summary's columns: header, part, cell. Each part fits an 80-column terminal; --wide prints all
# of them in one table.
SUMMARY_PARTS = {1: "US shortfall", 2: "capacity and funding", 3: "prices and import reliance"}
SUMMARY_COLUMNS: list[tuple[str, int, Callable[[dict], str]]] = [
    ("shortfall\n% demand", 1, lambda r: _percent(r["cumulative_shortfall_share"])),
    ("peak\n% month", 1, lambda r: _percent(r["peak_shortfall_share"])),
    ("months\nshort", 1, lambda r: str(r["months_in_shortfall"])),
    ("defence\nshort %", 1, lambda r: _percent(r["defence_shortfall_share"])),
    ("others\nshort max %", 1, lambda r: _percent(r.get("other_regions_shortfall_share_max", 0))),
    ("capacity gap\npeak, t/yr", 2, lambda r: f"{r['capacity_gap_t_per_yr_peak']:,.0f}"),
    ("gap peak\n% demand", 2, lambda r: _percent(r["capacity_gap_share_peak"], 0)),
    ("funding\nUSD m", 2, lambda r: f"{r['funding_committed_usd'] / 1e6:,.0f}"),
    ("built\nt/yr", 2, lambda r: f"{r['capacity_built_t_per_yr']:,.0f}"),
    (
        "price peak x\nUS / out",
        3,
        lambda r: (
            f"{r.get('price_us_peak_ratio', r['price_outside_peak_ratio']):.2f} / {r['price_outside_peak_ratio']:.2f}"
        ),
    ),
    ("price in\nmin x", 3, lambda r: f"{r['price_inside_min_ratio']:.2f}"),
    (
        "import reliance\nend / with feed",
        3,
        lambda r: (
            f"{_percent(r['import_reliance_end'], 0)}% / "
            f"{_percent(r.get('import_reliance_incl_feedstock_end', r['import_reliance_end']), 0)}%"
        ),
    ),
]


def print_summary_table(title: str, summary: dict, wide: bool = False) -> None:
    """The headline tables, one per part, each fitting 80 columns; or one with `wide`. "with feed": the
    import reliance counting the imported feedstock of US processors as imports too."""
    print_mineral_tables(title, summary, SUMMARY_PARTS, SUMMARY_COLUMNS, wide)
