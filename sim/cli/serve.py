"""`sim dashboard`: the workshop dashboard in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import err, fail, out, refusals


def dashboard(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario YAML file selected first (default: china_ban); all can be chosen")
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (default: this machine only; 0.0.0.0: the network)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = 8765,
) -> None:
    """Serve the workshop dashboard in a browser: every scenario, levers that redraw at once, step and play."""
    from sim.scenario.load import SHIPPED, load_scenario
    from sim.viz.instant import DEFAULT_SCENARIO, scenario_catalogue
    from sim.viz.serve import LOCAL_HOSTS, check_setup, dashboard_urls, serve_dashboard

    with refusals():
        if scenario is not None:
            load_scenario(scenario)  # refused here, in one line, rather than in the browser
        check_setup(host, port)
    first = DEFAULT_SCENARIO if scenario is None else scenario.stem  # the page lists scenarios by file name
    if first not in scenario_catalogue(scenario):
        fail(f"no {first}.yaml in {SHIPPED}: give the dashboard a scenario file")
    urls = " or ".join(dashboard_urls(host, port))
    out.print(f"Dashboard (first [bold]{first}[/]) at {urls}  (Ctrl-C to stop)", highlight=False)
    if host not in LOCAL_HOSTS:
        err.print(f"[yellow]note:[/] listening on {host}: anyone who can reach this machine can open the dashboard")
    raise typer.Exit(serve_dashboard(scenario, host, port))
