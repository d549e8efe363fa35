"""`sim sweep` (a grid or Latin hypercube of inputs) and `sim sensitivity` (inputs ranked by effect)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sim.cli.console import out, progress_bar, refusals
from sim.cli.options import (
    AddressOption,
    ExecutorOption,
    MonthsOption,
    OutOption,
    SeedOption,
    SetOption,
    WorkersOption,
    check_choice,
    check_executor,
    check_indicators,
    results_dir,
)

if TYPE_CHECKING:
    from sim.sensitivity import SensitivityResult
    from sim.sweep import Sweep

SHOWN_POINTS = 40  # a sweep prints this many points; points.csv holds them all


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
    from sim.results.compare import HEADLINE
    from sim.results.studies import save_sweep
    from sim.sweep import run_sweep

    check_executor(executor, address)
    check_choice("--sample", sample, ("grid", "lhs"))
    check_indicators([indicator], [*HEADLINE, "capacity_gap_t_per_yr_end", "time_to_recover_months"])
    with refusals(), progress_bar() as progress:
        result = run_sweep(
            scenario,
            vary,
            sample,
            n,
            seed=seed,
            months=months,
            overrides=overrides or [],
            executor=executor,
            workers=workers,
            address=address,
            progress=progress,
        )
    out.print(points_table(result, indicator))
    if indicator == "time_to_recover_months":
        out.print("-: never short; -1: still short at the horizon", highlight=False)
    if len(result.points) > SHOWN_POINTS:
        out.print(f"... {len(result.points) - SHOWN_POINTS} more points in points.csv")
    with refusals():
        saved = save_sweep(result, indicator, out_dir)
    out.print(f"Saved [bold]{saved.folder}[/]", highlight=False)


def points_table(result: Sweep, indicator: str) -> Table:
    """The first SHOWN_POINTS points: the inputs, then the indicator for each mineral it moves for."""
    shown = result.per_point(indicator)
    table = Table(title=f"{indicator} per point", title_justify="left")
    for header in [*result.inputs, *shown.columns]:
        table.add_column(header, justify="right")
    for k, point in enumerate(result.points[:SHOWN_POINTS]):
        values = (shown.loc[k, m] for m in shown.columns)
        table.add_row(*(str(point[i]) for i in result.inputs), *("-" if v != v else f"{v:.4g}" for v in values))
    return table


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
    from sim.results.compare import HEADLINE
    from sim.results.studies import save_sensitivity
    from sim.sensitivity import run_sensitivity_file

    check_executor(executor, address)
    check_choice("--method", method, ("morris", "sobol"))
    check_indicators([indicator], list(HEADLINE))
    with refusals(), progress_bar() as progress:
        study = run_sensitivity_file(
            scenario,
            method,
            n,
            indicator,
            seed,
            months,
            overrides or [],
            progress,
            executor=executor,
            workers=workers,
            address=address,
        )
    result = study.result
    out.print(
        ranking_table(result) if len(result.ranking) else f"{indicator} does not move for any mineral over these inputs"
    )
    with refusals():
        saved = save_sensitivity(study, out_dir)
    out.print(f"Saved [bold]{saved.folder}[/]", highlight=False)


def ranking_table(result: SensitivityResult) -> Table:
    effect, spread = ("mu*", "sigma") if result.method == "morris" else ("total index ST", "first-order S1")
    title = f"{result.indicator}: inputs ranked by {result.method} ({result.samples} runs)"
    table = Table(title=title, title_justify="left")
    for header in ("mineral", "rank", "input", effect, spread):
        table.add_column(header, justify="left" if header in ("mineral", "input") else "right")
    for row in result.ranking.itertuples():
        table.add_row(row.mineral, str(row.rank), row.input, f"{row.effect:.4g}", f"{row.spread:.4g}")
    return table
