"""`sim dashboard`: the workshop dashboard in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import err, out, refusals


def dashboard(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")] = Path("scenarios/china_ban.yaml"),
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (default: this machine only; 0.0.0.0: the network)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = 8765,
) -> None:
    """Serve the workshop dashboard in a browser: levers, step and play, live charts."""
    from sim.scenario.load import load_scenario
    from sim.viz.serve import LOCAL_HOSTS, check_setup, dashboard_urls, serve_dashboard

    with refusals():
        resolved = load_scenario(scenario)
        check_setup(host, port)
    urls = " or ".join(dashboard_urls(host, port))
    out.print(f"Dashboard of [bold]{resolved.scenario.name}[/] at {urls}  (Ctrl-C to stop)", highlight=False)
    if host not in LOCAL_HOSTS:
        err.print(f"[yellow]note:[/] listening on {host}: anyone who can reach this machine can open the dashboard")
    raise typer.Exit(serve_dashboard(scenario, host, port))
