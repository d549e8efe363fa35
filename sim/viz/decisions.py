"""Pictures and report pages of scenario discovery (PRIM boxes) and robust decisions (regret)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.discover import BOX_COLUMNS, box_cells
from sim.target import Metric
from sim.viz.charts import DPI, WIDTH_PX, Margins, figure, save_png, style
from sim.viz.report import embedded_pngs, render


def save_peeling_plot(trajectories: list[pd.DataFrame], folder: Path) -> list[str]:
    """Coverage against density along each box's peeling trajectory; the chosen point ringed."""
    if not trajectories:
        return []
    with style():
        fig, (ax,) = figure(1, 1, 460, Margins(left=90, right=150, top=50, bottom=70), width=840)
        for number, trajectory in enumerate(trajectories, start=1):
            points = ax.scatter(
                trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=30
            )
            chosen = trajectory[trajectory["chosen"]]
            ax.scatter(chosen["coverage"], chosen["density"], s=200, facecolors="none", edgecolors="#cc3311", lw=2)
            ax.annotate(
                f"box {number}",
                (chosen["coverage"].iloc[0], chosen["density"].iloc[0]),
                xytext=(8, 8),
                textcoords="offset points",
            )
        fig.colorbar(points, ax=ax, label="inputs restricted")
        ax.grid(True)
        ax.set_xlabel("coverage (share of target futures inside the box)")
        ax.set_ylabel("density (share on target)")
        ax.set_xlim(0, 1.12)
        ax.set_ylim(0, 1.02)
        ax.set_title("PRIM peeling trade-off", loc="left")
        save_png(fig, folder / "peeling.png")
    return ["peeling.png"]


def save_regret_plot(outcomes: pd.DataFrame, table: pd.DataFrame, metric: Metric, folder: Path) -> list[str]:
    """Regret per policy across futures (box plot) beside the share of futures meeting the threshold."""
    policies = list(table["policy"])
    unit = "percentage points" if metric.is_share else metric.unit
    with style():
        fig = Figure(figsize=(WIDTH_PX / DPI, (44 * len(policies) + 140) / DPI), dpi=DPI)
        grid = fig.add_gridspec(1, 2, width_ratios=[2, 1], left=0.2, right=0.98, top=0.95, bottom=110 / fig.bbox.height)
        left, right = grid.subplots()
        data = [outcomes.loc[outcomes["policy"] == p, "regret"] * metric.scale for p in policies]
        left.boxplot(data, orientation="horizontal", tick_labels=policies, whis=(10, 90), showfliers=True)
        left.set_xlabel(
            f"regret: {metric.words} less the best policy's{f', {unit}' if unit else ''}\n(whiskers p10-p90)"
        )
        right.barh(policies, table["meets_share"] * 100, color="#4477aa")
        right.set_xlim(0, 100)
        right.set_xlabel("futures meeting the threshold, %")
        right.set_yticks([])
        for ax in (left, right):
            ax.grid(axis="x")
            ax.set_axisbelow(True)  # the gridlines behind the bars and boxes
            ax.invert_yaxis()
        save_png(fig, folder / "regret.png")
    return ["regret.png"]


def discover_page(
    folder: Path,
    title: str,
    target: str,
    runs: int,
    inputs: int,
    base_rate: float,
    boxes: pd.DataFrame,
    plots: list[str],
    note: str,
) -> str:
    rows = [box_cells(r) for r in boxes.itertuples()]
    return render(
        "discover.html.j2",
        title=title,
        target=target,
        base_rate=f"{100 * base_rate:.1f}%",
        runs=runs,
        inputs=inputs,
        note=note,
        boxes={"header": BOX_COLUMNS, "rows": rows} if rows else None,  # without boxes the note says why
        images=embedded_pngs(folder, plots),
    )


def robust_page(
    folder: Path,
    title: str,
    table: pd.DataFrame,
    metric: Metric,
    threshold: str,
    futures: int,
    tied: list[str],
    plots: list[str],
) -> str:
    k = metric.scale
    rows = [
        [
            r.policy,
            f"{100 * r.meets_share:.0f}%",
            f"{k * r.metric_median:.4g}",
            f"{k * r.regret_median:.4g}",
            f"{k * r.regret_p90:.4g}",
            f"{k * r.regret_max:.4g}",
            f"{100 * r.best_share:.0f}%",
            f"{r.cost_usd_median / 1e6:,.0f}",
        ]
        for r in table.itertuples()
    ]
    header = [
        "policy",
        "futures meeting threshold",
        "outcome median",
        "regret median",
        "regret p90",
        "regret max",
        "best in",
        "funding committed, median USD m",
    ]
    return render(
        "robust.html.j2",
        title=title,
        futures=futures,
        threshold=threshold,
        outcome=metric.words + (f", {metric.unit}" if metric.unit else ""),
        gap="percentage points" if metric.is_share else metric.unit,
        policies={"header": header, "rows": rows, "hot": [i for i, p in enumerate(table["policy"]) if p in tied]},
        tied=tied,
        images=embedded_pngs(folder, plots),
    )
