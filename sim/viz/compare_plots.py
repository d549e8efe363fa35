"""Overlay plots of several runs: one panel per mineral, one line per run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.results.compare import Compared
from sim.viz.plots import PNG_META, grid, month_axis

OVERLAYS = {
    "shortfall_share": ("US shortfall", "% of demand", 100.0),
    "capacity_gap": ("Processing-capacity gap", "t/yr", 1.0),
    "price_outside_ratio": ("Price outside restricting countries", "x baseline", 1.0),
}


def save_overlays(items: list[Compared], folder: Path) -> list[str]:
    names = []
    for variable, (title, unit, scale) in OVERLAYS.items():
        tables = [(item.label, item.series(variable)) for item in items]
        minerals = list(tables[0][1].columns)
        fig, axes = grid(len(minerals))
        for ax, mineral in zip(axes, minerals, strict=False):
            for label, table in tables:
                if mineral in table:
                    ax.plot(np.arange(len(table)), table[mineral] * scale, label=label, lw=1.4)
            ax.set_title(mineral, fontsize=9)
            month_axis(ax, tables[0][1].index)
        axes[0].set_ylabel(unit)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=min(4, len(items)), fontsize=8)
        fig.suptitle(f"{title}: {' vs '.join(label for label, _ in tables)}")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        name = f"compare_{variable}.png"
        fig.savefig(folder / name, dpi=100, metadata=PNG_META)
        plt.close(fig)
        names.append(name)
    return names
