"""The per-mineral tables that several commands print: a run's summary, an ensemble's bands, the runs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.measure import Measurement
from rich.table import Table

from sim.cli.console import out
from sim.results.summary import CAP_MARK, SHORT_SHARE, at_price_cap, cap_words, gap_stages, price_cap_note

if TYPE_CHECKING:
    from sim.api import RunResult
    from sim.results.runs import StoredRun

Column = tuple[str, int, Callable[[dict], str]]  # header, part, cell (of one mineral's row)


def print_mineral_tables(
    title: str, rows: dict[str, dict], parts: dict[int, str], columns: list[Column], wide: bool = False
) -> None:
    """Per-mineral tables, one per part (each fitting 80 columns) under its name, or all parts in one."""
    out.print(title, highlight=False, style="bold")
    for shown in [tuple(parts)] if wide else [(k,) for k in parts]:
        chosen = [c for c in columns if c[1] in shown]
        table = Table(title=None if wide else parts[shown[0]], title_justify="left")
        table.add_column("mineral")
        for header, _, _ in chosen:
            table.add_column(header, justify="right")
        for mineral, row in rows.items():
            table.add_row(mineral, *(cell(row) for _, _, cell in chosen))
        if wide and not out.is_terminal:  # piped: as wide as the table needs, not squeezed into the default
            default = out.width
            out.width = max(default, Measurement.get(out, out.options.update_width(10_000), table).maximum)
            try:
                out.print(table)
            finally:
                out.width = default
        else:
            out.print(table)


def _percent(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}"


# The run summary's columns. Each part fits an 80-column terminal; --wide prints all of them in one table.
SUMMARY_PARTS = {
    1: "US shortfall",
    2: "capacity and funding",
    3: "prices and import reliance",
    4: "where the US gap sits: mine or processing stage",
}
SUMMARY_COLUMNS: list[Column] = [
    ("shortfall\n% demand", 1, lambda r: _percent(r["cumulative_shortfall_share"])),
    ("peak\n% month", 1, lambda r: _percent(r["peak_shortfall_share"])),
    ("months\nshort", 1, lambda r: str(r["months_in_shortfall"])),
    ("defence\nshort %", 1, lambda r: _percent(r["defence_shortfall_share"])),
    ("other regions\nshort max %", 1, lambda r: _percent(r.get("other_regions_shortfall_share_max", 0))),
    ("capacity gap\npeak, t/yr", 2, lambda r: f"{r['capacity_gap_t_per_yr_peak']:,.0f}"),
    ("gap peak\n% demand", 2, lambda r: _percent(r["capacity_gap_share_peak"], 0)),
    ("funding\nUSD m", 2, lambda r: f"{r['funding_committed_usd'] / 1e6:,.0f}"),
    ("built\nt/yr", 2, lambda r: f"{r['capacity_built_t_per_yr']:,.0f}"),
    (
        "price peak x\nUS / out",
        3,
        lambda r: f"{_us_peak(r)}{_cap_mark(r, 'us')} / {r['price_outside_peak_ratio']:.2f}{_cap_mark(r, 'outside')}",
    ),
    ("price in\nmin x", 3, lambda r: f"{r['price_inside_min_ratio']:.2f}"),
    (
        "import reliance\nend / with feed",
        3,
        lambda r: (
            f"{_percent(r['import_reliance_end'], 0)}% / "
            f"{_percent(r.get('import_reliance_incl_feedstock_end', r['import_reliance_end']), 0)}%"
        ),
    ),
]

SUMMARY_COLUMNS += [
    ("gap at", 4, lambda r: gap_stages(r) if "capacity_gap_share_peak" in r else "-"),
    ("mine gap\npeak, t/yr", 4, lambda r: _tonnes(r.get("mine_gap_t_per_yr_peak"))),
    ("US ore processed\nabroad, t/yr", 4, lambda r: _tonnes(r.get("us_mine_processed_abroad_t_per_yr_end"))),
]


def _us_peak(row: dict) -> str:
    """The US price's peak, or "-" for a run stored before sim recorded it."""
    return f"{row['price_us_peak_ratio']:.2f}" if "price_us_peak_ratio" in row else "-"


def _cap_mark(row: dict, market: str) -> str:
    return CAP_MARK if at_price_cap(row, market) else ""


def _tonnes(value: float | None) -> str:
    """t/yr, or "-" where the mineral has no mine stage in the data (or an older run did not record it)."""
    return "-" if value is None else f"{value:,.0f}"


def print_summary_table(title: str, summary: dict, wide: bool = False, cap: float | None = None) -> None:
    """The headline tables, one per part, each fitting 80 columns; or one with `wide`. "with feed": the
    import reliance counting the imported feedstock of US processors as imports too."""
    print_mineral_tables(title, summary, SUMMARY_PARTS, SUMMARY_COLUMNS, wide)
    if note := price_cap_note(summary, cap=cap):
        out.print(textwrap.fill(note, 80), highlight=False)  # the tables' width


def print_summary(result: RunResult, wide: bool = False) -> None:
    title = f"{result.name} — seed {result.seed}, {result.months} months from {result.resolved.scenario.start}"
    if result.resolved.coherent:
        title += ", world data drawn from their ranges (--uncertain)"
    print_summary_table(title, result.summary, wide, result.resolved.world.market.price_cap_ratio)


def _band(values: dict[str, float], scale: float = 1.0, fmt: str = ".2f", mark: str = "") -> str:
    """The median (with its `mark`, as the report places it) and the p5-p95 band."""
    p5, p50, p95 = (values[k] * scale for k in ("p5", "p50", "p95"))
    return f"{p50:{fmt}}{mark} [{p5:{fmt}}-{p95:{fmt}}]"


# An ensemble's columns, of each mineral's percentiles. Each part fits 80 columns.
ENSEMBLE_PARTS = {1: "US shortfall and capacity", 2: "prices and funding"}
ENSEMBLE_COLUMNS: list[Column] = [
    ("shortfall\n% demand", 1, lambda v: _band(v["cumulative_shortfall_share"], 100, ".1f")),
    ("months\nshort", 1, lambda v: _band(v["months_in_shortfall"], 1, ".0f")),
    ("capacity gap\npeak, t/yr", 1, lambda v: _band(v["capacity_gap_t_per_yr_peak"], 1, ",.0f")),
    ("price US\npeak x", 2, lambda v: _band(v["price_us_peak_ratio"], mark=_cap_mark(_medians(v), "us"))),
    ("price out\npeak x", 2, lambda v: _band(v["price_outside_peak_ratio"], mark=_cap_mark(_medians(v), "outside"))),
    ("funding\nUSD m", 2, lambda v: _band(v["funding_committed_usd"], 1e-6, ",.0f")),
]


def _medians(stats: dict[str, dict[str, float]]) -> dict[str, float]:
    """A mineral's indicators in the median run (p50 across runs)."""
    return {key: values["p50"] for key, values in stats.items()}


def print_ensemble_tables(title: str, stats: dict, wide: bool = False) -> None:
    """The percentile tables; a price marked * sat at the cap in the median run."""
    print_mineral_tables(title, stats, ENSEMBLE_PARTS, ENSEMBLE_COLUMNS, wide)
    if note := price_cap_note({mineral: _medians(row) for mineral, row in stats.items()}, " in the median run"):
        out.print(textwrap.fill(note, 80), highlight=False)


def runs_table(found: list[StoredRun], title: str) -> Table:
    """One row per stored run; the id (what show, report and compare take) is always shown whole."""
    table = Table(title=title, title_justify="left")
    whole_column(table, "run id", [run.run_id for run in found])
    for header in ("label", "seed / runs", "months", "created (UTC)", "worst shortfall", "peak US price"):
        table.add_column(header, overflow="fold")  # narrowed: wrapped, never cut
    for run in found:
        m = run.manifest
        table.add_row(
            run.run_id,
            run.label,
            f"{m.runs} runs" if run.kind == "ensemble" else str(m.seed),
            str(m.months),
            m.created_utc.replace("T", " ").removesuffix("+00:00"),
            worst_shortfall(run.minerals),
            peak_us_price(run.minerals),
        )
    return table


def whole_column(table: Table, header: str, cells: list[str]) -> None:
    """A column whose cells are never cut: as wide as the longest, not wrapped (the others shrink or wrap
    instead); folded onto a second line, never cut, only if the terminal is narrower than one cell."""
    widest = max((len(cell) for cell in cells), default=len(header))
    table.add_column(header, no_wrap=True, min_width=max(widest, len(header)), overflow="fold")


def worst_shortfall(minerals: dict[str, dict]) -> str:
    """The mineral with the largest cumulative US shortfall, or "none" if no mineral is short."""
    worst = max(minerals, key=lambda k: minerals[k]["cumulative_shortfall_share"])
    share = minerals[worst]["cumulative_shortfall_share"]
    return f"{worst} {100 * share:.1f}%" if share > SHORT_SHARE else "none"


def peak_us_price(minerals: dict[str, dict]) -> str:
    """The mineral whose price to US buyers peaks highest, x its baseline, marked at the price cap. Runs
    stored before the US price was recorded give the price outside the restricting countries."""
    market = "us" if all("price_us_peak_ratio" in row for row in minerals.values()) else "outside"
    key = f"price_{market}_peak_ratio"
    priciest = max(minerals, key=lambda k: minerals[k][key])
    row = minerals[priciest]
    return f"{priciest} {row[key]:.2f}x{_cap_mark(row, market)}" + ("" if market == "us" else " (outside)")


def runs_cap_note(found: list[StoredRun]) -> str:
    """What a marked peak in the runs table means; "" when none is marked."""
    if not any(CAP_MARK in peak_us_price(run.minerals) for run in found):  # only the marked peaks need it
        return ""
    return textwrap.fill(f"{cap_words()} sim show <run id> says for how many months.", 80)
