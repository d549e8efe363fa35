"""The dashboard's time charts, drawn for a projector: matplotlib on an Agg canvas, sized to be shown at
their native size in a 1280x720 browser window, with text of at least 14 px.

Each chart is `draw(ax, data) -> Drawn`: the run shown (levers applied, solid lines, drawn up to
`data.months`) against a reference run (dashed, the whole horizon), event periods shaded, one tick a
year. The minerals that stay at rest in both runs are left out. The title and legend are returned, not
drawn: the page sets them as text beside the image, where they cost no drawing time (text is most of
matplotlib's time per figure) and stay sharp. Both dashboard modes use the charts: instant mode with a
finished run, step mode with the months stepped so far.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.api import RunResult
from sim.model.market import share
from sim.results.recorder import ROUTES, Recorder
from sim.scenario.schema import Scenario
from sim.viz.charts import CAP_LINE, reaches_cap
from sim.viz.palette import ROUTE_COLOURS, mineral_colour, sector_colour

DPI = 100
FONT_PT = 10.5  # 14.6 px at 100 dpi shown at native size
WIDTH_PX, HEIGHT_PX = 340, 245  # two charts and their legends side by side, two rows, beside the levers
MARGINS_PX = {"left": 48, "right": 12, "top": 8, "bottom": 26}
YEAR_LABEL_PX = 42  # room one year label needs on the time axis
SHOCKS = ("export_restriction", "tariff", "supply_disruption", "power_price_shock", "demand_shock")
SHADE = "#000000"
REFERENCE_COLOUR = "#222222"


@dataclass(frozen=True)
class ChartData:
    """What a chart draws: `shown` for its first `months` months, against `reference` (all of it)."""

    shown: Recorder
    months: int
    reference: Recorder | None = None
    mineral: str = ""  # for one-mineral charts
    result: RunResult | None = None  # the finished run `shown` records (instant mode), for charts drawn from one


@dataclass(frozen=True)
class Drawn:
    """What a chart drew, for the title and legend the page sets beside it."""

    title: str
    entries: tuple[tuple[str, str, str], ...] = ()  # (label, colour, "line" | "dashed" | "area")
    folded: str = ""  # the series left out, e.g. "+4 more within 5 %"


Chart = Callable[[Axes, ChartData], Drawn]


def shock_windows(spec: Scenario) -> list[tuple[int, int, str]]:
    """(first month, end month, what) of each shock of a scenario: restrictions, tariffs, lost capacity,
    power and demand shocks (responses such as funding or allied supply are not shaded)."""
    windows = []
    for event in spec.events:
        if event.type in SHOCKS:
            first, end = spec.event_window(event)
            if end > first:
                windows.append((first, end, describe_shock(event)))
    return windows


def describe_shock(event) -> str:
    if event.type == "export_restriction":
        return f"{event.exporter} export {event.kind}"
    if event.type == "tariff":
        return f"{event.importer} tariff"
    if event.type == "supply_disruption":
        return f"{event.country} capacity loss"
    if event.type == "power_price_shock":
        return f"power price x{event.multiplier:g}"
    return "demand shock"


def new_chart() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    m = MARGINS_PX
    fig.subplots_adjust(
        left=m["left"] / WIDTH_PX,
        right=1 - m["right"] / WIDTH_PX,
        top=1 - m["top"] / HEIGHT_PX,
        bottom=m["bottom"] / HEIGHT_PX,
    )
    return fig, fig.subplots()


PICTURE_PX = (600, 300)  # the run report's pictures: one to a row, wide enough for thousands and country names


def new_picture() -> tuple[Figure, Axes]:
    width, height = PICTURE_PX
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    fig.subplots_adjust(left=78 / width, right=1 - 12 / width, top=1 - 14 / height, bottom=34 / height)
    return fig, fig.subplots()


_figures = threading.local()  # chart -> (figure, axes) of this thread: matplotlib figures are not thread-safe


def render_png(
    chart: Chart, data: ChartData, layout: Callable[[], tuple[Figure, Axes]] = new_chart
) -> tuple[bytes, Drawn]:
    """The chart as PNG bytes at its native size (fast zlib: the bytes go to a browser nearby), and what
    it drew. Each thread keeps a figure per chart and draws on it again: the axes and their ticks are
    built once (building them is a third of a chart's time); the picture is the same as on a new figure."""
    figures = _figures.__dict__
    if chart not in figures:
        figures[chart] = layout()
    fig, ax = figures[chart]
    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
        artist.remove()
    ax.relim()
    ax.autoscale()
    drawn = chart(ax, data)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue(), drawn


def _frame(ax: Axes, data: ChartData) -> None:
    """The time axis (a tick each January, labels as many as fit), grid and shaded shocks."""
    recorder = data.shown
    labels = recorder.months()
    januaries = [i for i, label in enumerate(labels) if label.endswith("-01")]
    axis_px = WIDTH_PX - MARGINS_PX["left"] - MARGINS_PX["right"]
    every = max(1, math.ceil(len(januaries) * YEAR_LABEL_PX / axis_px))
    ax.set_xticks(januaries, [labels[i][:4] if k % every == 0 else "" for k, i in enumerate(januaries)])
    ax.tick_params(labelsize=FONT_PT, length=4)
    ax.set_xlim(0, len(labels) - 1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))  # few ticks: each costs drawing time, every redraw
    ax.grid(axis="y", alpha=0.3)
    for first, end, _ in shock_windows(recorder.model.scenario_spec):
        ax.axvspan(first, end - 1, color=SHADE, alpha=0.07, lw=0)


def _mineral_lines(
    ax: Axes,
    data: ChartData,
    values: Callable[[Recorder], np.ndarray],
    title: str,
    rest: float = 0.0,
    tolerance: float = 1e-6,
    at_rest: str = "at 0",
) -> Drawn:
    """A line per mineral that leaves `rest` by more than `tolerance` in either run; the others left out."""
    _frame(ax, data)
    shown = values(data.shown)[: data.months]
    reference = None if data.reference is None else values(data.reference)
    minerals = data.shown.model.minerals
    entries = []
    for i, mineral in enumerate(minerals):
        moves = shown.size and np.abs(shown[:, i] - rest).max() > tolerance
        if reference is not None:
            moves = moves or np.abs(reference[:, i] - rest).max() > tolerance
        if not moves:
            continue
        colour = mineral_colour(mineral)
        if reference is not None:
            ax.plot(np.arange(len(reference)), reference[:, i], color=colour, lw=1.3, ls=(0, (3, 2)))
        ax.plot(np.arange(len(shown)), shown[:, i], color=colour, lw=2.6)
        entries.append((mineral, colour, "line"))
    ax.axhline(rest, color="#777777", lw=0.8)
    folded = len(minerals) - len(entries)
    if not entries:
        ax.text(0.5, 0.5, f"every mineral {at_rest}", ha="center", va="center", transform=ax.transAxes,
                fontsize=FONT_PT, color="#555555")  # fmt: skip
        ax.set_ylim(rest - 1, rest + 1) if rest else ax.set_ylim(0, 1)
    return Drawn(title, tuple(entries), f"+{folded} more {at_rest}" if folded and entries else "")


def draw_shortfall(ax: Axes, data: ChartData) -> Drawn:
    drawn = _mineral_lines(ax, data, lambda r: r.series["shortfall_share"] * 100, "US shortfall, % of demand")
    ax.set_ylim(bottom=0)
    return drawn


def draw_us_price(ax: Axes, data: ChartData) -> Drawn:
    """The price US buyers pay (duties included) against the 2024 price; within 5 % of it counts as at rest.
    Where a run's price reaches the model's price cap (an assumption), the cap is drawn and named: a line
    flat along it shows the bound, not how high the price would go."""
    drawn = _mineral_lines(
        ax,
        data,
        lambda r: r.series["price_us_ratio"],
        "Price US buyers pay, x 2024",
        rest=1.0,
        tolerance=0.05,
        at_rest="within 5\u00a0%",
    )
    cap = data.shown.model.world.market.price_cap_ratio
    runs = [(data.shown, data.months), *([(data.reference, None)] if data.reference is not None else [])]
    if any(reaches_cap(run.series["price_us_market"][:months] / run.model.price0, cap) for run, months in runs):
        ax.axhline(cap, **CAP_LINE)
        drawn = replace(drawn, entries=(*drawn.entries, (f"price cap {cap:g}x (assumed)", CAP_LINE["color"], "dashed")))
    return drawn


def draw_capacity_gap(ax: Axes, data: ChartData) -> Drawn:
    drawn = _mineral_lines(
        ax,
        data,
        lambda r: share(r.series["capacity_gap"], r.series["us_demand"] * 12) * 100,
        "Processing-capacity gap, % of demand",
    )
    ax.set_ylim(bottom=0)
    return drawn


def draw_imports_by_route(ax: Axes, data: ChartData) -> Drawn:
    """US imports of one mineral by route, stacked; the reference's total imports dashed."""
    mineral = data.mineral or data.shown.model.minerals[0]
    i = data.shown.model.minerals.index(mineral)
    _frame(ax, data)
    flows = data.shown.flows[: data.months, i].sum(axis=1)  # [month, route]
    used = [r for r in range(len(ROUTES)) if flows[:, r].any()]
    if used:
        ax.stackplot(np.arange(len(flows)), flows[:, used].T, colors=[ROUTE_COLOURS[ROUTES[r]] for r in used], lw=0)
    entries = [(ROUTES[r], ROUTE_COLOURS[ROUTES[r]], "area") for r in reversed(used)]
    if data.reference is not None:
        total = data.reference.flows[:, i].sum(axis=(1, 2))
        ax.plot(np.arange(len(total)), total, color=REFERENCE_COLOUR, lw=1.3, ls=(0, (3, 2)))
        entries.append(("reference, all routes", REFERENCE_COLOUR, "dashed"))
    ax.set_ylim(bottom=0)
    folded = len(ROUTES) - len(used)
    return Drawn(f"US imports of {mineral}, t/month", tuple(entries), f"+{folded} routes at 0" if folded else "")


PER_MINERAL = frozenset({"imports"})  # the charts that draw the one mineral chosen
CHARTS: dict[str, Chart] = {
    "shortfall": draw_shortfall,
    "us_price": draw_us_price,
    "capacity_gap": draw_capacity_gap,
    "imports": draw_imports_by_route,
}


# --- the pictures of a finished run (instant mode): sim/viz/pictures.py, as the run report draws them ---


def _picture_of(data: ChartData) -> tuple[RunResult, str]:
    if data.result is None:
        raise ValueError("a picture is drawn from a finished run (instant mode)")
    return data.result, data.mineral or data.result.model.minerals[0]


def picture_capacity(ax: Axes, data: ChartData) -> Drawn:
    from sim.viz import pictures

    result, mineral = _picture_of(data)
    drawn = pictures.draw_capacity_vs_need(ax, result, mineral, every=2)
    ax.set_title("", loc="left")
    entries = [("operating", mineral_colour(mineral), "area"), ("need", "#000000", "line")]
    if drawn["under_construction"].max(initial=0.0) > 0:
        entries.insert(1, ("being built", mineral_colour(mineral), "area"))
    if drawn["funded"].max(initial=0.0) > 0:
        entries.insert(-1, ("all funded", "#555555", "dashed"))
    return Drawn(f"{mineral}: US processing capacity against need, t/yr", tuple(entries))


def picture_sectors(ax: Axes, data: ChartData) -> Drawn:
    from sim.viz import pictures

    result, mineral = _picture_of(data)
    lines, never = pictures.draw_shortfall_by_sector(ax, result, mineral, every=2)
    ax.set_title("", loc="left")
    entries = tuple((label.replace(",\n", ", "), sector_colour(label.split(",")[0]), "line") for label in lines)
    folded = f"never short: {', '.join(never)}" if never else ""
    return Drawn(f"{mineral}: US shortfall by sector, % of the sector's demand", entries, folded)


def picture_utilisation(ax: Axes, data: ChartData) -> Drawn:
    from sim.viz import pictures

    result, _ = _picture_of(data)
    lines, steady = pictures.draw_utilisation(ax, result, every=2)
    entries = tuple((m, mineral_colour(m), "line") for m in lines)
    folded = f"+{len(steady)} steady" if steady else ""
    return Drawn("US plant utilisation, % of capacity (curtailment shows as a fall)", entries, folded)


def picture_sankey(ax: Axes, data: ChartData) -> Drawn:
    from sim.viz import pictures

    result, mineral = _picture_of(data)
    _, first, last = pictures.sankey_choice(result)
    ax.set_position((0.0, 0.02, 1.0, 0.96))  # no axes to label: the bands and names take the whole width
    pictures.draw_sankey(ax, result, mineral, first, last)
    ax.set_title("", loc="left")
    entries = tuple((route, ROUTE_COLOURS[route], "area") for route in ROUTES)
    return Drawn(f"US imports of {mineral}, {first} to {last}: exporter → route → US, t", entries)


# Drawn from the finished run, so in instant mode only; each of the mineral chosen on the page.
PICTURES: dict[str, Chart] = {
    "capacity_vs_need": picture_capacity,
    "shortfall_by_sector": picture_sectors,
    "utilisation": picture_utilisation,
    "sankey": picture_sankey,
}
