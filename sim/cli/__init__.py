"""The `sim` command: a thin shell over the library, one module per group of commands (sim/cli/app.py
lists them). Heavy imports happen inside commands, so `sim --help` is quick."""

import sim.clock  # noqa: F401  (first: the fallback origin of a run's printed total, where /proc is missing)
from sim.cli.app import app, entry

__all__ = ["app", "entry"]
