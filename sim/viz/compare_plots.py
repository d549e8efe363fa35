"""Overlay plots of several runs: one panel per mineral, one line per run, each run's line at its own
calendar months on one time axis (runs that start in different months line up by date); minerals at rest
in every run are named under the panels, not drawn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.results.compare import Compared
from sim.results.runs import RunError
from sim.scenario.schema import month_label
from sim.viz.charts import CAP_LINE, WIDTH_PX, reaches_cap, save_png, split_zero, style, time_axis
from sim.viz.plots import label_every, note, small_multiples, us_price_ratio

OVERLAYS = {
    "shortfall_share": ("US shortfall", "% of demand", 100.0),
    "capacity_gap": ("Processing-capacity gap", "t/yr", 1.0),
    "price_outside_ratio": ("Price outside restricting countries", "x baseline", 1.0),
    "price_us_ratio": ("Price US buyers pay (duties included)", "x baseline", 1.0),
}
# Overlays that runs stored by an older sim lack, and how to compute them from what they kept; a run that
# kept neither is named under the panels, not drawn.
DERIVED: dict[str, Callable[[Callable[[str], pd.DataFrame]], pd.DataFrame]] = {"price_us_ratio": us_price_ratio}
STORED = [variable for variable in OVERLAYS if variable not in DERIVED]  # every run has these
RUN_COLOURS = ("#000000", "#ee7733", "#0077bb", "#009988", "#cc3311", "#33bbee", "#ee3377", "#bbbbbb")


def overlay_series(item: Compared, variable: str) -> pd.DataFrame | None:
    """A run's month x mineral table of an overlay, or None if the run does not keep it or what it is made
    from (a run stored before the series was recorded is derived from others where it can be)."""
    try:
        return item.series(variable)
    except RunError:
        if variable not in DERIVED:
            raise
    try:
        return DERIVED[variable](item.series)
    except RunError:
        return None


def common_months(tables: Sequence[pd.DataFrame]) -> list[str]:
    """Every month ('YYYY-MM') from the earliest first month of the tables to the latest last one, in order:
    the union of their months (with any gap between runs filled, so a year keeps its width)."""
    first = min(str(table.index[0]) for table in tables)
    last = max(str(table.index[-1]) for table in tables)
    months = [first]
    while months[-1] < last:
        months.append(month_label(first, len(months)))
    return months


def positions(axis: Sequence[str], months: Sequence[str]) -> np.ndarray:
    """Where each of a run's months sits on the common axis (`axis`, from common_months)."""
    place = {month: k for k, month in enumerate(axis)}
    return np.array([place[str(month)] for month in months], dtype=float)


def overlay_figure(items: list[Compared], variable: str) -> Figure | None:
    """One overlay: a panel per mineral that moves in some run, a line per run that keeps the series, at
    its calendar months; None if no run keeps it."""
    title, unit, scale = OVERLAYS[variable]
    drawn = [
        (item.label, colour, overlay_series(item, variable))
        for item, colour in zip(items, RUN_COLOURS * 4, strict=False)
    ]
    caps = {item.label: item.price_cap for item in items} if unit == "x baseline" else {}
    tables = [(label, colour, table) for label, colour, table in drawn if table is not None]
    if not tables:
        return None
    axis = common_months([table for _, _, table in tables])
    minerals = list(dict.fromkeys(m for _, _, table in tables for m in table.columns))
    rest = 1.0 if unit == "x baseline" else 0.0
    values = {m: np.concatenate([table[m].to_numpy() - rest for _, _, table in tables if m in table]) for m in minerals}
    shown, folded = split_zero(values, 1e-3 if variable == "capacity_gap" else 1e-6)
    fig, axes = small_multiples(len(shown), top=84 + 20 * len(tables), bottom=60)
    capped: dict[float, list[str]] = {}  # a price cap reached -> the runs that reach it
    for k, (ax, mineral) in enumerate(zip(axes, shown, strict=False)):
        for label, colour, table in tables:
            if mineral in table:
                ax.plot(positions(axis, table.index), table[mineral] * scale, label=label, color=colour)
                if reaches_cap(table[mineral].to_numpy(), cap := caps.get(label)):
                    ax.axhline(cap, **CAP_LINE)
                    capped.setdefault(cap, []).append(f"{label} ({mineral})")
        ax.set_title(mineral, loc="left")
        time_axis(ax, axis, labels=k >= len(shown) - 3, every=label_every(3))
    # The title sits a fixed 12 px from the top (a fraction of the height would crowd the runs' names
    # under it on a tall figure).
    fig.suptitle(f"{title}, {unit}", x=12 / WIDTH_PX, y=1 - 12 / fig.bbox.height, ha="left", va="top")
    for row, (label, colour, _) in enumerate(tables):
        fig.text(12 / WIDTH_PX, 1 - (40 + 20 * row) / fig.bbox.height, f"— {label}", color=colour, va="top")
    notes = [f"{rest:g} in every run: " + ", ".join(folded)] if folded else []
    notes += [f"dashed: the model's price cap, {cap:g}x (an assumption), reached by {', '.join(runs)}"
              for cap, runs in capped.items()]  # fmt: skip
    if missing := [label for label, _, table in drawn if table is None]:
        notes.append("not stored for " + ", ".join(missing) + " (stored by an older sim)")
    if notes:
        note(fig, "; ".join(notes))
    return fig


def save_overlays(items: list[Compared], folder: Path) -> list[str]:
    names = []
    with style():
        for variable in OVERLAYS:
            fig = overlay_figure(items, variable)
            if fig is None:
                continue
            name = f"compare_{variable}.png"
            save_png(fig, folder / name)
            names.append(name)
    return names
