"""The debrief after the last round: decisions by team and round, and the outcomes they led to, as an HTML
page and a folder in results/ (written atomically: complete or absent, listed by `sim runs`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment

from sim.game.game import Game
from sim.game.outcomes import differs
from sim.game.pages import templates
from sim.results.store import atomic_directory, new_id, write_json

DEBRIEF = "debrief.html"
GAME = "game.json"

# For the room, after the last round (docs/workshop.md has them with the game plan).
QUESTIONS = (
    "Which single decision changed the US shortfall most, and did the team that made it expect that?",
    "Where did money go unspent, and why? (Funders commit only where the market shows a gap.)",
    "MOFCOM: what did the controls win for China (prices inside and outside), and what did they cost?",
    "Which minerals never moved whatever anyone did, and what would it take to move them?",
    "What does the model leave out that your team would have used in the real world?",
)


@dataclass(frozen=True)
class MineralTotal:
    """One mineral over the whole game, against the baseline."""

    mineral: str
    shortfall_t: float
    baseline_shortfall_t: float
    funding_musd: float
    baseline_funding_musd: float
    capacity_t_per_yr: float  # at the end of the last round
    baseline_capacity_t_per_yr: float

    @property
    def changed(self) -> bool:
        pairs = (
            (self.shortfall_t, self.baseline_shortfall_t),
            (self.funding_musd, self.baseline_funding_musd),
            (self.capacity_t_per_yr, self.baseline_capacity_t_per_yr),
        )
        return self.shortfall_t > 0 or differs(pairs)


def totals(game: Game) -> list[MineralTotal]:
    if not game.outcomes:
        return []
    rows = []
    for i, last in enumerate(game.outcomes[-1].minerals):
        years = [year.minerals[i] for year in game.outcomes]
        rows.append(
            MineralTotal(
                mineral=last.mineral,
                shortfall_t=sum(y.shortfall_t for y in years),
                baseline_shortfall_t=sum(y.baseline_shortfall_t for y in years),
                funding_musd=sum(y.funding_musd for y in years),
                baseline_funding_musd=sum(y.baseline_funding_musd for y in years),
                capacity_t_per_yr=last.capacity_t_per_yr,
                baseline_capacity_t_per_yr=last.baseline_capacity_t_per_yr,
            )
        )
    return rows


def decisions_table(game: Game) -> list[dict[str, Any]]:
    """Per team, per closed round: the decisions in words and the money they took (None: none made)."""
    table = []
    for team in game.teams.values():
        cells = []
        for r in game.rounds:
            if not r.closed:
                continue
            choices = r.decisions.get(team.id)
            cells.append(
                None
                if choices is None
                else {"lines": team.describe(choices), "cost_musd": team.cost(choices), "choices": choices}
            )
        table.append({"team": team.id, "name": team.name, "budget_musd": team.budget_musd, "rounds": cells})
    return table


def render_debrief(game: Game, env: Environment, saved: Path | None = None) -> str:
    return env.get_template("debrief.html").render(
        game=game,
        decisions=decisions_table(game),
        totals=totals(game),
        questions=QUESTIONS,
        saved=saved,
        title=f"Debrief: game {game.id} ({game.scenario_name})",
    )


def game_document(game: Game) -> dict[str, Any]:
    """Everything needed to replay the game: the scenario, seed, world cards, decisions and outcomes."""
    return {
        "game": game.id,
        "scenario_name": game.scenario_name,
        "scenario_hash": game.resolved.hash,
        "scenario_resolved": game.resolved.raw,
        "seed": game.seed,
        "rounds": [
            {"round": r.number, "start": r.start, "power_multiplier": r.power_multiplier, "closed": r.closed}
            for r in game.rounds
        ],
        "decisions": decisions_table(game),
        "outcomes": [asdict(year) for year in game.outcomes],
        "totals": [asdict(row) for row in totals(game)],
        "played_scenario": game.decided_scenario().raw,
    }


def save_debrief(game: Game, root: Path) -> Path:
    """results/<scenario>-game<id>-<time>-<random>/ with the debrief page, game.json and a manifest."""
    run_id = new_id(f"{game.scenario_name}-game{game.id}")
    root.mkdir(parents=True, exist_ok=True)
    with atomic_directory(root, run_id) as folder:
        (folder / DEBRIEF).write_text(render_debrief(game, templates(), saved=root / run_id), encoding="utf-8")
        write_json(folder / GAME, game_document(game))
        write_json(
            folder / "manifest.json",
            {
                "run_id": run_id,
                "kind": "game",
                "scenario_name": game.scenario_name,
                "scenario_hash": game.resolved.hash,
                "seed": game.seed,
                "rounds": len(game.rounds),
                "files": [DEBRIEF, GAME],
            },
        )
    return root / run_id
