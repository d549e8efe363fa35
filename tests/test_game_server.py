"""`sim game` as a server: its pages answer, and requests from other sites' pages or with bad input get
a refusal or a page saying what is wrong, never a traceback."""

import json
import urllib.error
import urllib.request

import pytest

from .helpers import SCENARIOS, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("game")
    args = ["game", str(SCENARIOS / "baseline.yaml"), "--rounds", "2", "--out", str(folder / "results")]
    with running_server(args, folder / "server.log") as port:
        yield f"http://127.0.0.1:{port}"


def request(url: str, data: str | None = None, origin: str | None = None) -> tuple[int, str]:
    headers = {"Origin": origin} if origin else {}
    body = data.encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_decision_posted_from_another_site_is_refused(server):
    status, text = request(f"{server}/game/1/team/funders", "round=1&grant_musd=100", origin="http://evil.example")
    assert status == 403 and "cross-origin request refused" in text
    status, _ = request(f"{server}/game/1/team/funders", "round=1&grant_musd=100", origin=server)
    assert status == 200  # the game's own page: accepted, and the page shows it
    assert json.loads(request(f"{server}/game/1/state.json")[1])["submitted"] == ["funders"]


@pytest.mark.parametrize(
    ("path", "data", "status", "message"),
    [
        ("/game/1/team/bankers", None, 404, "no team &#39;bankers&#39;"),
        ("/game/9/facilitator", None, 404, "no game &#39;9&#39; on this server"),
        ("/game/1/team/funders", "round=one", 400, "round: &#39;one&#39; is not a whole number"),
        ("/game/1/team/funders", "round=1&grant_musd=9000", 400, "outside 0 to 2000"),
        ("/game/1/facilitator", "round=1&power_multiplier=cheap", 400, "&#39;cheap&#39; is not a number"),
        ("/game/1/debrief", None, 400, "the debrief comes after the last round"),
    ],
)
def test_bad_requests_get_a_page_that_says_what_is_wrong(server, path, data, status, message):
    got, text = request(server + path, data)
    assert got == status and message in text and "Traceback" not in text


def test_a_second_game_runs_beside_the_first(server):
    status, text = request(f"{server}/", "rounds=1")
    assert status == 200 and "Scenario baseline: 1 round, one a year from 2026-01" in text
    assert json.loads(request(f"{server}/game/2/state.json")[1])["rounds"] == 1
    assert json.loads(request(f"{server}/game/1/state.json")[1])["rounds"] == 2
