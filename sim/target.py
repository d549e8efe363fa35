"""Conditions on a run's summary, as an analyst writes them: `antimony.cumulative_shortfall_share>0.02`,
`any.demand_priced_out_share>=0.05 and gallium.price_us_peak_ratio>3`, `all.cumulative_shortfall_share<=0.01`.

A term is SUBJECT.INDICATOR OP NUMBER, where SUBJECT is a mineral, `any` (some mineral) or `all` (every
mineral), INDICATOR any numeric summary indicator, OP one of < <= > >= ==. Terms join with `and` and
`or`; `and` binds first. An indicator with no value (time_to_recover_months of a mineral never short)
satisfies no comparison.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.scenario.errors import ScenarioError

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_TERM = re.compile(
    r"^\s*([A-Za-z_][\w]*)\.([A-Za-z_]\w*)\s*(<=|>=|==|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
EXAMPLE = (
    "e.g. 'antimony.cumulative_shortfall_share>0.02' or "
    "'any.demand_priced_out_share>0.05 and all.months_in_shortfall<6'"
)


@dataclass(frozen=True)
class Condition:
    subject: str  # a mineral, any or all
    indicator: str
    op: str
    threshold: float

    def holds(self, summary: dict[str, dict[str, Any]]) -> bool:
        minerals = list(summary) if self.subject in ("any", "all") else [self.subject]
        results = [self._compare(summary[m].get(self.indicator)) for m in minerals]
        return all(results) if self.subject == "all" else any(results)

    def _compare(self, value: Any) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return OPERATORS[self.op](float(value), self.threshold)


@dataclass(frozen=True)
class Target:
    text: str
    clauses: tuple[tuple[Condition, ...], ...]  # any clause holds when all its conditions hold

    def holds(self, summary: dict[str, dict[str, Any]]) -> bool:
        return any(all(c.holds(summary) for c in clause) for clause in self.clauses)


def parse_target(text: str, summary: dict[str, dict[str, Any]], option: str = "--target") -> Target:
    """Parse and check a condition against the minerals and indicators of an actual summary."""
    minerals = list(summary)
    indicators = sorted(
        {k for row in summary.values() for k, v in row.items() if v is None or isinstance(v, int | float)}
    )
    if not text.strip():
        raise ScenarioError("is empty", field=option, allowed=EXAMPLE)
    clauses = []
    for clause_text in re.split(r"\s+or\s+", text.strip()):
        terms = []
        for term_text in re.split(r"\s+and\s+", clause_text):
            match = _TERM.match(term_text)
            if not match:
                raise ScenarioError(
                    f"'{term_text.strip()}' is not SUBJECT.INDICATOR OP NUMBER", field=option, allowed=EXAMPLE
                )
            subject, indicator, op, number = match.groups()
            if subject not in ("any", "all", *minerals):
                raise ScenarioError(
                    f"unknown mineral '{subject}'", field=option, allowed=", ".join(["any", "all", *minerals])
                )
            if indicator not in indicators:
                raise ScenarioError(f"unknown indicator '{indicator}'", field=option, allowed=", ".join(indicators))
            threshold = float(number)
            if not math.isfinite(threshold):
                raise ScenarioError(f"'{number}' is not a finite number", field=option)
            terms.append(Condition(subject, indicator, op, threshold))
        clauses.append(tuple(terms))
    return Target(text.strip(), tuple(clauses))


NOT_ALWAYS_DEFINED = ("first_shortfall_month", "time_to_recover_months")  # None when never short


@dataclass(frozen=True)
class Metric:
    """An outcome to compare policies on, lower is better: an indicator at one mineral, or at the worst."""

    indicator: str
    mineral: str | None = None  # None: the worst mineral (the highest value)

    @property
    def text(self) -> str:
        return f"{self.mineral}.{self.indicator}" if self.mineral else self.indicator

    @property
    def words(self) -> str:
        return self.text if self.mineral else f"{self.indicator} at the worst mineral"

    @property
    def is_share(self) -> bool:
        """Shares and reliances are shown in % and their differences in percentage points."""
        return "share" in self.indicator or "reliance" in self.indicator

    @property
    def unit(self) -> str:
        from sim.results.compare import unit_of

        return "%" if self.is_share else unit_of(self.indicator)

    @property
    def scale(self) -> float:
        return 100.0 if self.is_share else 1.0

    def value(self, summary: dict[str, dict[str, Any]]) -> float:
        rows = [summary[self.mineral]] if self.mineral else list(summary.values())
        return max(float(row[self.indicator]) for row in rows)


def parse_metric(text: str, summary: dict[str, dict[str, Any]], option: str = "--metric") -> Metric:
    """INDICATOR (at the worst mineral) or MINERAL.INDICATOR; the indicator a number in every run."""
    parts = text.strip().split(".")
    allowed = "INDICATOR (at the worst mineral) or MINERAL.INDICATOR, e.g. gallium.import_reliance_end"
    if len(parts) not in (1, 2) or not all(p.strip() and p == p.strip() for p in parts):
        raise ScenarioError(f"{text.strip()!r} is not INDICATOR or MINERAL.INDICATOR", field=option, allowed=allowed)
    indicator, mineral = parts[-1], (parts[0] if len(parts) == 2 else None)
    if mineral is not None and mineral not in summary:
        raise ScenarioError(f"unknown mineral '{mineral}'", field=option, allowed=", ".join(summary))
    numbers = sorted(
        k for k, v in next(iter(summary.values())).items() if isinstance(v, int | float) and not isinstance(v, bool)
    )
    if indicator in NOT_ALWAYS_DEFINED:
        raise ScenarioError(
            f"'{indicator}' has no value in a run that is never short, so it cannot rank policies",
            field=option,
            allowed="e.g. cumulative_shortfall_share, months_in_shortfall",
        )
    if indicator not in numbers:
        raise ScenarioError(f"unknown indicator '{indicator}'", field=option, allowed=", ".join(numbers))
    return Metric(indicator, mineral)
