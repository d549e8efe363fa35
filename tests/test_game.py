"""The role-play game's logic through its public interface: teams submit decisions, the facilitator closes
rounds, the outcomes and the debrief follow."""

import json
from dataclasses import asdict

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.game.debrief import game_document, save_debrief
from sim.game.game import Game, GameError
from sim.scenario.load import load_scenario

from .helpers import SCENARIOS

CHINA_BAN = load_scenario(SCENARIOS / "china_ban.yaml")
BASELINE = load_scenario(SCENARIOS / "baseline.yaml")


def mineral(year, name):
    return next(m for m in year.minerals if m.mineral == name)


def play(game: Game, rounds: list[dict[str, dict[str, str]]], cards: tuple[float, ...] = ()) -> list:
    """Each round's decisions submitted, then the round closed; the outcomes shown after each close."""
    shown = []
    for number, decisions in enumerate(rounds, start=1):
        for team, form in decisions.items():
            game.submit(team, number, form)
        game.close_round(number, cards[number - 1] if number <= len(cards) else 1.0)
        shown.append(list(game.outcomes))
    return shown


BUSY_ROUNDS = [  # every team, money in every round (the funders' project draws), a world card
    {
        "mofcom": {"control.gallium": "ban", "destinations": "all", "enforcement": "strict"},
        "funders": {"grant_musd": "800", "loan_musd": "600", "stockpile_musd": "200"},
        "processors": {"build_mineral": "antimony", "build_musd": "300"},
        "allies": {"deal_country": "Japan", "deal_mineral": "ndpr", "deal_t_per_yr": "200"},
    },
    {
        "mofcom": {"control.antimony": "lift", "control.germanium": "quota"},
        "funders": {"grant_musd": "400", "offtake_musd": "500", "release_mineral": "gallium", "release_t_per_yr": "3"},
        "allies": {"tariff_region": "EU", "tariff_pct": "25", "control_mineral": "gallium"},
    },
    {
        "funders": {"loan_musd": "1500", "target": "tungsten"},
        "processors": {"offtake_country": "Bolivia", "offtake_mineral": "antimony", "offtake_t_per_yr": "1000"},
    },
]


def test_the_results_of_a_year_do_not_change_when_later_rounds_are_played():
    shown = play(Game("1", CHINA_BAN, 3), BUSY_ROUNDS, cards=(1.0, 1.6, 1.0))
    assert shown[2][0] == shown[0][0]  # year 1, as shown after round 1 and after round 3
    assert shown[2][1] == shown[1][1]
    assert len(shown[2]) == 3


def test_a_decision_acts_from_the_first_month_of_its_round_and_not_before():
    game = Game("1", BASELINE, 2)
    year1, year2 = play(game, [{}, {"mofcom": {"control.gallium": "ban", "destinations": "all"}}])[-1]
    for row in year1.minerals:  # nothing decided in round 1: the game is the baseline
        assert row.price_usd_per_t == row.baseline_price_usd_per_t and row.shortfall_t == row.baseline_shortfall_t
    gallium = mineral(year2, "gallium")
    assert gallium.price_usd_per_t > 1.5 * gallium.baseline_price_usd_per_t  # a ban to all: the world price jumps


def test_lifting_a_ban_for_a_year_lowers_the_us_price_that_year_and_the_ban_then_resumes():
    game = Game("1", CHINA_BAN, 2)
    (year1,) = play(game, [{"mofcom": {"control.antimony": "lift"}}])[-1]
    antimony = mineral(year1, "antimony")
    assert antimony.price_usd_per_t < 0.7 * antimony.baseline_price_usd_per_t
    bans = [e for e in game.decided_scenario().scenario.events if e.type == "export_restriction"]
    assert [(e.start, e.minerals) for e in bans if "antimony" in e.minerals] == [("2027-01", ["antimony"])]
    assert all("antimony" not in e.minerals for e in bans if e.start == "2026-03")


def test_federal_money_is_committed_where_the_market_shows_a_gap():
    game = Game("1", CHINA_BAN, 1)
    (year1,) = play(game, [{"funders": {"grant_musd": "1000", "target": "gallium"}}])[-1]
    gallium = mineral(year1, "gallium")
    assert gallium.funding_musd > gallium.baseline_funding_musd


def test_the_world_card_reaches_the_baseline_too():
    game = Game("1", CHINA_BAN, 1)
    (year1,) = play(game, [{}], cards=(2.0,))[-1]
    calm = play(Game("1", CHINA_BAN, 1), [{}])[-1][0]
    aluminium, calm_aluminium = mineral(year1, "aluminium"), mineral(calm, "aluminium")
    assert aluminium.baseline_price_usd_per_t == aluminium.price_usd_per_t  # no team decided anything
    assert aluminium.baseline_price_usd_per_t != calm_aluminium.baseline_price_usd_per_t  # smelters feel power


@pytest.mark.parametrize(
    ("team", "form", "message"),
    [
        ("funders", {"grant_musd": "1500", "loan_musd": "600"}, "over the round's budget of USD 2,000 m"),
        ("funders", {"grant_musd": "-5"}, "outside 0 to 2000"),
        ("funders", {"grant_musd": "lots"}, "'lots' is not a number"),
        ("mofcom", {"control.gallium": "embargo"}, "'embargo' is not one of unchanged, lift, licensing"),
        ("allies", {"deal_country": "Australia", "deal_mineral": "gallium", "deal_t_per_yr": "5"}, "no gallium"),
        ("allies", {"deal_country": "Japan", "deal_mineral": "ndpr", "deal_t_per_yr": "1e6"}, "at most"),
        ("processors", {"build_mineral": "antimony", "build_musd": "499", "offtake_country": "Bolivia",
                        "offtake_mineral": "antimony", "offtake_t_per_yr": "4000"}, "over the round's budget"),
        ("bankers", {}, "no team 'bankers'; the teams are mofcom, funders, processors, allies"),
    ],
)  # fmt: skip
def test_a_decision_the_game_cannot_take_is_refused_with_the_reason(team, form, message):
    game = Game("1", BASELINE, 2)
    with pytest.raises(GameError, match=message.replace("(", r"\(")):
        game.submit(team, 1, form)
    assert game.state()["submitted"] == []


def test_decisions_for_a_closed_round_or_after_the_game_are_refused():
    game = Game("1", BASELINE, 2)
    game.submit("funders", 1, {"grant_musd": "100"})
    game.submit("funders", 1, {"grant_musd": "200"})  # a team may change its mind until the round closes
    game.close_round(1)
    with pytest.raises(GameError, match="round 1 is closed; round 2 is open"):
        game.submit("funders", 1, {"grant_musd": "100"})
    with pytest.raises(GameError, match="round 3 has not started"):
        game.submit("funders", 3, {})
    assert game.last_choices("funders")["grant_musd"] == 200.0  # round 2's form starts from round 1's
    with pytest.raises(GameError, match="power-price multiplier"):
        game.close_round(2, 0)
    with pytest.raises(GameError, match="round 1 is not the open round; round 2 is"):
        game.close_round(1)  # the facilitator's second click on a page not yet refreshed
    game.close_round(2)
    assert game.finished and game.state()["phase"] == "over"
    with pytest.raises(GameError, match="the game is over"):
        game.submit("funders", 2, {})
    with pytest.raises(GameError, match="every round is closed"):
        game.close_round(3)


def test_more_rounds_than_the_scenario_has_years_is_refused():
    with pytest.raises(GameError, match="rounds must be 1 to 10"):
        Game("1", BASELINE, 11)


def test_the_same_decisions_give_the_same_debrief_saved_whole_and_listed_by_sim_runs(tmp_path):
    documents = []
    for _ in range(2):
        game = Game("1", CHINA_BAN, 2)
        play(game, BUSY_ROUNDS[:2])
        documents.append(json.dumps(game_document(game), sort_keys=True))
    assert documents[0] == documents[1]
    folder = save_debrief(game, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary folder left behind
    saved = json.loads((folder / "game.json").read_text())
    assert saved["outcomes"] == [json.loads(json.dumps(asdict(y))) for y in game.outcomes]
    page = (folder / "debrief.html").read_text()
    assert "Export control on gallium: ban" in page and "Questions for the room" in page
    listed = CliRunner().invoke(app, ["runs", "--out", str(tmp_path)])
    assert listed.exit_code == 0 and "game" in listed.output and "2 rounds" in listed.output


def test_sim_game_refuses_bad_input_in_one_line(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["game", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and missing.output.count("error:") == 1
    too_long = runner.invoke(app, ["game", str(SCENARIOS / "baseline.yaml"), "--rounds", "11"])
    assert too_long.exit_code == 2 and "rounds must be 1 to 10" in too_long.output
    (tmp_path / "file").write_text("")
    out_file = runner.invoke(app, ["game", str(SCENARIOS / "baseline.yaml"), "--out", str(tmp_path / "file")])
    assert out_file.exit_code == 2 and "is a file" in out_file.output


def test_the_game_plan_in_the_workshop_guide_carries_every_brief_and_debrief_question():
    from sim.game.debrief import QUESTIONS

    guide = " ".join((SCENARIOS.parent / "docs" / "workshop.md").read_text().split())
    for team in Game("1", BASELINE, 1).teams.values():
        assert " ".join(team.brief.split()) in guide, f"{team.id}'s brief differs from docs/workshop.md"
    for question in QUESTIONS:
        assert question in guide


def test_the_example_rounds_in_the_game_plan_give_the_figures_it_quotes():
    game = Game("1", CHINA_BAN, 3)
    (year1,) = play(game, [{"mofcom": {"control.gallium": "ban", "destinations": "all"}}])[-1]
    gallium = mineral(year1, "gallium")
    assert round(gallium.shortfall_t, 1) == 3.5 and round(100 * gallium.shortfall_share) == 21
    assert round(gallium.price_usd_per_t / gallium.baseline_price_usd_per_t, 1) == 7.0
    game.submit(
        "mofcom", 2, {"control.gallium": "unchanged", "destinations": "United States", "control.antimony": "lift"}
    )
    game.submit("funders", 2, {"grant_musd": "1000", "target": "antimony"})
    antimony = mineral(game.close_round(2), "antimony")
    assert round(antimony.price_usd_per_t / antimony.baseline_price_usd_per_t, 2) == 0.29  # "under a third"
    assert antimony.funding_musd == 0
