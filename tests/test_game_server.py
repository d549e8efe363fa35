"""`sim game` as a server: its pages answer, each team's page and the facilitator's only with its key, and
requests from other sites' pages or with bad input get a refusal or a page saying what is wrong, never a
traceback."""

import json
import urllib.error
import urllib.request

import pytest

from .helpers import SCENARIOS, printed_links, running_server


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """The server's address, and the links with keys it printed for game 1."""
    folder = tmp_path_factory.mktemp("game")
    args = ["game", str(SCENARIOS / "baseline.yaml"), "--rounds", "2", "--out", str(folder / "results")]
    with running_server(args, folder / "server.log") as port:
        yield f"http://127.0.0.1:{port}", printed_links(folder / "server.log")


@pytest.fixture(scope="module")
def server(game):
    return game[0]


def request(url: str, data: str | None = None, origin: str | None = None, cookie: str | None = None) -> tuple[int, str]:
    headers = {"Origin": origin} if origin else {}
    if cookie:
        headers["Cookie"] = cookie
    body = data.encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def submitted(server: str, game_id: str = "1") -> list[str]:
    return json.loads(request(f"{server}/game/{game_id}/state.json")[1])["submitted"]


def test_sim_game_prints_every_page_with_its_own_key(game):
    server, links = game
    assert list(links) == ["facilitator", "mofcom", "funders", "processors", "allies"]
    assert links["facilitator"].startswith(f"{server}/game/1/facilitator?key=")
    assert links["funders"].startswith(f"{server}/game/1/team/funders?key=")
    keys = [link.rsplit("=", 1)[1] for link in links.values()]
    assert len(set(keys)) == len(keys) and all(len(key) == 6 for key in keys)


def test_a_decision_posted_from_another_site_is_refused(game):
    server, links = game
    status, text = request(links["funders"], "round=1&grant_musd=100", origin="http://evil.example")
    assert status == 403 and "cross-origin request refused" in text
    status, _ = request(links["funders"], "round=1&grant_musd=100", origin=server)
    assert status == 200  # the game's own page: accepted, and the page shows it
    assert "funders" in submitted(server)


def test_a_page_opens_only_with_its_own_key(game):
    server, links = game
    page, key = links["processors"].split("?key=")
    status, text = request(page)
    assert status == 403 and "this page opens with a key" in text and 'id="error"' not in text
    for wrong in ("nokey1", links["allies"].rsplit("=", 1)[1], links["facilitator"].rsplit("=", 1)[1]):
        status, text = request(f"{page}?key={wrong}")
        assert status == 403 and "That is not this page's key" in text
    status, _ = request(f"{page}?key={wrong}", "round=1&invest_musd=100")  # a decision without the key
    assert status == 403 and "processors" not in submitted(server)
    status, text = request(f"{server}/game/1/facilitator?key={key}")  # a team's key is no facilitator's
    assert status == 403 and "The facilitator: this page opens with a key" in text
    assert request(f"{page}?key={key.upper()}")[0] == 200  # read off a card in capitals: still the key
    # The page keeps its key in a cookie of the game's, so that its address need not carry it.
    assert request(page, cookie=f"sim-key-processors={key}")[0] == 200
    assert request(page, cookie=f"sim-key-allies={key}")[0] == 403


def test_the_front_page_asks_a_team_for_its_key(game):
    server, links = game
    status, text = request(f"{server}/game/1/")
    assert status == 200 and 'action="/game/1/join"' in text and "/team/funders" not in text
    key = links["mofcom"].rsplit("=", 1)[1]
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"{server}/game/1/join?team=mofcom&key=+{key.upper()}+", timeout=30)
    assert answer.value.code == 303 and answer.value.headers["Location"] == f"/game/1/team/mofcom?key={key}"
    status, text = request(f"{server}/game/1/join?team=bankers&key={key}")
    assert status == 404 and "no team &#39;bankers&#39;" in text


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("/game/1/team/bankers", None, 404, "no team &#39;bankers&#39;"),
        ("/game/9/facilitator", None, 404, "no game &#39;9&#39; on this server"),
        ("funders", "round=one", 400, "round: &#39;one&#39; is not a whole number"),
        ("funders", "round=1&grant_musd=9000", 400, "outside 0 to 2000"),
        ("facilitator", "round=1&power_multiplier=cheap", 400, "&#39;cheap&#39; is not a number"),
        ("/game/1/debrief", None, 400, "the debrief comes after the last round"),
    ],
)
def test_bad_requests_get_a_page_that_says_what_is_wrong(game, path, data, status, message):
    server, links = game
    got, text = request(links[path] if path in links else server + path, data)
    assert got == status and message in text and "Traceback" not in text


def test_a_second_game_runs_beside_the_first(server):
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:  # its starter is its facilitator: to that page, keyed
        opener.open(urllib.request.Request(f"{server}/", b"rounds=1"), timeout=30)
    facilitator = answer.value.headers["Location"]
    assert answer.value.code == 303 and facilitator.startswith("/game/2/facilitator?key=")
    status, text = request(server + facilitator)
    assert status == 200 and "Round 1 of 1" in text
    status, text = request(f"{server}/game/2/")
    assert status == 200 and "Scenario baseline: 1 round, one a year from 2026-01" in text
    assert json.loads(request(f"{server}/game/2/state.json")[1])["rounds"] == 1
    assert json.loads(request(f"{server}/game/1/state.json")[1])["rounds"] == 2
