"""The role-play game in a real browser: `sim game` serves it; three teams and the facilitator, each in
their own browser context (as on their own laptops), play a whole three-round game through the pages,
and the debrief shows every decision and is saved in the results folder. The facilitator opens the link
`sim game` printed; the teams get in with their keys, as a room would: one by its link, one by typing its
key on the front page, one after a wrong key first."""

import json
import re

import pytest

from .helpers import SCENARIOS, chromium, printed_links, running_server

pytestmark = pytest.mark.slow
PROJECTOR = {"width": 1280, "height": 720}
TEAMS = ("mofcom", "funders", "allies")


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def game(tmp_path):
    results = tmp_path / "results"
    args = ["game", str(SCENARIOS / "china_ban.yaml"), "--rounds", "3", "--out", str(results)]
    with running_server(args, tmp_path / "server.log") as port:
        yield f"http://127.0.0.1:{port}/game/1", results, printed_links(tmp_path / "server.log")


def decide(page, values: dict[str, str]) -> None:
    """Set the team's levers as a player would, then submit, and wait for the page to confirm."""
    for key, value in values.items():
        field = page.locator(f'[name="{key}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if values:
        page.locator("#changed").wait_for(state="visible")  # "changed, not yet submitted"
    page.click("#submit")
    if page.locator("#error").count():
        pytest.fail(f"{page.url}: {page.inner_text('#error')}")
    page.locator("#status .notice").wait_for()


def key_of(link: str) -> str:
    return link.rsplit("=", 1)[1]


def test_three_teams_and_a_facilitator_play_a_whole_game(browser, game):
    url, results, links = game
    contexts = {who: browser.new_context(viewport=PROJECTOR) for who in ("facilitator", *TEAMS)}
    errors: list[str] = []
    pages = {}
    for who, context in contexts.items():
        pages[who] = context.new_page()
        pages[who].on("pageerror", lambda error: errors.append(str(error)))
    chair = pages["facilitator"]
    chair.goto(links["facilitator"])
    assert re.search(r"Round 1 of 3", chair.inner_text("main"))
    # The facilitator's page lists each team's key (folded away from the projector), as `sim game` printed.
    assert not chair.locator("#team-keys .key").first.is_visible()
    chair.click("#team-keys summary")
    shown = {team: chair.inner_text(f'#team-keys tr[data-keys-of="{team}"] .key') for team in TEAMS}
    assert shown == {team: key_of(links[team]) for team in TEAMS}
    pages["mofcom"].goto(links["mofcom"])  # a link handed over
    funders = pages["funders"]  # the front page: pick the team, type its key (as read off a card)
    funders.goto(f"{url}/")
    assert funders.locator("a[href*='/team/']").count() == 0  # no team's page is a click away
    funders.select_option("#team", "funders")
    funders.fill("#key", key_of(links["funders"]).upper())
    funders.click("#join button")
    allies = pages["allies"]  # a team's page without its key asks for it, and says when one is wrong
    allies.goto(f"{url}/team/allies")
    assert "this page opens with a key" in allies.inner_text("main")
    allies.fill("#key", key_of(links["mofcom"]))
    allies.click("#key-form button")
    assert "That is not this page's key" in allies.inner_text("#error")
    allies.fill("#key", key_of(links["allies"]))
    allies.click("#key-form button")
    for team in TEAMS:
        assert pages[team].locator("#decisions").count() == 1, team  # every team in, on its own page

    rounds = [
        {
            "mofcom": {"control.gallium": "ban", "control.germanium": "licensing", "enforcement": "strict"},
            "funders": {"grant_musd": "600", "loan_musd": "900", "target": "all"},
            "allies": {"deal_country": "Japan", "deal_mineral": "ndpr", "deal_t_per_yr": "200"},
        },
        {
            "mofcom": {"control.gallium": "quota", "destinations": "all"},
            "funders": {"stockpile_musd": "300"},
            "allies": {"tariff_region": "EU", "tariff_pct": "25"},
        },
        {"mofcom": {"control.antimony": "ban"}, "funders": {"grant_musd": "0", "offtake_musd": "500"}, "allies": {}},
    ]
    first_year = None
    for number, decisions in enumerate(rounds, start=1):
        if number == 3:  # the form starts from last round's decisions: more money on top is refused, with why
            funders = pages["funders"]
            funders.fill('[name="offtake_musd"]', "500")
            funders.click("#submit")
            assert "over the round's budget of USD 2,000 m" in funders.inner_text("#error")
            funders.goto(f"{url}/team/funders")  # the page keeps its key: none in the address now
        for team, values in decisions.items():
            decide(pages[team], values)
        for team in TEAMS:  # the facilitator's page refreshes itself as decisions come in
            chair.locator(f'tr[data-team="{team}"] .notice').wait_for()
        assert chair.locator('tr[data-team="processors"] .pending').count() == 1  # processors sat this one out
        if number == 2:
            chair.fill("#power_multiplier", "1.5")  # the world card: data centres bid up power
        chair.click("#close-round")
        chair.locator(f'table.outcome[data-round="{number}"]').wait_for()
        for team in TEAMS:  # every team's page moves on by itself and shows the year's results
            pages[team].locator(f'table.outcome[data-round="{number}"]').wait_for(timeout=10_000)
        if number == 1:
            first_year = chair.inner_text('table.outcome[data-round="1"]')
            assert "gallium" in first_year  # China's gallium ban moved the gallium price against the baseline

    # The past stays as it was shown: round 1's results after round 3 are those shown after round 1.
    assert chair.inner_text('table.outcome[data-round="1"]') == first_year

    # A decision from a page left open on a closed round is refused with a message, not a traceback.
    stale = contexts["funders"].new_page()
    stale.goto(f"{url}/team/funders")
    assert "The game is over" in stale.inner_text("main")
    response = stale.request.post(f"{url}/team/funders", form={"round": "3", "grant_musd": "10"})
    assert response.status == 400 and "the game is over" in response.text()

    chair.click("#debrief-link")
    debrief = chair.inner_text("main")
    assert "Export control on gallium: ban" in debrief and "Export control on gallium: quota" in debrief
    assert "Supply deal from: Japan" in debrief and "Tariff rate: 25 %" in debrief
    assert "power x1.5" in debrief
    row = chair.locator('#decisions tr[data-team="processors"]').inner_text()
    assert row.count("no decision") == 3
    assert chair.locator("#totals tr[data-mineral]").count() >= 1

    (saved,) = [folder for folder in results.iterdir() if not folder.name.startswith(".")]
    assert sorted(p.name for p in saved.iterdir()) == ["debrief.html", "game.json", "manifest.json"]
    document = json.loads((saved / "game.json").read_text())
    assert [r["closed"] for r in document["rounds"]] == [True, True, True]
    assert len(document["outcomes"]) == 3
    assert not errors
    for context in contexts.values():
        context.close()
