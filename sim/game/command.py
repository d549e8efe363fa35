"""`sim game SCENARIO`: serve the role-play game (registered in sim/cli.py with one line).

Kept light: the web stack is imported only once the scenario and the port have been checked, so a
mistake is reported in one line before anything heavy loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_PORT = 8770  # apart from the dashboards (8765, and 8766 for a second one in docs/workshop.md)
GAME_EXTRA = "pip install 'critical-minerals-sim[viz]'"


def game_command(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file the game starts from")],
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=50, help="rounds, one a year")] = 3,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="random seed (default: the scenario's)")] = None,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (default: this machine only; 0.0.0.0: the network)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port")] = DEFAULT_PORT,
    out: Annotated[Path, typer.Option("--out", help="results directory (the debrief is saved there)")] = Path(
        "results"
    ),
) -> None:
    """Serve the role-play game: each team on its own page, a facilitator closes each round (a year)."""
    from rich.console import Console
    from rich.markup import escape

    from sim.game.game import Game, GameError
    from sim.scenario.errors import ScenarioError
    from sim.scenario.load import load_scenario
    from sim.viz.serve import LOCAL_HOSTS, DashboardError, check_port_free, dashboard_urls

    err = Console(stderr=True)

    def fail(message: str) -> None:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)

    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a directory for the results")
    try:
        resolved = load_scenario(scenario)
        Game("check", resolved, rounds, seed)  # the rounds fit the scenario's horizon
        check_port_free(host, port)
        import starlette  # noqa: F401
        import uvicorn
    except (ScenarioError, GameError, DashboardError) as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"the game needs the viz extra ({exc}): {GAME_EXTRA}")

    from sim.game.web import Games, game_app

    urls = dashboard_urls(host, port)
    base = urls[-1].rstrip("/")  # the network's address when listening on it
    console = Console()

    def announce(game: Game, links: dict[str, str]) -> None:
        """Each page's link with its key: the facilitator keeps theirs and hands each team its own."""
        console.print(
            f"Game {game.id} of [bold]{escape(resolved.scenario.name)}[/], {len(game.rounds)} rounds: "
            + " or ".join(f"{url}game/{game.id}/" for url in urls)
            + ("  (Ctrl-C to stop)" if game.id == "1" else ""),
            highlight=False,
        )
        width = max(map(len, links))
        for who, link in links.items():
            console.print(f"  {who:<{width}}  {base}{link}", highlight=False, soft_wrap=True)
        console.print(
            "Keep the facilitator's link; hand each team its own (or its key: the front page asks for it).",
            highlight=False,
            soft_wrap=True,
        )

    games = Games(resolved, rounds, seed, out, announce)
    games.new()
    if host not in LOCAL_HOSTS:
        err.print(f"[yellow]note:[/] listening on {host}: anyone who can reach this machine can play")
    uvicorn.run(game_app(games, host), host=host, port=port, log_level="warning")
