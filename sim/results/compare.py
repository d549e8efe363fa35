"""Compare runs: headline indicators side by side with differences from the first run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.results.summary import CAP_MARK, PEAK_MARKETS, at_price_cap, cap_words

HEADLINE = {
    "cumulative_shortfall_share": ("shortfall, % of demand", 100.0),
    "peak_shortfall_share": ("peak monthly shortfall, %", 100.0),
    "months_in_shortfall": ("months in shortfall", 1.0),
    "defence_shortfall_share": ("defence shortfall, %", 100.0),
    "demand_priced_out_share": ("US demand priced out (against baseline prices), %", 100.0),
    "other_regions_shortfall_share_max": ("worst other buyer region's shortfall, %", 100.0),
    "capacity_gap_t_per_yr_peak": ("capacity gap peak, t/yr", 1.0),
    "price_us_peak_ratio": ("price US buyers pay, peak x baseline", 1.0),
    "price_outside_peak_ratio": ("outside price peak, x baseline", 1.0),
    "price_inside_min_ratio": ("inside price low, x baseline", 1.0),
    "price_us_months_at_cap": ("months the US price sat at the model's price cap (an assumption)", 1.0),
    "import_reliance_end": ("import reliance at end, %", 100.0),
    "funding_committed_usd": ("funding committed (grants, loans, offtake), USD m", 1e-6),
    "stockpile_spend_usd": ("stockpile purchases, USD m", 1e-6),
    "capacity_built_t_per_yr": ("capacity built, t/yr", 1.0),
}


@dataclass
class Compared:
    """One run as `compare` sees it: a label, its per-mineral summary and a way to get a series."""

    label: str
    summary: dict[str, dict[str, Any]]
    series: Callable[[str], pd.DataFrame]
    provenance: dict[str, Any] = field(default_factory=dict)  # source, scenario, scenario_hash, seed, months, ...
    default_label: bool = True  # False when the user named the run (--label): then it is never changed
    price_cap: float | None = None  # the run's price cap, x baseline (None if not recorded: runs of an older sim)

    @property
    def described(self) -> dict[str, Any]:
        """The run as compare.json lists it: its label and provenance."""
        return {"label": self.label, **self.provenance}


def run_label(scenario: str, seed: int, runs: int | None = None) -> str:
    """A run's name when its user gave none: scenario and seed, and for an ensemble how many runs (its
    figures are medians over them), so that it is not taken for a single run of the same scenario."""
    return f"{scenario} {runs} runs s{seed}" if runs else f"{scenario} s{seed}"


def unique_labels(items: list[Compared]) -> list[Compared]:
    """Labels that tell the runs apart: default labels shared by runs of different lengths get their
    months ("baseline s1 12 months"), then a label still shared gets a number ("baseline s1 (2)")."""
    groups: dict[str, list[Compared]] = {}
    for item in items:
        groups.setdefault(item.label, []).append(item)
    for group in groups.values():
        if len({item.provenance.get("months") for item in group}) > 1:
            for item in group:
                if item.default_label:
                    item.label = f"{item.label} {item.provenance['months']} months"
    seen: dict[str, int] = {}
    for item in items:
        seen[item.label] = seen.get(item.label, 0) + 1
        if seen[item.label] > 1:
            item.label = f"{item.label} ({seen[item.label]})"
    return items


def unit_of(indicator: str) -> str:
    """The display unit of a headline indicator, from its label ("shortfall, % of demand" -> "%")."""
    label, scale = HEADLINE.get(indicator, (indicator, 1.0))
    if scale == 100.0:
        return "%"
    for unit in ("USD m", "t/yr", "x baseline"):
        if unit in label:
            return unit
    return "months" if "months" in indicator else ""


def clean(value: float | None, scale: float = 1.0) -> float | None:
    """No float noise: a difference within 1e-9 of the larger magnitude (e.g. 1e-12) is zero."""
    if value is None:
        return None
    return 0.0 if abs(value) <= 1e-9 * max(scale, 1.0) else value


def compare_table(items: list[Compared], indicators: list[str] | None = None) -> pd.DataFrame:
    """Long table: indicator, unit, mineral, run, value (display units), diff from the first run,
    `at_cap`: the value is a price peak at the model's price cap (an assumption, not a finding), and
    `price_cap`: the run's cap, x baseline (empty for a run of an older sim, which did not record it)."""
    indicators = indicators or list(HEADLINE)
    rows = []
    base = items[0]
    for indicator in indicators:
        scale = HEADLINE.get(indicator, ("", 1.0))[1]
        for mineral in base.summary:
            first = base.summary[mineral].get(indicator)
            for item in items:
                value = item.summary.get(mineral, {}).get(indicator)
                value = None if value is None else value * scale
                diff = None if value is None or first is None else value - first * scale
                size = max(abs(value or 0.0), abs((first or 0.0) * scale))
                rows.append(
                    {
                        "indicator": indicator,
                        "unit": unit_of(indicator),
                        "mineral": mineral,
                        "run": item.label,
                        "value": clean(value),
                        "diff_from_first": clean(diff, size),
                        "at_cap": indicator in PEAK_MARKETS
                        and at_price_cap(item.summary.get(mineral, {}), PEAK_MARKETS[indicator]),
                        "price_cap": item.price_cap,
                    }
                )
    return pd.DataFrame(rows)


def wide(table: pd.DataFrame, indicator: str, labels: list[str]) -> pd.DataFrame:
    """Minerals x (each run's value, then each later run's difference from the first)."""
    sub = table[table["indicator"] == indicator]
    values = sub.pivot(index="mineral", columns="run", values="value")[labels]
    diffs = sub.pivot(index="mineral", columns="run", values="diff_from_first")[labels[1:]]
    diffs.columns = [difference_heading(label, labels[0]) for label in labels[1:]]
    minerals = list(dict.fromkeys(sub["mineral"]))
    return pd.concat([values, diffs], axis=1).loc[minerals]


def shown(table: pd.DataFrame, indicator: str, labels: list[str]) -> pd.DataFrame:
    """wide(), as text: each value formatted, and a run's price peak at the model's cap marked CAP_MARK (a
    difference is not marked: the mark on the run's value beside it already says where it comes from)."""
    frame = wide(table, indicator, labels)
    text = frame.map(lambda value: format_value(value, indicator))
    for run, mineral in capped(table, indicator):
        text.loc[mineral, run] += CAP_MARK
    return text


def capped(table: pd.DataFrame, indicator: str | None = None) -> list[tuple[str, str]]:
    """(run, mineral) of each price peak at the model's cap (of `indicator`, or of any). A compare.csv
    written before the cap was recorded has no `at_cap`: none is marked."""
    if "at_cap" not in table:
        return []
    rows = table[table["at_cap"].astype(bool)]
    if indicator is not None:
        rows = rows[rows["indicator"] == indicator]
    return list(dict.fromkeys(zip(rows["run"].astype(str), rows["mineral"].astype(str), strict=True)))


def compare_cap_note(table: pd.DataFrame) -> str | None:
    """What a marked peak is, and whose (with the run's cap, where the table records it): None when no
    run's price reached the cap."""
    at_cap = capped(table)
    if not at_cap:
        return None
    caps: dict[str, float | None] = {}
    if "price_cap" in table:
        for run, cap in zip(table["run"].astype(str), table["price_cap"], strict=True):
            caps[run] = None if pd.isna(cap) else float(cap)
    runs = dict.fromkeys(run for run, _ in at_cap)
    shared = {caps.get(run) for run in runs}
    cap = shared.pop() if len(shared) == 1 else None
    whose = []
    for run in runs:
        minerals = ", ".join(mineral for other, mineral in at_cap if other == run)
        own = caps.get(run)
        whose.append(f"{run}: {minerals}" if cap or own is None else f"{run} (cap {own:g}x): {minerals}")
    return f"{cap_words(cap, 'in these runs')} {'; '.join(whose)}."


def difference_heading(label: str, reference: str) -> str:
    """The heading of a difference column, saying which run is subtracted from which ("b s1 − a s1")."""
    return f"{label} − {reference}"


def periods_note(runs: list[dict[str, Any]]) -> str | None:
    """One line saying the runs cover different months, from each run's label, first_month and last_month
    (its provenance); None when they all cover the same ones or a run does not say (an older compare.json)."""
    periods = [(run.get("label", ""), run.get("first_month"), run.get("last_month")) for run in runs]
    if any(not first or not last for _, first, last in periods) or len({p[1:] for p in periods}) <= 1:
        return None
    spans = ", ".join(f"{label} {first} to {last}" for label, first, last in periods)
    return f"The runs cover different months: {spans}; headline figures are over each run's own months."


def to_markdown(table: pd.DataFrame, labels: list[str], note: str | None = None) -> str:
    lines = [f"# Comparison: {' vs '.join(labels)}", ""]
    if note:
        lines += [note, ""]
    for indicator in dict.fromkeys(table["indicator"]):
        frame = shown(table, indicator, labels)
        title = HEADLINE.get(indicator, (indicator, 1))[0]
        lines += [
            f"## {title}",
            "",
            "| mineral | " + " | ".join(frame.columns) + " |",
            "|---|" + "---:|" * len(frame.columns),
        ]
        for mineral, row in frame.iterrows():
            lines.append(f"| {mineral} | " + " | ".join(row) + " |")
        lines.append("")
    if cap_note := compare_cap_note(table):
        lines += [cap_note.replace(CAP_MARK, f"\\{CAP_MARK}"), ""]  # a line starting "* " is no list item
    return "\n".join(lines)


COUNTS = {"months_in_shortfall"}  # indicators that are whole numbers


def format_value(value: Any, indicator: str | None = None) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if abs(value) >= 100 or indicator in COUNTS:
        return f"{value:,.0f}"
    return f"{value:.2f}"
