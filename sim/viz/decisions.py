"""Pictures and report pages of scenario discovery (PRIM boxes) and robust decisions (regret)."""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from sim.target import Metric
from sim.viz.plots import PNG_META
from sim.viz.report import embedded_pngs, html_page


def save_peeling_plot(trajectories: list[pd.DataFrame], folder: Path) -> list[str]:
    """Coverage against density along each box's peeling trajectory; the chosen point ringed."""
    if not trajectories:
        return []
    fig, ax = plt.subplots(figsize=(7, 5))
    for number, trajectory in enumerate(trajectories, start=1):
        points = ax.scatter(
            trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis", s=18
        )
        chosen = trajectory[trajectory["chosen"]]
        ax.scatter(chosen["coverage"], chosen["density"], s=140, facecolors="none", edgecolors="#cc3311", lw=2)
        ax.annotate(
            f"box {number}",
            (chosen["coverage"].iloc[0], chosen["density"].iloc[0]),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=11,
        )
    fig.colorbar(points, ax=ax, label="inputs restricted")
    ax.set_xlabel("coverage (share of target futures inside the box)", fontsize=11)
    ax.set_ylabel("density (share of the box's futures on target)", fontsize=11)
    ax.set_xlim(0, 1.12)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("PRIM peeling trade-off", fontsize=12)
    fig.tight_layout()
    fig.savefig(folder / "peeling.png", dpi=100, metadata=PNG_META)
    plt.close(fig)
    return ["peeling.png"]


def save_regret_plot(outcomes: pd.DataFrame, table: pd.DataFrame, metric: Metric, folder: Path) -> list[str]:
    """Regret per policy across futures (box plot) beside the share of futures meeting the threshold."""
    policies = list(table["policy"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.6 * len(policies) + 2.5), width_ratios=[2, 1])
    data = [outcomes.loc[outcomes["policy"] == p, "regret"] * metric.scale for p in policies]
    left.boxplot(data, orientation="horizontal", tick_labels=policies, whis=(10, 90), showfliers=True)
    unit = "percentage points" if metric.is_share else metric.unit
    left.set_xlabel(
        f"regret: {metric.words} less the best policy's{f', {unit}' if unit else ''} (whiskers p10-p90)", fontsize=10
    )
    left.grid(alpha=0.3, axis="x")
    right.barh(policies, table["meets_share"] * 100, color="#4477aa")
    right.set_xlim(0, 100)
    right.set_xlabel("futures meeting the threshold, %", fontsize=10)
    right.set_yticks([])
    right.grid(alpha=0.3, axis="x")
    for ax in (left, right):
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(folder / "regret.png", dpi=100, metadata=PNG_META)
    plt.close(fig)
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
    rows = "".join(
        f"<tr><td>{int(r.box)}</td><td>{html.escape(r.input)}</td><td>{r.low:.4g}</td><td>{r.high:.4g}</td>"
        f"<td>{r.full_low:.4g} to {r.full_high:.4g}</td><td>{r.qp:.2g}</td><td>{100 * r.coverage:.0f}%</td>"
        f"<td>{100 * r.density:.0f}%</td><td>{100 * r.mass:.0f}%</td><td>{r.lift:.2f}</td></tr>"
        for r in boxes.itertuples()
    )
    table = (
        "<table><tr><th>box</th><th>input</th><th>low</th><th>high</th><th>sampled range</th><th>qp</th>"
        f"<th>coverage</th><th>density</th><th>mass</th><th>lift</th></tr>{rows}</table>"
        if len(boxes)
        else ""  # the note says why there is none
    )
    body = (
        f"<h1>{html.escape(title)}</h1><p class='meta'>target <code>{html.escape(target)}</code> held in "
        f"{100 * base_rate:.1f}% of {runs} futures (a Latin hypercube over {inputs} uncertain inputs).</p>"
        f"<p>{html.escape(note)}</p>{table}{embedded_pngs(folder, plots)}"
        "<p class='meta'>coverage: share of the target futures inside the box; density: share of the box's "
        "futures on target; mass: share of all futures in the box; qp: quasi-p value of the restriction "
        "(restrictions above 0.05 are lifted); lift: density over the share of all futures on target (near 1, "
        "the box says little). PRIM: EMA Workbench.</p>"
    )
    return html_page(title, body)


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
    rows = "".join(
        f"<tr{' class=hot' if r.policy in tied else ''}><td>{html.escape(r.policy)}</td>"
        f"<td>{100 * r.meets_share:.0f}%</td><td>{k * r.metric_median:.4g}</td><td>{k * r.regret_median:.4g}</td>"
        f"<td>{k * r.regret_p90:.4g}</td><td>{k * r.regret_max:.4g}</td><td>{100 * r.best_share:.0f}%</td>"
        f"<td>{r.cost_usd_median / 1e6:,.0f}</td></tr>"
        for r in table.itertuples()
    )
    unit = f", {metric.unit}" if metric.unit else ""
    gap = "percentage points" if metric.is_share else metric.unit
    body = (
        f"<h1>{html.escape(title)}</h1><p class='meta'>{futures} futures, the same for every policy. Threshold: "
        f"<code>{html.escape(threshold)}</code>. Outcome: {html.escape(metric.words)}{html.escape(unit)} (lower is "
        f"better; regret{f' in {html.escape(gap)}' if gap else ''}: against the best policy in the same future).</p>"
        "<table><tr><th>policy</th><th>futures meeting threshold</th><th>outcome median</th>"
        "<th>regret median</th><th>regret p90</th><th>regret max</th><th>best in</th>"
        f"<th>funding committed, median USD m</th></tr>{rows}</table>"
        f"<p>Least maximum regret: <b>{html.escape(' = '.join(tied))}</b> (highlighted"
        f"{'; a tie' if len(tied) > 1 else ''}).</p>{embedded_pngs(folder, plots)}"
    )
    return html_page(title, body)
