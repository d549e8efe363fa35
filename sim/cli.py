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


def print_summary(result: RunResult) -> None:
    table = Table(
        title=f"{result.name} — seed {result.seed}, {result.months} months from {result.resolved.scenario.start}",
        title_justify="left",
    )
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
    for mineral, row in result.summary.items():
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
