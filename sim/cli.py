"""The `sim` command: a thin shell over the library. Heavy imports happen inside commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sim.api import RunResult

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


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    seed: SeedOption = None,
    months: MonthsOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="results directory")] = Path("results"),
    overrides: SetOption = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="write PNG plots")] = True,
) -> None:
    """Simulate a scenario, print its shortfalls and capacity gaps, and save the run."""
    from sim.api import simulate
    from sim.results.store import StoreError, save_run
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario

    try:
        resolved = load_scenario(scenario, overrides or [])
    except ScenarioError as exc:
        fail(str(exc))
    result = simulate(resolved, seed=seed, months=months)
    try:
        folder = save_run(result, out_dir, with_plots=plots)
    except StoreError as exc:
        fail(str(exc))
    print_summary(result)
    t = result.timings
    out.print(
        f"Saved [bold]{folder}[/]  (model {t['model_s'] * 1000:.0f} ms, total {sum(t.values()):.2f} s)",
        highlight=False,
    )


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
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            bad += 1
            continue
        spec = resolved.scenario
        out.print(
            f"ok: {path} ({spec.name}: {len(spec.events)} events, {spec.horizon_months} months from {spec.start})",
            highlight=False,
        )
    if bad:
        raise typer.Exit(2)


OutOption = Annotated[Path, typer.Option("--out", help="results directory")]


@app.command()
def compare(
    items: Annotated[list[str], typer.Argument(help="run directories or ids, or scenario files (run now)")],
    seed: SeedOption = None,
    months: MonthsOption = None,
    out_dir: OutOption = Path("results"),
    indicators: Annotated[
        list[str] | None, typer.Option("--indicator", help="headline indicator to show (repeatable; default all)")
    ] = None,
) -> None:
    """Headline indicators of several runs side by side, with differences from the first; writes
    Markdown, CSV and overlay plots."""
    from sim.api import simulate
    from sim.results.compare import HEADLINE, Compared, compare_table, to_markdown, unique_labels, wide
    from sim.results.runs import RunError, find_run
    from sim.results.store import StoreError, atomic_directory, new_id
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.viz.compare_plots import save_overlays

    if len(items) < 2:
        fail("compare needs at least two runs or scenario files")
    unknown = [i for i in indicators or [] if i not in HEADLINE]
    if unknown:
        fail(f"unknown indicator '{unknown[0]}' (allowed: {', '.join(HEADLINE)})")
    compared = []
    for item in items:
        try:
            if item.endswith((".yaml", ".yml")):
                result = simulate(load_scenario(item), seed=seed, months=months)
                compared.append(Compared(f"{result.name} s{result.seed}", result.summary, result.series))
            else:
                run = find_run(item, out_dir)
                compared.append(Compared(run.label, run.minerals, run.series))
        except (ScenarioError, RunError) as exc:
            fail(str(exc))
    compared = unique_labels(compared)
    labels = [c.label for c in compared]
    table = compare_table(compared, indicators)
    for indicator in dict.fromkeys(table["indicator"]):
        frame = wide(table, indicator, labels)
        rich_table = Table(title=HEADLINE[indicator][0], title_justify="left")
        rich_table.add_column("mineral")
        for column in frame.columns:
            rich_table.add_column(column, justify="right")
        for mineral, row in frame.iterrows():
            rich_table.add_row(str(mineral), *(format_cell(v) for v in row))
        out.print(rich_table)
    try:
        with atomic_directory(out_dir, new_id("compare")) as folder:
            (folder / "compare.md").write_text(to_markdown(table, labels) + "\n", encoding="utf-8")
            table.to_csv(folder / "compare.csv", index=False)
            save_overlays(compared, folder)
    except (StoreError, RunError) as exc:
        fail(str(exc))
    out.print(f"Saved comparison to [bold]{out_dir / folder.name[len('.tmp-') :]}[/]", highlight=False)


def format_cell(value: object) -> str:
    from sim.results.compare import format_value

    return format_value(value)


@app.command()
def runs(out_dir: OutOption = Path("results")) -> None:
    """List the complete runs in the results directory, oldest first."""
    from sim.results.runs import list_runs

    found = list_runs(out_dir)
    if not found:
        out.print(f"no runs in {out_dir}")
        return
    table = Table(title=f"runs in {out_dir}", title_justify="left")
    for header in ("run id", "scenario", "seed / runs", "months", "created (UTC)", "worst shortfall", "peak price"):
        table.add_column(header)
    for run in found:
        minerals = run.minerals
        worst = max(minerals, key=lambda m: minerals[m].get("cumulative_shortfall_share", 0))
        priciest = max(minerals, key=lambda m: minerals[m].get("price_outside_peak_ratio", 0))
        size = f"{run.manifest['runs']} runs" if run.kind == "ensemble" else str(run.manifest["seed"])
        table.add_row(
            run.run_id,
            run.manifest["scenario_name"],
            size,
            str(run.manifest["months"]),
            run.manifest.get("created_utc", ""),
            f"{worst} {100 * minerals[worst].get('cumulative_shortfall_share', 0):.1f}%",
            f"{priciest} {minerals[priciest].get('price_outside_peak_ratio', 0):.2f}x",
        )
    out.print(table)


@app.command()
def show(
    run: Annotated[str, typer.Argument(help="run directory or id (a unique prefix is enough)")],
    out_dir: OutOption = Path("results"),
) -> None:
    """Print one stored run: what was run and its summary table."""
    from sim.results.runs import RunError, find_run

    try:
        stored = find_run(run, out_dir)
    except RunError as exc:
        fail(str(exc))
    m = stored.manifest
    out.print(f"[bold]{stored.run_id}[/]  {stored.path}", highlight=False)
    out.print(
        f"scenario {m['scenario_name']} ({', '.join(m.get('scenario_files', []))}), hash {m['scenario_hash'][:12]}, "
        f"seed {m['seed']}, {m['months']} months, sim {m.get('package_version')}, created {m.get('created_utc')}",
        highlight=False,
    )
    print_summary_table(f"{m['scenario_name']} — seed {m['seed']}", stored.minerals)


def print_summary(result: RunResult) -> None:
    title = f"{result.name} — seed {result.seed}, {result.months} months from {result.resolved.scenario.start}"
    print_summary_table(title, result.summary)


def print_summary_table(title: str, summary: dict) -> None:
    table = Table(title=title, title_justify="left")
    for header in (
        "mineral",
        "shortfall\n% demand",
        "peak\n% month",
        "months\nshort",
        "defence\nshort %",
        "capacity gap\npeak, t/yr",
        "gap peak\n% demand",
        "price out\npeak x",
        "price in\nmin x",
        "import\nreliance",
        "funding\nUSD m",
        "built\nt/yr",
    ):
        table.add_column(header, justify="left" if header == "mineral" else "right")
    for mineral, row in summary.items():
        table.add_row(
            mineral,
            f"{100 * row['cumulative_shortfall_share']:.1f}",
            f"{100 * row['peak_shortfall_share']:.1f}",
            str(row["months_in_shortfall"]),
            f"{100 * row['defence_shortfall_share']:.1f}",
            f"{row['capacity_gap_t_per_yr_peak']:,.0f}",
            f"{100 * row['capacity_gap_share_peak']:.0f}",
            f"{row['price_outside_peak_ratio']:.2f}",
            f"{row['price_inside_min_ratio']:.2f}",
            f"{100 * row['import_reliance_end']:.0f}%",
            f"{row['funding_committed_usd'] / 1e6:,.0f}",
            f"{row['capacity_built_t_per_yr']:,.0f}",
        )
    out.print(table)


def main() -> None:  # pragma: no cover - console entry point alias
    app()
