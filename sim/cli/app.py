"""The `sim` typer app: its commands, the options every command shares, and the console script."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sim.cli import check, decide, explore, run, scenario, serve, stored
from sim.cli.console import out, print_error
from sim.game.command import game_command

app = typer.Typer(
    help="Scenario simulator of US critical-mineral supply chains: export bans, power prices, funding.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Every command, in the order `sim --help` lists them. A command is a function of its options that calls
# the library once and prints what it returns; adding one is one line here.
COMMANDS = [
    run.run,
    explore.sweep,
    explore.sensitivity,
    decide.discover,
    decide.robust,
    check.hindcast,
    stored.report,
    serve.dashboard,
    ("game", game_command),  # sim/game: the role-play game's server
    scenario.schema,
    scenario.new,
    scenario.validate,
    stored.compare,
    stored.runs,
    run.show,
]
for command in COMMANDS:
    name, function = command if isinstance(command, tuple) else (None, command)
    app.command(name=name)(function)


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
            print_error(exc.format_message() + where)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
