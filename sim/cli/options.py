"""Options shared by several commands, each defined once, and the checks made on them before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import fail

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
WideOption = Annotated[bool, typer.Option("--wide", help="one wide summary table instead of two 80-column ones")]
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


def check_executor(executor: str, address: str | None) -> None:
    """The executor and the dask address, checked before any work or progress bar starts."""
    from sim.executors import ExecutorError, check_address

    check_choice("--executor", executor, ("local", "dask"))
    if address is not None and executor != "dask":
        fail(f"--address {address!r} names a dask scheduler: add --executor dask")
    try:
        if address is not None:
            check_address(address)
    except ExecutorError as exc:
        fail(str(exc))


def checked_label(label: str | None) -> str:
    """A label is one printable line of at most 80 characters."""
    if label is None:
        return ""
    text = label.strip()
    if not text or len(text) > 80 or not text.isprintable():
        fail(f"--label {label[:40]!r} is not a label (allowed: one line of printable text, 1 to 80 characters)")
    return text


def check_choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        fail(f"{option} '{value}' is not known (allowed: {', '.join(allowed)})")


def check_indicators(names: list[str], allowed: list[str]) -> None:
    unknown = [name for name in names if name not in allowed]
    if unknown:
        fail(f"unknown indicator '{unknown[0]}' (allowed: {', '.join(allowed)})")
