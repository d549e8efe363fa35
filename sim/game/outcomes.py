"""What a round's decisions led to: the scenario re-run from its start with every decision so far, a year
at a time, against the same scenario without the teams' decisions (the baseline).

Re-running from the start keeps the past fixed: the model is causal (an event acts only from its start
month) and the only random draws, the funders' quarterly project draws, are made by programmes that are
active, in the order they were created; a later round's programmes are created after every earlier one
and draw nothing before their start. tests/test_game.py checks that a year's results do not change
when later rounds are played.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.model import SupplyChainModel
from sim.results.recorder import Recorder
from sim.scenario.load import ResolvedScenario
from sim.scenario.schema import month_label

YEAR = 12


SHOWN_CHANGE = 0.005  # a relative change below half a percent does not show in the pages' rounding


def differs(pairs: tuple[tuple[float, float], ...]) -> bool:
    """Whether any (game, baseline) pair differs by more than the pages would show."""
    return any(abs(a - b) > SHOWN_CHANGE * max(abs(a), abs(b)) for a, b in pairs)


@dataclass(frozen=True)
class MineralYear:
    """One mineral's year, in the game and in the baseline."""

    mineral: str
    shortfall_t: float  # US demand not met over the year, t
    baseline_shortfall_t: float
    shortfall_share: float  # of the year's US demand
    baseline_shortfall_share: float
    price_usd_per_t: float  # mean price US buyers paid over the year
    baseline_price_usd_per_t: float
    capacity_t_per_yr: float  # US processing capacity at the year's end
    baseline_capacity_t_per_yr: float
    funding_musd: float  # funding committed during the year (all programmes), USD million
    baseline_funding_musd: float

    @property
    def changed(self) -> bool:
        """Whether the mineral is short or differs from the baseline (else pages fold it into one line)."""
        pairs = (
            (self.shortfall_t, self.baseline_shortfall_t),
            (self.price_usd_per_t, self.baseline_price_usd_per_t),
            (self.capacity_t_per_yr, self.baseline_capacity_t_per_yr),
            (self.funding_musd, self.baseline_funding_musd),
        )
        return self.shortfall_t > 0 or differs(pairs)


@dataclass(frozen=True)
class YearOutcome:
    round: int
    first_month: str  # YYYY-MM
    last_month: str
    minerals: tuple[MineralYear, ...]


def run_series(resolved: ResolvedScenario, seed: int, months: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """The scenario's recorded [month, mineral] series for its first `months` months."""
    model = SupplyChainModel(resolved, seed=seed, months=months, recorder=Recorder)
    model.run()
    return model.minerals, model.recorder.series


def year_outcomes(game: ResolvedScenario, baseline: ResolvedScenario, seed: int, years: int) -> list[YearOutcome]:
    """Each of the first `years` years of the game's scenario against the baseline's."""
    months = years * YEAR
    minerals, played = run_series(game, seed, months)
    _, base = run_series(baseline, seed, months)
    start = game.scenario.start
    return [
        YearOutcome(
            round=y + 1,
            first_month=month_label(start, y * YEAR),
            last_month=month_label(start, y * YEAR + YEAR - 1),
            minerals=tuple(_mineral_year(minerals, i, played, base, y) for i in range(len(minerals))),
        )
        for y in range(years)
    ]


def _mineral_year(minerals: list[str], i: int, played: dict, base: dict, year: int) -> MineralYear:
    months = slice(year * YEAR, (year + 1) * YEAR)

    def total(series: dict, name: str) -> float:
        return float(series[name][months, i].sum())

    def share(series: dict) -> float:
        demand = total(series, "us_demand")
        return total(series, "shortfall") / demand if demand > 0 else 0.0

    def funding(series: dict) -> float:
        committed = series["funding_committed_usd"][:, i]  # cumulative
        before = committed[year * YEAR - 1] if year > 0 else 0.0
        return float(committed[(year + 1) * YEAR - 1] - before) / 1e6

    def last(series: dict, name: str) -> float:
        return float(series[name][(year + 1) * YEAR - 1, i])

    def mean(series: dict, name: str) -> float:
        return float(series[name][months, i].mean())

    return MineralYear(
        mineral=minerals[i],
        shortfall_t=total(played, "shortfall"),
        baseline_shortfall_t=total(base, "shortfall"),
        shortfall_share=share(played),
        baseline_shortfall_share=share(base),
        price_usd_per_t=mean(played, "price_us"),
        baseline_price_usd_per_t=mean(base, "price_us"),
        capacity_t_per_yr=last(played, "domestic_capacity"),
        baseline_capacity_t_per_yr=last(base, "domestic_capacity"),
        funding_musd=funding(played),
        baseline_funding_musd=funding(base),
    )
