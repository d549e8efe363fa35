"""Matplotlib figures of one run, saved as PNG beside its data, and the figures of many runs.

A run's figures are a fixed part of `sim run`, so they are few and laid out once (sim/viz/charts.py):
the US shortfall by mineral, capacity against need, prices, shortfall by sector (when a mineral is short),
plant utilisation and a Sankey of imports. The drawing of each picture lives in sim/viz/pictures.py.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from sim.results.summary import at_price_cap
from sim.viz import pictures
from sim.viz.charts import (
    CAP_LINE,
    TEXT_PX,
    WIDTH_PX,
    EventWindow,
    Margins,
    figure,
    label_ends,
    reaches_cap,
    rendered,
    save_png,
    shade_events,
    split_zero,
    style,
    time_axis,
    write_png,
)
from sim.viz.palette import mineral_colour

if TYPE_CHECKING:
    from sim.api import RunResult

LEGEND_PX = 190  # the right-hand column that holds a legend
FLAT_PRICE = 0.01  # a price within 1 % of baseline throughout is drawn as a note, not a line


CHARACTER_PX = 8.0  # a 14-px DejaVu Sans character's mean advance, a little over (7.8 px), to wrap notes by


def note(fig: Figure, text: str, y_px: int = 8) -> None:
    """Grey text at the figure's bottom left (e.g. the series folded away), wrapped to the figure's width;
    a second line goes above the first, into the bottom margin (under the year labels)."""
    characters = int((fig.bbox.width - 24) / CHARACTER_PX)
    lines = "\n".join(textwrap.wrap(text, characters, break_on_hyphens=False))
    fig.text(12 / fig.bbox.width, y_px / fig.bbox.height, lines, color="#444444", va="bottom")


def name_lines(ax: Axes, at: str = "end") -> None:
    """Each labelled line named right of the axes in its colour, level with its last value (`at="end"`) or,
    for series that fall back to zero, with its peak (`at="peak"`); see charts.label_ends."""
    pick = (lambda y: float(y[-1])) if at == "end" else (lambda y: float(np.nanmax(y)))
    label_ends(
        ax,
        {
            line.get_label(): (pick(np.asarray(line.get_ydata())), line.get_color())
            for line in ax.lines
            if not line.get_label().startswith("_")
        },
    )


def label_every(cols: int) -> int:
    """A year label on every tick that fits a panel of 1 / cols of the width (a label is about 45 px)."""
    return max(1, math.ceil(11 * 45 / ((WIDTH_PX - 100) / cols)))


def shortfall_figure(result: RunResult) -> Figure | None:
    """US shortfall by mineral over time; None when no mineral is ever short (the report says so)."""
    table = result.series("shortfall_share") * 100
    short, never = split_zero({m: table[m].to_numpy() for m in table.columns}, tolerance=1e-3)
    if not short:
        return None
    panel_px = 330
    fig, (ax,) = figure(1, 1, panel_px, Margins(right=LEGEND_PX, bottom=80, top=46))
    x = np.arange(len(table))
    for mineral in short:
        ax.plot(x, table[mineral], color=mineral_colour(mineral), label=mineral)
    windows = pictures.windows_of(result)
    # The events' names stand at the top, a line each: the scale leaves them room above the highest line.
    names_px = 8 + len(windows) * (TEXT_PX + 4)
    ax.set_ylim(0, table[short].to_numpy().max() * 1.05 / max(1 - names_px / panel_px, 0.5))
    ax.yaxis.set_major_formatter(pictures.PERCENT)
    ax.set_title(f"US shortfall, % of demand: {result.name} (seed {result.seed})", loc="left")
    shade_events(ax, windows, labelled=True)
    time_axis(ax, pictures.months_of(result))
    name_lines(ax, at="peak")
    if never:
        note(fig, "not short: " + ", ".join(never))
    return fig


CAPACITY_PANELS = 2  # the minerals with the deepest gaps; the others are named under them


def capacity_figure(result: RunResult, minerals: list[str], met: list[str]) -> Figure:
    """Capacity against need for the minerals with the deepest gaps: the largest peak gap as a share of
    demand, the summary table's "gap peak % demand", so the picture and the table rank alike."""
    depth = {m: result.summary[m]["capacity_gap_share_peak"] for m in minerals}
    shown = sorted(minerals, key=lambda m: -depth[m])[:CAPACITY_PANELS]
    shown = [m for m in minerals if m in shown]  # in the world's order
    cols = len(shown)
    fig, axes = figure(1, cols, 220, Margins(left=100, top=100, bottom=80, wspace=90), sharex=False)
    for ax, mineral in zip(axes, shown, strict=True):
        pictures.draw_capacity_vs_need(ax, result, mineral, every=label_every(cols))
    fig.suptitle(
        "Domestic processing capacity against need, t/yr (need: demand less recycling, reliable imports "
        "and allied supply)",
        x=12 / WIDTH_PX,
        ha="left",
        fontsize=16,
    )
    fig.text(
        12 / WIDTH_PX,
        1 - 40 / fig.bbox.height,
        "dark: operating   pale: being built with federal money   dashed: all federally funded   black: need",
        va="top",
        color="#444444",
    )
    notes = []
    if rest := [m for m in minerals if m not in shown]:
        notes.append("also short of capacity: " + ", ".join(rest))
    if met:
        notes.append("capacity meets the need throughout: " + ", ".join(met))
    note(fig, "; ".join(notes))
    return fig


PRICE_TICKS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)


def us_price_ratio(series: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    """The price US buyers pay (duties included) against the baseline price, from a run's `series`: the
    outside price over its ratio is the baseline price."""
    return series("price_us") / series("price_outside") * series("price_outside_ratio")


def prices_figure(result: RunResult) -> Figure:
    """Prices against baseline on one log scale (a doubling and a halving look alike): outside the
    restricting countries (solid), inside them (dashed) and as US buyers pay with duties (dotted), the last
    two only where they differ from the first; minerals within FLAT_PRICE of baseline throughout are named,
    not drawn."""
    outside = result.series("price_outside_ratio")
    inside = result.series("price_inside_ratio")
    us = result.series("price_us_ratio")
    moves = {m: max(np.abs(t[m].to_numpy() - 1).max() for t in (outside, inside, us)) for m in outside.columns}
    moving = [m for m in outside.columns if moves[m] > FLAT_PRICE]
    flat = [m for m in outside.columns if m not in moving]
    fig, (ax,) = figure(1, 1, 330, Margins(right=LEGEND_PX, top=70, bottom=80))
    x = np.arange(len(outside))
    for mineral in moving:
        colour, solid = mineral_colour(mineral), outside[mineral].to_numpy()
        drawn = [ax.plot(x, solid, color=colour)[0]]
        for table, dashes in ((inside, (0, (3, 2))), (us, (0, (1, 1.5)))):
            if not np.allclose(table[mineral].to_numpy(), solid, rtol=1e-6):
                drawn.extend(ax.plot(x, table[mineral], color=colour, ls=dashes))
        # The name goes by the end of whichever of its lines ends furthest from baseline.
        max(drawn, key=lambda line: abs(np.log(line.get_ydata()[-1]))).set_label(mineral)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ticks = [t for t in PRICE_TICKS if low <= t <= high] or [1.0]
    ax.axhline(1.0, color="#777777", lw=1)
    if capped := [m for m in moving if any(at_price_cap(result.summary[m], market) for market in ("us", "outside"))]:
        cap = result.resolved.world.market.price_cap_ratio
        ax.axhline(cap, **CAP_LINE)
        ax.annotate(
            f"the model's price cap, {cap:g}x (an assumption): {', '.join(capped)} at it",
            (0.99, cap),
            xycoords=("axes fraction", "data"),
            xytext=(0, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            color="#444444",
        )
    ax.set_title(
        "Prices, x baseline: outside (solid) and inside (dashed) the restricting countries,\n"
        "and as US buyers pay them with duties (dotted), where they differ",
        loc="left",
    )
    shade_events(ax, pictures.windows_of(result))
    time_axis(ax, pictures.months_of(result))
    # time_axis' value ticks are for linear scales
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
    name_lines(ax)
    if flat:
        note(fig, f"within {FLAT_PRICE:.0%} of baseline throughout: " + ", ".join(flat))
    return fig


def sector_figure(result: RunResult, minerals: list[str]) -> Figure:
    fig, axes = figure(len(minerals), 1, 170, Margins(right=LEGEND_PX, top=40, bottom=80, hspace=50))
    never_by_mineral = []
    for ax, mineral in zip(axes, minerals, strict=True):
        _, never = pictures.draw_shortfall_by_sector(ax, result, mineral, labels=ax is axes[-1])
        ax.set_title(f"{mineral}: shortfall by US sector, % of the sector's demand", loc="left")
        name_lines(ax, at="peak")
        if never:
            never_by_mineral.append(f"{mineral}: {', '.join(never)}")
    note(fig, "never short: " + "; ".join(never_by_mineral) if never_by_mineral else "")
    return fig


def utilisation_figure(result: RunResult) -> Figure:
    fig, (ax,) = figure(1, 1, 300, Margins(right=LEGEND_PX, bottom=80, top=46))
    _, steady = pictures.draw_utilisation(ax, result)
    ax.set_title("US plants: output, % of standing capacity (the rest curtailed, idle or short of feed)", loc="left")
    name_lines(ax)
    throughout = [f"{m} {held.level:.0f}%" for m, held in steady.items() if held.since is None]
    once_built = [f"{m} {held.level:.0f}% (from {held.since})" for m, held in steady.items() if held.since]
    parts = [*(["steady throughout: " + ", ".join(throughout)] if throughout else []),
             *(["steady once standing: " + ", ".join(once_built)] if once_built else [])]  # fmt: skip
    if parts:
        note(fig, "; ".join(parts))
    return fig


def sankey_figure(result: RunResult) -> Figure:
    mineral, first, last = pictures.sankey_choice(result)
    fig, (ax,) = figure(1, 1, 440, Margins(left=10, right=10, top=40, bottom=10))
    pictures.draw_sankey(ax, result, mineral, first, last)
    return fig


def run_figures(result: RunResult) -> dict[str, Figure]:
    """The run's figures by file name (make them inside `style()`). A picture with nothing to show (no
    capacity gap, no mineral short) is left out, and each figure names the series it folded away."""
    figures: dict[str, Figure] = {}
    if (shortfall := shortfall_figure(result)) is not None:
        figures["shortfall.png"] = shortfall
    gap, met = pictures.minerals_with_gap(result)
    if gap:
        figures["capacity_vs_need.png"] = capacity_figure(result, gap, met)
    figures["prices.png"] = prices_figure(result)
    short, _ = pictures.short_minerals(result, limit=3)
    if short:
        figures["shortfall_by_sector.png"] = sector_figure(result, short)
    figures["utilisation.png"] = utilisation_figure(result)
    if len(result.flows):
        figures["imports_sankey.png"] = sankey_figure(result)
    return figures


def save_run_plots(result: RunResult, folder: Path) -> list[str]:
    """Write the run's PNGs into `folder`; return their file names. Each is encoded on a second thread while
    the next figure is drawn (see charts.write_png)."""
    with style(), ThreadPoolExecutor(max_workers=1) as encoder:
        figures = run_figures(result)
        writes = [encoder.submit(write_png, rendered(fig), folder / name) for name, fig in figures.items()]
    for write in writes:
        write.result()  # an error writing a file is raised here
    return list(figures)


def small_multiples(n: int, panel_height: int = 190, top: int = 84, bottom: int = 60) -> tuple[Figure, list[Axes]]:
    """One panel per mineral, three to a row (a 14-px year label needs about a third of the width), the
    panels left over hidden; the caller labels the years of the last panel in each column."""
    cols = min(3, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    margins = Margins(left=90, top=top, bottom=bottom, wspace=80, hspace=50)
    fig, axes = figure(rows, cols, panel_height, margins, sharex=False)
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


BAND_PLOTS = {
    "shortfall_share": ("US shortfall", "% of demand", 100.0),
    "price_outside_ratio": ("Price outside restricting countries", "x baseline", 1.0),
    "price_us_ratio": ("Price US buyers pay (duties included)", "x baseline", 1.0),
    "capacity_gap": ("Processing-capacity gap", "t/yr", 1.0),
}


def band_figure(
    bands: pd.DataFrame, variable: str, title: str, windows: Sequence[EventWindow] = (), cap: float | None = None
) -> Figure:
    """p5-p95 band and median per mineral of one of an ensemble's series (BAND_PLOTS), in the mineral's
    colour, with the scenario's events shaded; minerals whose band stays at rest are named under the panels.
    A price panel whose band reaches the price cap `cap` (the runs' shared cap; None if each drew its own)
    draws it dashed, and the note says whose."""
    label, unit, scale = BAND_PLOTS[variable]
    sub = bands[bands["variable"] == variable]
    by_mineral = {m: rows for m, rows in sub.groupby("mineral", sort=False)}
    rest = 1.0 if unit == "x baseline" else 0.0  # the value of a series that never moves
    tolerance = 1e-3 if variable == "capacity_gap" else 1e-6
    shown, folded = split_zero({m: np.r_[rows["p5"], rows["p95"]] - rest for m, rows in by_mineral.items()}, tolerance)
    fig, axes = small_multiples(len(shown))
    capped: list[str] = []
    for k, (ax, mineral) in enumerate(zip(axes, shown, strict=False)):
        rows = by_mineral[mineral]
        x = np.arange(len(rows))
        colour = mineral_colour(mineral)
        ax.fill_between(x, rows["p5"] * scale, rows["p95"] * scale, color=colour, alpha=0.3, lw=0)
        ax.plot(x, rows["p50"] * scale, color=colour)
        if unit == "x baseline" and reaches_cap(rows["p95"].to_numpy(), cap):
            ax.axhline(cap, **CAP_LINE)
            capped.append(mineral)
        ax.set_title(mineral, loc="left")
        if unit == "t/yr":
            ax.yaxis.set_major_formatter(pictures.THOUSANDS)
        shade_events(ax, windows)
        time_axis(ax, list(rows["month"]), labels=k >= len(shown) - 3, every=label_every(3))
    fig.suptitle(f"{label}, {unit}: {title} (median, band p5-p95)", x=12 / WIDTH_PX, ha="left")
    notes = [f"{rest:g} throughout: " + ", ".join(folded)] if folded else []
    if capped:
        notes.append(f"dashed: the model's price cap, {cap:g}x (an assumption), reached by {', '.join(capped)}")
    note(fig, "; ".join(notes))
    return fig


def save_band_plots(
    bands: pd.DataFrame, title: str, folder: Path, windows: Sequence[EventWindow] = (), cap: float | None = None
) -> list[str]:
    """Every band figure of an ensemble (band_figure), as PNGs in `folder`; returns their file names."""
    names = []
    with style():
        for variable in BAND_PLOTS:
            name = f"bands_{variable}.png"
            save_png(band_figure(bands, variable, title, windows, cap), folder / name)
            names.append(name)
    return names


def save_sweep_plot(table: pd.DataFrame, inputs: list[str], indicator: str, folder: Path) -> list[str]:
    """The indicator against each varied input, one line per mineral that moves (mean over the others)."""
    names = []
    sub = table[table["indicator"] == indicator]
    with style():
        for k, name in enumerate(inputs):
            fig, (ax,) = figure(1, 1, 380, Margins(left=100, right=LEGEND_PX, top=50, bottom=70), sharex=False)
            still = []
            for mineral, rows in sub.groupby("mineral", sort=False):
                if rows["value"].nunique() <= 1:
                    still.append(str(mineral))
                    continue
                numeric = pd.to_numeric(rows[name], errors="coerce")
                colour = mineral_colour(str(mineral))
                if numeric.notna().all():
                    mean = rows.assign(x=numeric).groupby("x")["value"].mean()
                    style_ = "o" if len(inputs) > 1 and mean.size > 25 else "o-"
                    ax.plot(mean.index, mean.to_numpy(), style_, ms=5, label=mineral, color=colour)
                else:
                    mean = rows.groupby(name, sort=False)["value"].mean()
                    ax.plot([str(v) for v in mean.index], mean.to_numpy(), "o-", label=mineral, color=colour)
            ax.grid(True)
            ax.set_xlabel(name)
            ax.set_ylabel(indicator)
            ax.set_title(
                f"{indicator} against {name}" + (" (mean over the other inputs)" if len(inputs) > 1 else ""),
                loc="left",
            )
            name_lines(ax)
            if still:
                note(fig, "the same at every point: " + ", ".join(still))
            file = f"sweep_{k}.png"
            save_png(fig, folder / file)
            names.append(file)
    return names


def save_sensitivity_plot(ranking: pd.DataFrame, title: str, folder: Path) -> str:
    """Each input's effect on the indicator, one panel of bars per mineral in the mineral's colour."""
    minerals = list(dict.fromkeys(ranking["mineral"]))
    inputs = ranking["input"].nunique()
    with style():
        cols = min(2, max(len(minerals), 1))
        rows = math.ceil(max(len(minerals), 1) / cols)
        fig, axes = figure(
            rows, cols, max(120, 26 * inputs), Margins(left=330, top=60, bottom=40, wspace=340, hspace=60), sharex=False
        )
        for ax, mineral in zip(axes, minerals, strict=False):
            part = ranking[ranking["mineral"] == mineral].sort_values("effect")
            ax.barh(part["input"], part["effect"], color=mineral_colour(mineral))
            ax.set_title(mineral, loc="left")
            ax.grid(axis="x")
            ax.set_axisbelow(True)  # the gridlines behind the bars
        for ax in axes[len(minerals) :]:
            ax.set_visible(False)
        fig.suptitle(title, x=12 / WIDTH_PX, ha="left")
        save_png(fig, folder / "sensitivity.png")
    return "sensitivity.png"
