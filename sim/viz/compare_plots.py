"""Overlay plots of several runs: one panel per mineral, one line per run (minerals at zero in every run
are named under the panels, not drawn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.results.compare import Compared
from sim.viz.charts import WIDTH_PX, save_png, split_zero, style, time_axis
from sim.viz.plots import label_every, note, small_multiples

OVERLAYS = {
    "shortfall_share": ("US shortfall", "% of demand", 100.0),
    "capacity_gap": ("Processing-capacity gap", "t/yr", 1.0),
    "price_outside_ratio": ("Price outside restricting countries", "x baseline", 1.0),
}
RUN_COLOURS = ("#000000", "#ee7733", "#0077bb", "#009988", "#cc3311", "#33bbee", "#ee3377", "#bbbbbb")


def save_overlays(items: list[Compared], folder: Path) -> list[str]:
    names = []
    with style():
        for variable, (title, unit, scale) in OVERLAYS.items():
            tables = [(item.label, item.series(variable)) for item in items]
            minerals = list(tables[0][1].columns)
            rest = 1.0 if unit == "x baseline" else 0.0
            values = {
                m: np.concatenate([table[m].to_numpy() - rest for _, table in tables if m in table]) for m in minerals
            }
            shown, folded = split_zero(values, 1e-3 if variable == "capacity_gap" else 1e-6)
            fig, axes = small_multiples(len(shown), top=84 + 20 * len(tables), bottom=60)
            for k, (ax, mineral) in enumerate(zip(axes, shown, strict=False)):
                for (label, table), colour in zip(tables, RUN_COLOURS * 4, strict=False):
                    if mineral in table:
                        ax.plot(np.arange(len(table)), table[mineral] * scale, label=label, color=colour)
                ax.set_title(mineral, loc="left")
                time_axis(ax, list(tables[0][1].index), labels=k >= len(shown) - 3, every=label_every(3))
            fig.suptitle(f"{title}, {unit}", x=12 / WIDTH_PX, ha="left")
            for row, ((label, _), colour) in enumerate(zip(tables, RUN_COLOURS * 4, strict=False)):
                fig.text(12 / WIDTH_PX, 1 - (40 + 20 * row) / fig.bbox.height, f"— {label}", color=colour, va="top")
            if folded:
                note(fig, f"{rest:g} in every run: " + ", ".join(folded))
            name = f"compare_{variable}.png"
            save_png(fig, folder / name)
            names.append(name)
    return names
