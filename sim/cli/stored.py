"""Stored results: `sim runs` (the index), `sim compare` (runs side by side) and `sim report` (one HTML page)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from sim.cli.console import err, fail, out, refusals
from sim.cli.options import MonthsOption, OutOption, SeedOption, check_indicators, results_dir
from sim.cli.tables import runs_cap_note, runs_table, whole_column

if TYPE_CHECKING:
    from sim.api import ComparedRuns
    from sim.results.runs import Index


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
    """Headline indicators of several runs side by side, with each later run minus the first (or minus
    --reference); writes an HTML report, Markdown, CSV and overlay plots."""
    out_dir = results_dir(out_dir)
    from sim.api import compare as compare_runs
    from sim.results.compare import HEADLINE, compare_cap_note
    from sim.results.store import save_comparison

    if len(items) < 2:
        fail("compare needs at least two runs or scenario files")
    check_indicators(indicators or [], list(HEADLINE))
    with refusals():
        compared = compare_runs(items, seed, months, out_dir, indicators, reference)
    if compared.note:
        out.print(compared.note, highlight=False, soft_wrap=True)
    for table in compare_tables(compared):
        out.print(table)
    if cap_note := compare_cap_note(compared.table):
        out.print(cap_note, highlight=False, soft_wrap=True)
    with refusals():
        folder = save_comparison(compared.runs, compared.table, out_dir)
    out.print(f"Saved comparison to [bold]{folder}[/] (report.html, compare.md, compare.csv, plots)", highlight=False)


def compare_tables(compared: ComparedRuns) -> list[Table]:
    """One table per indicator: each mineral's value in every run, and each later run minus the first."""
    from sim.results.compare import HEADLINE, shown

    tables = []
    for indicator in dict.fromkeys(compared.table["indicator"]):
        frame = shown(compared.table, indicator, compared.labels)
        table = Table(title=HEADLINE[indicator][0], title_justify="left")
        table.add_column("mineral")
        for column in frame.columns:
            table.add_column(column, justify="right")
        for mineral, row in frame.iterrows():
            table.add_row(str(mineral), *row)
        tables.append(table)
    return tables


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

    from sim.results.runs import clean_partials, scan

    if clean:
        for cleaned in clean_partials(out_dir):
            if cleaned.outcome == "failed":
                err.print(f"could not remove {cleaned.path}: {cleaned.reason}", highlight=False, soft_wrap=True)
            elif cleaned.outcome == "left":
                out.print(f"left {cleaned.path}: {cleaned.reason}", highlight=False, soft_wrap=True)
            else:
                out.print(f"removed {cleaned.path} ({cleaned.reason})", highlight=False, soft_wrap=True)
    index = scan(out_dir)
    for skipped in index.skipped:
        err.print(f"[yellow]skipped:[/] {escape(skipped.reason)}", highlight=False, soft_wrap=True)
    if not index.runs and not index.others:
        out.print(f"no runs in {out_dir}", highlight=False)
        return
    if index.runs:
        out.print(runs_table(index.runs, f"runs in {out_dir}"))
        if note := runs_cap_note(index.runs):
            out.print(note, highlight=False)
    if index.others:
        out.print(others_table(index, out_dir))


def others_table(index: Index, out_dir: Path) -> Table:
    table = Table(title=f"other results in {out_dir}", title_justify="left")
    whole_column(table, "folder", [other.path.name for other in index.others])
    for header in ("kind", "of", "what"):
        table.add_column(header, overflow="fold")
    for other in index.others:
        table.add_row(other.path.name, other.kind, other.scenario, other.detail)
    return table


def report(
    run: Annotated[str, typer.Argument(help="run directory or id (a unique prefix is enough), or a compare folder")],
    output: Annotated[str | None, typer.Option("--output", help="HTML file (default: <results>/<run id>.html)")] = None,
    out_dir: OutOption = "results",
) -> None:
    """Write one self-contained HTML report of a stored run or comparison (plots embedded; opens offline)."""
    out_dir = results_dir(out_dir)
    from sim.results.store import write_file_atomic
    from sim.viz.report import report_of

    with refusals():
        page = report_of(run, out_dir)
    target = report_target(output, out_dir, page.name)
    with refusals():
        write_file_atomic(target, page.text)
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
