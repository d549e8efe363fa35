"""Matplotlib figures of one run, saved as PNG beside its data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.results.recorder import ROUTES
from sim.viz.palette import ROUTE_COLOURS, mineral_colour

if TYPE_CHECKING:
    from sim.api import RunResult

PNG_META = {"Software": None}  # no version stamp: same run, same bytes


def month_axis(ax: plt.Axes, months: pd.Index | list[str]) -> None:
    ticks = np.arange(0, len(months), max(1, len(months) // 6))
    ax.set_xticks(ticks)
    ax.set_xticklabels([months[i] for i in ticks], rotation=30, ha="right", fontsize=7)
    ax.grid(alpha=0.3)


def grid(n: int) -> tuple[plt.Figure, np.ndarray]:
    cols = 5 if n > 4 else n
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows + 0.6), squeeze=False, sharex=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _lines(
    result: RunResult,
    variable: str,
    title: str,
    ylabel: str,
    path: Path,
    scale: float = 100.0,
    divide_by: str | None = None,
) -> None:
    table = result.series(variable)
    if divide_by is not None:
        table = table / (result.series(divide_by) * 12)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for mineral in table.columns:
        ax.plot(np.arange(len(table)), table[mineral] * scale, label=mineral, color=mineral_colour(mineral), lw=1.6)
    month_axis(ax, table.index)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} — {result.name} (seed {result.seed})")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=PNG_META)
    plt.close(fig)


def save_run_plots(result: RunResult, folder: Path) -> list[str]:
    """Write the run's PNGs into `folder`; return their file names."""
    names = []
    _lines(
        result, "shortfall_share", "US shortfall, share of demand", "% of demand", folder / "shortfall_by_mineral.png"
    )
    names.append("shortfall_by_mineral.png")
    _lines(
        result,
        "capacity_gap",
        "Processing-capacity gap, share of demand",
        "% of annual demand",
        folder / "capacity_gap.png",
        divide_by="us_demand",
    )
    names.append("capacity_gap.png")

    outside, inside = result.series("price_outside_ratio"), result.series("price_inside_ratio")
    us = result.series("price_us") / result.series("price_outside") * outside  # x baseline, as the others
    fig, axes = grid(len(outside.columns))
    for ax, mineral in zip(axes, outside.columns, strict=False):
        x = np.arange(len(outside))
        ax.plot(x, us[mineral], color="#000000", lw=1.2, label="paid by US buyers (with duties)")
        ax.plot(x, outside[mineral], color="#cc3311", label="outside restricting countries")
        ax.plot(x, inside[mineral], color="#0077bb", ls="--", label="inside restricting countries")
        ax.axhline(1.0, color="grey", lw=0.8)
        low = min(outside[mineral].min(), inside[mineral].min(), us[mineral].min())
        high = max(outside[mineral].max(), inside[mineral].max(), us[mineral].max())
        ax.set_ylim(min(0.9, low * 0.97), max(1.1, high * 1.03))  # a flat line looks flat
        ax.set_title(mineral, fontsize=9)
        month_axis(ax, outside.index)
    axes[0].set_ylabel("price, x baseline")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8)
    fig.suptitle(f"Prices against baseline — {result.name}")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(folder / "prices.png", dpi=100, metadata=PNG_META)
    plt.close(fig)
    names.append("prices.png")

    flows = result.flows
    months = outside.index
    fig, axes = grid(len(outside.columns))
    for ax, mineral in zip(axes, outside.columns, strict=False):
        sub = flows[flows["mineral"] == mineral]
        table = sub.pivot_table(index="month", columns="route", values="t", aggfunc="sum").reindex(months)
        table = table.reindex(columns=list(ROUTES)).fillna(0.0)
        ax.stackplot(
            np.arange(len(months)),
            *(table[r].to_numpy() for r in ROUTES),
            colors=[ROUTE_COLOURS[r] for r in ROUTES],
            labels=list(ROUTES),
        )
        ax.set_title(mineral, fontsize=9)
        month_axis(ax, months)
    axes[0].set_ylabel("imports, t/month")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(f"US imports by route — {result.name}")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(folder / "flows_by_route.png", dpi=100, metadata=PNG_META)
    plt.close(fig)
    names.append("flows_by_route.png")
    return names


BAND_PLOTS = {
    "shortfall_share": ("US shortfall", "% of demand", 100.0),
    "price_outside_ratio": ("Price outside restricting countries", "x baseline", 1.0),
    "capacity_gap": ("Processing-capacity gap", "t/yr", 1.0),
}


def save_band_plots(bands: pd.DataFrame, title: str, folder: Path) -> list[str]:
    """p5-p95 band and median per mineral for the main series of an ensemble."""
    names = []
    for variable, (label, unit, scale) in BAND_PLOTS.items():
        sub = bands[bands["variable"] == variable]
        minerals = list(dict.fromkeys(sub["mineral"]))
        fig, axes = grid(len(minerals))
        for ax, mineral in zip(axes, minerals, strict=False):
            rows = sub[sub["mineral"] == mineral]
            x = np.arange(len(rows))
            ax.fill_between(x, rows["p5"] * scale, rows["p95"] * scale, color="#4477aa", alpha=0.25, label="p5-p95")
            ax.plot(x, rows["p50"] * scale, color="#4477aa", lw=1.5, label="median")
            ax.set_title(mineral, fontsize=9)
            month_axis(ax, pd.Index(rows["month"]))
        axes[0].set_ylabel(unit)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8)
        fig.suptitle(f"{label}: {title}")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        name = f"bands_{variable}.png"
        fig.savefig(folder / name, dpi=100, metadata=PNG_META)
        plt.close(fig)
        names.append(name)
    return names


def save_sweep_plot(table: pd.DataFrame, inputs: list[str], indicator: str, folder: Path) -> list[str]:
    """The indicator against each varied input, one line per mineral that moves (mean over the others)."""
    names = []
    sub = table[table["indicator"] == indicator]
    for k, name in enumerate(inputs):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for mineral, rows in sub.groupby("mineral", sort=False):
            if rows["value"].nunique() <= 1:
                continue
            numeric = pd.to_numeric(rows[name], errors="coerce")
            if numeric.notna().all():
                mean = rows.assign(x=numeric).groupby("x")["value"].mean()
                style = "o" if len(inputs) > 1 and mean.size > 25 else "o-"
                ax.plot(mean.index, mean.to_numpy(), style, ms=3, label=mineral)
            else:
                mean = rows.groupby(name, sort=False)["value"].mean()
                ax.plot([str(v) for v in mean.index], mean.to_numpy(), "o-", label=mineral)
        ax.set_xlabel(name)
        ax.set_ylabel(indicator)
        ax.grid(alpha=0.3)
        ax.set_title(f"{indicator} against {name}" + (" (mean over the other inputs)" if len(inputs) > 1 else ""))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        fig.tight_layout()
        file = f"sweep_{k}.png"
        fig.savefig(folder / file, dpi=110, metadata=PNG_META)
        plt.close(fig)
        names.append(file)
    return names


def save_sensitivity_plot(ranking: pd.DataFrame, title: str, folder: Path) -> str:
    minerals = list(dict.fromkeys(ranking["mineral"]))
    fig, axes = grid(max(1, len(minerals)))
    for ax, mineral in zip(axes, minerals, strict=False):
        rows = ranking[ranking["mineral"] == mineral].sort_values("effect")
        ax.barh(rows["input"], rows["effect"], color="#4477aa")
        ax.set_title(mineral, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(folder / "sensitivity.png", dpi=100, metadata=PNG_META)
    plt.close(fig)
    return "sensitivity.png"
