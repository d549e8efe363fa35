"""Where the command line writes: results to stdout; refusals, notes and progress bars to stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sim.executors import StartProgress

out = Console()
err = Console(stderr=True)
if not out.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
    out = Console(width=160)

# The errors the library raises for what a user can put right; each says what is wrong on one line.
REFUSALS = {
    "sim.scenario.errors": "ScenarioError",
    "sim.executors": "ExecutorError",
    "sim.results.store": "StoreError",
    "sim.results.runs": "RunError",
    "sim.viz.serve": "DashboardError",
}


def print_error(message: str) -> None:
    """One `error:` line on stderr, the message shown as it is (no rich markup read into it)."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Refuse: one `error:` line on stderr, exit code 2."""
    print_error(message)
    raise typer.Exit(2)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a library refusal (REFUSALS) raised inside the block into `fail`. An error class whose module
    was never imported cannot have been raised, so only loaded modules are looked in: a command imports
    nothing it does not use."""
    try:
        yield
    except Exception as exc:
        known = tuple(getattr(sys.modules[name], cls) for name, cls in REFUSALS.items() if name in sys.modules)
        if not isinstance(exc, known):
            raise
        fail(str(exc))


@contextmanager
def progress_bar() -> Iterator[StartProgress]:
    """A StartProgress for the library: a transient bar on stderr from when the work is known until the
    block ends. Inside `refusals()`, so that the bar is taken down before a refusal is printed."""
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

    def start(label: str, total: int) -> Callable[[int], None]:
        task = bar.add_task(label, total=total)
        bar.start()
        return lambda n: bar.advance(task, n)

    try:
        yield start
    finally:
        if bar.live.is_started:  # stopping a bar never started would still print a blank line
            bar.stop()
