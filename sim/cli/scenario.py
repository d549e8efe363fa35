"""Scenario files: `sim schema` (for editors), `sim new` (from the template) and `sim validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import fail, out, print_error, refusals


def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    import json

    from sim.scenario.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))


def new(
    name: Annotated[str, typer.Argument(help="the new scenario's name (letters, digits, _ . -)")],
    parent: Annotated[str, typer.Option("--from", help="scenario to extend")] = "baseline",
    folder: Annotated[Path, typer.Option("--dir", help="where scenario files live")] = Path("scenarios"),
) -> None:
    """Write a commented scenario file to start from."""
    from sim.scenario.files import write_new_scenario
    from sim.scenario.schema import NAME_PATTERN

    if not NAME_PATTERN.fullmatch(name):
        fail(f"{name!r} is not a scenario name (allowed: letters, digits and _ . -)")
    target = folder / f"{name}.yaml"
    if target.exists():
        fail(f"{target} already exists; choose another name")
    if not (folder / f"{parent}.yaml").is_file():
        fail(f"no scenario '{parent}' in {folder} to start from")
    try:
        with refusals():
            write_new_scenario(target, parent)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
    out.print(f"Wrote [bold]{target}[/]; edit it, then: sim validate {target} && sim run {target}", highlight=False)


def validate(files: Annotated[list[Path], typer.Argument(help="scenario YAML files")]) -> None:
    """Check scenario files without running them."""
    from sim.scenario.files import check_files

    checked = check_files(files)
    for file in checked:
        if file.error is not None:
            print_error(str(file.error))
            continue
        spec = file.resolved.scenario
        out.print(
            f"ok: {file.path} ({spec.name}: {len(spec.events)} event{'' if len(spec.events) == 1 else 's'}, "
            f"{spec.horizon_months} months from {spec.start})",
            highlight=False,
        )
    if any(file.error is not None for file in checked):
        raise typer.Exit(2)
