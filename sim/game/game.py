"""One game: its rounds, the teams' decisions, the facilitator's closing of each round, the outcomes.

The game keeps only the decisions. Closing a round builds the scenario with every decision so far as
events and re-runs it from the start with the same seed (a run takes well under a second), beside the
same scenario without the teams' decisions (the baseline). The facilitator's world card for a round
(a power-price shock) goes into both: it is the world's doing, not a team's.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.game.outcomes import YEAR, YearOutcome, year_outcomes
from sim.game.teams import Choices, DecisionError, Team, Window, build_teams
from sim.scenario.errors import ScenarioError
from sim.scenario.load import ResolvedScenario, validate_raw
from sim.scenario.schema import month_label

MAX_POWER_MULTIPLIER = 5.0


class GameError(Exception):
    """A request the game refuses; the message says why, in one line. `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Round:
    number: int
    start: str  # YYYY-MM
    decisions: dict[str, Choices] = field(default_factory=dict)  # team id -> choices, once submitted
    power_multiplier: float = 1.0  # the facilitator's world card
    closed: bool = False

    @property
    def last_month(self) -> str:
        return month_label(self.start, YEAR - 1)


class Game:
    """A game of `rounds` years on a scenario. Thread-safe: the web app calls it from many requests."""

    def __init__(self, game_id: str, resolved: ResolvedScenario, rounds: int, seed: int | None = None) -> None:
        horizon = resolved.scenario.horizon_months
        if not 1 <= rounds <= horizon // YEAR:
            raise GameError(f"rounds must be 1 to {horizon // YEAR} (the scenario runs {horizon} months), not {rounds}")
        self.id = game_id
        self.resolved = resolved
        self.seed = resolved.scenario.seed if seed is None else seed
        self.teams: dict[str, Team] = build_teams(resolved.world)
        start = resolved.scenario.start
        self.rounds = [Round(n, month_label(start, (n - 1) * YEAR)) for n in range(1, rounds + 1)]
        self.outcomes: list[YearOutcome] = []
        self.lock = threading.RLock()

    # --- reading --------------------------------------------------------------------------------

    @property
    def scenario_name(self) -> str:
        return self.resolved.scenario.name

    @property
    def finished(self) -> bool:
        return all(r.closed for r in self.rounds)

    @property
    def current(self) -> Round | None:
        """The open round; None once the game is over."""
        return next((r for r in self.rounds if not r.closed), None)

    def team(self, team_id: str) -> Team:
        if team_id not in self.teams:
            raise GameError(f"no team '{team_id}'; the teams are {', '.join(self.teams)}", status=404)
        return self.teams[team_id]

    def last_choices(self, team_id: str) -> Choices:
        """What the team's form starts from: its decision this round, else its latest, else the defaults."""
        team = self.team(team_id)
        for r in reversed(self.rounds):
            if team_id in r.decisions:
                return r.decisions[team_id]
        return team.defaults()

    def state(self) -> dict[str, Any]:
        """What pages poll: the open round, who has submitted, whether it is over."""
        with self.lock:
            current = self.current
            return {
                "game": self.id,
                "round": current.number if current else None,
                "phase": current.number if current else "over",  # what team pages watch
                "rounds": len(self.rounds),
                "finished": self.finished,
                "submitted": sorted(current.decisions) if current else [],
            }

    # --- playing --------------------------------------------------------------------------------

    def submit(self, team_id: str, round_number: int, form: Mapping[str, str]) -> Choices:
        """A team's decisions for the open round (replacing any it submitted before in this round)."""
        with self.lock:
            team = self.team(team_id)
            current = self.current
            if current is None:
                raise GameError("the game is over; no more decisions")
            if round_number != current.number:
                raise GameError(
                    f"round {round_number} is closed; round {current.number} is open (reload the page)"
                    if round_number < current.number
                    else f"round {round_number} has not started; round {current.number} is open"
                )
            try:
                choices = team.parse(form)
            except DecisionError as exc:
                raise GameError(str(exc)) from None
            # The model's own checks (e.g. a country's name in a tariff) say no before the decision is kept.
            trial = Round(current.number, current.start, {**current.decisions, team_id: choices})
            self._scenario([*self.rounds[: current.number - 1], trial], teams=True)
            current.decisions[team_id] = choices
            return choices

    def close_round(self, round_number: int, power_multiplier: float = 1.0) -> YearOutcome:
        """Close the open round (it must be `round_number`: a second click closes nothing more) with the world
        card, re-run, and return the round's year."""
        with self.lock:
            current = self.current
            if current is None:
                raise GameError("the game is over; every round is closed")
            if round_number != current.number:
                raise GameError(
                    f"round {round_number} is not the open round; round {current.number} is (reload the page)"
                )
            if not 0 < power_multiplier <= MAX_POWER_MULTIPLIER:
                raise GameError(f"the power-price multiplier must be above 0 and at most {MAX_POWER_MULTIPLIER:g}")
            current.power_multiplier = power_multiplier
            played = self.rounds[: current.number]
            game = self._scenario(played, teams=True)
            baseline = self._scenario(played, teams=False)
            self.outcomes = year_outcomes(game, baseline, self.seed, current.number)
            current.closed = True
            return self.outcomes[-1]

    def decided_scenario(self) -> ResolvedScenario:
        """The scenario with every decision of the closed rounds (what the outcomes come from)."""
        return self._scenario([r for r in self.rounds if r.closed], teams=True)

    # --- the scenario -------------------------------------------------------------------------------

    def _scenario(self, rounds: list[Round], teams: bool) -> ResolvedScenario:
        raw = copy.deepcopy(self.resolved.raw)
        events = list(raw.get("events", []))
        for r in rounds:
            window = Window(r.start, r.number)
            if r.power_multiplier != 1.0:
                events.append(
                    {"type": "power_price_shock", "multiplier": r.power_multiplier, "start": r.start, "months": YEAR}
                )
            if teams:
                for team_id, choices in sorted(r.decisions.items(), key=lambda item: list(self.teams).index(item[0])):
                    events = self.teams[team_id].apply(events, choices, window)
        raw["events"] = events
        try:
            return validate_raw(raw, {}, self.resolved.files)
        except ScenarioError as exc:
            raise GameError(f"the model refuses these decisions: {exc}") from None
