"""The game's page templates (jinja2, autoescaped), with the number formats every page shares."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from sim.viz.palette import mineral_colour

POLL_MS = 1500  # how often open pages ask whether the game has moved on


def templates() -> Environment:
    env = Environment(loader=PackageLoader("sim.game", "templates"), autoescape=select_autoescape(), trim_blocks=True)
    env.filters["t"] = lambda v: f"{v:,.0f}"
    env.filters["usd"] = lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    env.filters["pct"] = lambda v: f"{100 * v:.1f} %"
    env.filters["musd"] = lambda v: f"{v:,.0f}"
    env.filters["signed"] = lambda v: "0" if round(v) == 0 else f"{v:+,.0f}"
    env.globals["colour"] = mineral_colour
    env.globals["poll_ms"] = POLL_MS
    return env
