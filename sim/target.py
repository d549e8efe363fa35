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
