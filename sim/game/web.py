"""The game's web pages: a small Starlette app with server-rendered forms and a little polling script.

    /                              the games on this server; start another (its starter is its facilitator)
    /game/<id>/                    the game's front page: its teams, and a form to join one with its key
    /game/<id>/join                the front page's form: to the team's page, with the key given
    /game/<id>/team/<team>         a team's brief, budget, levers, and the results so far (with its key)
    /game/<id>/facilitator         who has submitted; close the round (with a world card); the results; the
                                   teams' links (with the facilitator's key)
    /game/<id>/debrief             decisions by team and round, and what they led to (after the last round)
    /game/<id>/state.json          what the pages poll to know when to refresh

Each team's page and the facilitator's open with a key of their own (`?key=`, then a cookie of the game):
the facilitator hands each team its key or link (`sim game` prints them, the facilitator's page lists
them), so that a team sees only its own brief and nobody decides for another team by mistake or on
purpose. The keys keep honest people apart in a workshop room; they are no defence against someone
who can read the network's traffic (the pages are plain http).
Requests from other sites' pages are refused (sim.viz.dashboard_server.SameOriginOnly), as the
dashboard's are: any page open in a browser on the workshop network could otherwise post decisions.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sim.game.debrief import render_debrief, save_debrief
from sim.game.game import Game, GameError
from sim.game.pages import templates
from sim.results.store import StoreError
from sim.scenario.load import ResolvedScenario
from sim.viz.dashboard_server import SameOriginOnly, own_names

MAX_FORM_BYTES = 64 * 1024
MAX_GAMES = 50  # a room needs a few; a page that keeps posting must not fill the machine's memory
FACILITATOR = "facilitator"
KEY_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: a key read aloud or off a card is typed right
KEY_LENGTH = 6  # 31**6, about 900 million keys


def new_key() -> str:
    return "".join(secrets.choice(KEY_LETTERS) for _ in range(KEY_LENGTH))


class Games:
    """Every game on this server, by id ("1", "2", ...), each on the server's scenario."""

    def __init__(
        self,
        resolved: ResolvedScenario,
        rounds: int,
        seed: int | None,
        results: Path,
        announce: Callable[[Game, dict[str, str]], None] | None = None,
    ) -> None:
        """`announce`: told of each new game and its pages' links with their keys (`sim game` prints them
        where it was started, for the facilitator: a game started from the page / too)."""
        self.resolved = resolved
        self.announce = announce
        self.rounds = rounds
        self.seed = seed
        self.results = results
        self.games: dict[str, Game] = {}
        self.debriefs: dict[str, Path] = {}  # game id -> the folder its debrief was saved in
        self.keys: dict[str, dict[str, str]] = {}  # game id -> team id (or FACILITATOR) -> its page's key
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, rounds: int | None = None) -> Game:
        with self._lock:
            if len(self.games) >= MAX_GAMES:
                raise GameError(f"this server holds {MAX_GAMES} games already; start another server for more")
            game_id = str(next(self._ids))
            game = Game(game_id, self.resolved, self.rounds if rounds is None else rounds, self.seed)
            self.games[game_id] = game
            self.keys[game_id] = {who: new_key() for who in (FACILITATOR, *game.teams)}
        if self.announce is not None:
            self.announce(game, self.links(game))
        return game

    def links(self, game: Game) -> dict[str, str]:
        """The facilitator's page and each team's, with its key (paths on this server)."""
        keys = self.keys[game.id]
        return {
            who: f"/game/{game.id}/{FACILITATOR if who == FACILITATOR else f'team/{who}'}?key={key}"
            for who, key in keys.items()
        }

    def save_debrief(self, game: Game) -> None:
        """Save a finished game's debrief in the results folder, once."""
        with self._lock:
            if game.finished and game.id not in self.debriefs:
                try:
                    self.debriefs[game.id] = save_debrief(game, self.results)
                except (StoreError, OSError) as exc:
                    raise GameError(f"the debrief could not be saved in {self.results}: {exc}", status=500) from None

    def get(self, game_id: str) -> Game:
        if game_id not in self.games:
            raise GameError(f"no game '{game_id}' on this server; the games are {', '.join(self.games)}", status=404)
        return self.games[game_id]


def game_app(games: Games, host: str = "127.0.0.1") -> Starlette:
    env = templates()

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """A GameError becomes a page saying what was wrong (never a traceback)."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except GameError as exc:
                back = request.headers.get("referer", "/")
                return page("error.html", status=exc.status, message=str(exc), back=back, title="Not possible")

        return endpoint

    def game_of(request: Request) -> Game:
        return games.get(request.path_params["game"])

    def keyed(handler: Callable[[Request, Game, str], Any], who_of: Callable[[Request, Game], str]):
        """A page for one team (or the facilitator) only. Without its key: a page asking for it (403), and
        a decision posted without it is not taken. With its key in the address: a cookie keeps it, and a
        GET goes again to the address without it (it is not left on a screen for the room to read)."""

        async def endpoint(request: Request) -> Response:
            game = game_of(request)
            who = who_of(request, game)
            key = games.keys[game.id][who]
            given = request.query_params.get("key", "")
            in_address = key_matches(given, key)
            if not (in_address or key_matches(request.cookies.get(cookie_name(who), ""), key)):
                owner = "the facilitator" if who == FACILITATOR else game.teams[who].name
                response = page(
                    "key.html", status=403, game=game, who=who, owner=owner, title="Key, please",
                    wrong=bool(given.strip()), lost=request.method == "POST",
                )  # fmt: skip
                response.delete_cookie(cookie_name(who), path=f"/game/{game.id}/")  # a stale one: another game's
                return response
            if in_address and request.method == "GET":
                response = RedirectResponse(same_page(request), status_code=303)
            else:
                response = await handler(request, game, who)
            response.set_cookie(
                cookie_name(who), key, path=f"/game/{game.id}/", httponly=True, samesite="strict", max_age=86400
            )
            return response

        return endpoint

    def team_of(request: Request, game: Game) -> str:
        return game.team(request.path_params["team"]).id

    async def index(request: Request) -> Response:
        if request.method == "POST":
            form = await form_fields(request)
            rounds = form.get("rounds")
            game = games.new(_int(rounds, "rounds") if rounds else None)  # its starter is its facilitator
            return RedirectResponse(games.links(game)[FACILITATOR], status_code=303)  # (the key leaves the address)
        return page("index.html", games=games, title="Games")

    async def front(request: Request) -> Response:
        game = game_of(request)
        return page("front.html", game=game, title=f"Game {game.id}")

    async def join(request: Request) -> Response:
        """The front page's form: to the team's page with the key typed (which that page checks)."""
        game = game_of(request)
        team = game.team(request.query_params.get("team", ""))
        key = request.query_params.get("key", "").strip().lower()
        return RedirectResponse(f"/game/{game.id}/team/{team.id}?key={quote(key)}", status_code=303)

    async def team_page(request: Request, game: Game, who: str) -> Response:
        team = game.team(who)
        if request.method == "POST":
            fields = await form_fields(request)
            await run_in_threadpool(game.submit, team.id, _int(fields.pop("round", None), "round"), fields)
            return RedirectResponse(same_page(request, submitted="1"), status_code=303)
        notice = "submitted" in request.query_params
        with game.lock:
            choices = game.last_choices(team.id)
            return page(
                "team.html",
                game=game,
                team=team,
                choices=choices,
                cost=team.cost(choices),
                notice=notice,
                submitted=game.current is not None and team.id in game.current.decisions,
                watch=_watch(game, "phase"),
                title=f"{team.name}: game {game.id}",
            )

    async def facilitator(request: Request, game: Game, who: str) -> Response:
        if request.method == "POST":
            form = await form_fields(request)
            number = _int(form.get("round"), "round")
            multiplier = _float(form.get("power_multiplier"), "power-price multiplier", 1.0)
            await run_in_threadpool(game.close_round, number, multiplier)
            await run_in_threadpool(games.save_debrief, game)
            return RedirectResponse(same_page(request), status_code=303)
        with game.lock:
            return page(
                "facilitator.html",
                game=game,
                keys=games.keys[game.id],
                links=games.links(game),
                saved=games.debriefs.get(game.id),
                watch=_watch(game, "phase"),
                title=f"Facilitator: game {game.id}",
            )

    async def debrief(request: Request) -> Response:
        game = game_of(request)
        with game.lock:
            if game.current is not None:
                raise GameError(f"the debrief comes after the last round; round {game.current.number} is open")
            return HTMLResponse(render_debrief(game, env, games.debriefs.get(game.id)))

    async def state(request: Request) -> Response:
        return JSONResponse(game_of(request).state())

    routes = [
        Route("/", guarded(index), methods=["GET", "POST"]),
        Route("/game/{game}/", guarded(front)),
        Route("/game/{game}/join", guarded(join)),
        Route("/game/{game}/team/{team}", guarded(keyed(team_page, team_of)), methods=["GET", "POST"]),
        Route(
            "/game/{game}/facilitator",
            guarded(keyed(facilitator, lambda request, game: FACILITATOR)),
            methods=["GET", "POST"],
        ),
        Route("/game/{game}/debrief", guarded(debrief)),
        Route("/game/{game}/state.json", guarded(state)),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SameOriginOnly, names=own_names(host))
    return app


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's fields (the pages post url-encoded forms; a field given twice keeps its last value)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise GameError(f"the form is over {MAX_FORM_BYTES // 1024} KB; the game's forms are far smaller", status=413)
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise GameError("the form could not be read (send it from the game's own page)") from None


def key_matches(given: str, key: str) -> bool:
    """Whether a key typed or kept is `key` (spaces around it and capitals aside). Compared as bytes, in
    constant time: any text typed is a key that does not match, never an error."""
    return bool(given.strip()) and secrets.compare_digest(given.strip().lower().encode(), key.encode())


def same_page(request: Request, **fields: str) -> str:
    """This page's address again, without its key (the cookie keeps it), with `fields`."""
    query = {name: value for name, value in request.query_params.items() if name != "key"} | fields
    return f"{request.url.path}?{urlencode(query)}" if query else request.url.path


def cookie_name(who: str) -> str:
    """The cookie that keeps a page's key (one per team and the facilitator; its path is the game's)."""
    return f"sim-key-{who}"


def _watch(game: Game, key: str) -> dict[str, Any]:
    """What a page's polling script compares: the state's `key` now (it refreshes when that changes)."""
    return {"url": f"/game/{game.id}/state.json", "key": key, "value": game.state()[key]}


def _int(text: Any, what: str) -> int:
    try:
        return int(str(text))
    except ValueError:
        raise GameError(f"{what}: '{text}' is not a whole number") from None


def _float(text: Any, what: str, default: float) -> float:
    if text is None or str(text) == "":
        return default
    try:
        return float(str(text))
    except ValueError:
        raise GameError(f"{what}: '{text}' is not a number") from None
