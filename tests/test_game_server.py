"""`sim game` as a server: its pages answer, each team's page and the facilitator's only with its key, and
requests from other sites' pages or with bad input get a refusal or a page saying what is wrong, never a
traceback."""

import http.cookiejar
import json
import urllib.error
import urllib.request

import pytest

from .helpers import SCENARIOS, printed_links, running_server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The server's address and its log."""
    folder = tmp_path_factory.mktemp("game")
    args = ["game", str(SCENARIOS / "baseline.yaml"), "--rounds", "2", "--out", str(folder / "results")]
    with running_server(args, folder / "server.log") as port:
        yield f"http://127.0.0.1:{port}", folder / "server.log"


@pytest.fixture(scope="module")
def game(served):
    """The server's address, and the links with keys it printed for game 1."""
    server, log = served
    return server, printed_links(log)


@pytest.fixture(scope="module")
def server(served):
    return served[0]


def request(url: str, data: str | None = None, origin: str | None = None, cookie: str | None = None) -> tuple[int, str]:
    """As a browser would: redirects followed, with the cookies they set (a jar of the request's own)."""
    headers = {"Origin": origin} if origin else {}
    if cookie:
        headers["Cookie"] = cookie
    body = data.encode() if data is not None else None
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def unfollowed(url: str, data: bytes | None = None, cookie: str | None = None) -> urllib.error.HTTPError:
    """The server's first answer to a request, a redirect not followed (urllib raises it)."""
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(url, data, {"Cookie": cookie} if cookie else {}), timeout=30)
    return answer.value


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
    status, text = request(page, "round=1&invest_musd=100")  # a decision without the key is not taken
    assert status == 403 and "processors" not in submitted(server) and "Nothing was recorded" in text
    for odd in ("", "+", "%C3%A9", f"%E2%80%8B{key}"):  # empty, a space, a letter not in keys, an invisible one
        status, text = request(f"{page}?key={odd}")
        assert status == 403 and "Traceback" not in text and ('id="error"' in text) == bool(odd.strip("+"))
    status, text = request(f"{server}/game/1/facilitator?key={key}")  # a team's key is no facilitator's
    assert status == 403 and "The facilitator: this page opens with a key" in text
    assert request(f"{page}?key={key.upper()}")[0] == 200  # read off a card in capitals: still the key
    # The page keeps its key in a cookie of the game's and goes to its address without the key, so that
    # the key is not left on a screen.
    answer = unfollowed(f"{page}?key={key}&submitted=1")
    assert answer.code == 303 and answer.headers["Location"] == "/game/1/team/processors?submitted=1"
    cookie = answer.headers["Set-Cookie"]
    assert f"sim-key-processors={key}" in cookie and "Path=/game/1/" in cookie and "HttpOnly" in cookie
    assert request(page, cookie=f"sim-key-processors={key}")[0] == 200
    assert request(page, cookie=f"sim-key-allies={key}")[0] == 403
    # A cookie that is not the key (another server's, on this machine) asks for the key, not "wrong", and goes.
    status, text = request(page, cookie="sim-key-processors=abc234")
    assert status == 403 and 'id="error"' not in text
    assert 'sim-key-processors=""' in unfollowed(page, cookie="sim-key-processors=abc234").headers["Set-Cookie"]


def test_the_front_page_asks_a_team_for_its_key(game):
    server, links = game
    status, text = request(f"{server}/game/1/")
    assert status == 200 and 'action="/game/1/join"' in text and "/team/funders" not in text
    key = links["mofcom"].rsplit("=", 1)[1]
    answer = unfollowed(f"{server}/game/1/join?team=mofcom&key=+{key.upper()}+")
    assert answer.code == 303 and answer.headers["Location"] == f"/game/1/team/mofcom?key={key}"
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


def test_a_second_game_runs_beside_the_first(served):
    server, log = served
    answer = unfollowed(f"{server}/", b"rounds=1")  # its starter is its facilitator: to that page, keyed
    facilitator = answer.headers["Location"]
    assert answer.code == 303 and facilitator.startswith("/game/2/facilitator?key=")
    status, text = request(server + facilitator)
    assert status == 200 and "Round 1 of 1" in text
    # `sim game` prints the new game's links where it runs, for the facilitator who loses the page.
    links = printed_links(log, "2")
    assert links["facilitator"] == server + facilitator and len(links) == 5
    status, text = request(f"{server}/game/2/")
    assert status == 200 and "Scenario baseline: 1 round, one a year from 2026-01" in text
    assert json.loads(request(f"{server}/game/2/state.json")[1])["rounds"] == 1
    assert json.loads(request(f"{server}/game/1/state.json")[1])["rounds"] == 2
