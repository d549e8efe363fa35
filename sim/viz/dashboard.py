"""The workshop dashboard: Mesa's SolaraViz around the model, with levers and live charts.

`sim dashboard SCENARIO` serves `sim.viz.dashboard_app`, which calls `dashboard_page`. Move a lever,
press Reset to rebuild the model with it, then Step or Play: the charts follow month by month.
"""

from __future__ import annotations

from html import escape

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.model.market import share
from sim.model.model import SupplyChainModel
from sim.results.recorder import ROUTES, Recorder
from sim.scenario.load import ResolvedScenario, load_scenario
from sim.viz.levers import (
    ALL,
    BAN_DESTINATIONS,
    NONE,
    Levers,
    apply_levers,
    banned_minerals,
    exporters,
    restriction_pairs,
    scenario_leakage,
)
from sim.viz.palette import ROUTE_COLOURS, mineral_colour

DEFAULT_SCENARIO = "scenarios/china_ban.yaml"  # as `sim dashboard`'s default, from the project folder
# Levers are menus of round values, not sliders: a menu always shows its value, and a workshop guide
# can say "set leakage to 0.3" and be followed exactly.
LEAKAGES = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5]
POWER_MULTIPLIERS = [1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
POWER_MONTHS = [3, 6, 12, 24, 36, 60]
GRANTS_MUSD = [0, 100, 250, 500, 1000, 2000]


class DashboardModel(SupplyChainModel):
    """The model of a scenario with the dashboard's levers applied. Every argument has a default, as
    SolaraViz rebuilds the model from keyword arguments when Reset is pressed."""

    def __init__(
        self,
        scenario_file: str = DEFAULT_SCENARIO,
        lift: str = NONE,
        ban_exporter: str = NONE,
        ban_mineral: str = ALL,
        ban_destinations: str = BAN_DESTINATIONS[0],
        leakage: float | None = None,
        power_multiplier: float = 1.0,
        power_months: int = 12,
        grants_musd_per_yr: float = 0.0,
        stockpile_release: bool | None = None,
        seed: int | None = None,
    ) -> None:
        base = load_scenario(scenario_file)
        if leakage is not None and np.isclose(leakage, scenario_leakage(base)):
            leakage = None  # the lever at the scenario's value: each restriction keeps its own leakage
        self.levers = levers = Levers(
            lift=lift,
            ban_exporter=ban_exporter,
            ban_mineral=ban_mineral,
            ban_destinations=ban_destinations,
            leakage=leakage,
            power_multiplier=power_multiplier,
            power_months=power_months,
            grants_musd_per_yr=grants_musd_per_yr,
            stockpile_release=stockpile_release,
        )
        self.resolved = apply_levers(base, levers)
        super().__init__(self.resolved, seed=seed, recorder=Recorder)

    def step(self) -> None:
        """One month; the model stops at its horizon (the Play button then greys out)."""
        if self.month < self.scenario_spec.horizon_months:
            super().step()
        self.running = self.month < self.scenario_spec.horizon_months


def lever_params(resolved: ResolvedScenario, scenario_file: str) -> dict:
    """SolaraViz `model_params`: the levers with their ranges, starting where the scenario is."""
    minerals = list(resolved.world.minerals)
    policies = resolved.scenario.policies
    pairs = restriction_pairs(resolved)
    return {
        "scenario_file": scenario_file,
        "lift": {
            "type": "Select",
            "value": NONE,
            "values": [NONE, *pairs, *([ALL] if pairs else [])],
            "label": "Lift a restriction of the scenario",
        },
        "ban_exporter": {
            "type": "Select",
            "value": NONE,
            "values": [NONE, *exporters(resolved)],
            "label": "New ban on exports: exporter",
        },
        "ban_mineral": {"type": "Select", "value": ALL, "values": [ALL, *minerals], "label": "... of mineral"},
        "ban_destinations": {
            "type": "Select",
            "value": BAN_DESTINATIONS[0],
            "values": list(BAN_DESTINATIONS),
            "label": "... to (the US only, or all destinations)",
        },
        "leakage": {
            "type": "Select",
            "value": scenario_leakage(resolved),
            "values": sorted({*LEAKAGES, scenario_leakage(resolved)}),
            "label": "Leakage through third countries (share)",
        },
        "power_multiplier": {
            "type": "Select",
            "value": 1.0,
            "values": POWER_MULTIPLIERS,
            "label": "Power price shock, x (from month 4)",
        },
        "power_months": {"type": "Select", "value": 12, "values": POWER_MONTHS, "label": "... lasting months"},
        "grants_musd_per_yr": {
            "type": "Select",
            "value": 0,
            "values": GRANTS_MUSD,
            "label": "New processing grants, USD m a year",
        },
        "stockpile_release": {
            "type": "Checkbox",
            "value": policies.stockpile_release_in_shortfall,
            "label": "Stockpile released in a shortfall",
        },
    }


# --- charts: each reads the recorder's arrays up to the current month -------------------------------


def _chart(model: SupplyChainModel, title: str, ylabel: str):
    """A figure with room on the right for the legend (outside the lines, which grow from the left) and
    a fixed layout (tight_layout would cost a third of the drawing time, every month)."""
    fig = Figure(figsize=(6.8, 3.4))
    fig.subplots_adjust(left=0.1, right=0.8, top=0.9, bottom=0.12)
    ax = fig.subplots()
    labels = model.recorder.months()
    januaries = [i for i, label in enumerate(labels) if label.endswith("-01")]
    every = max(1, len(januaries) // 10)
    ax.set_xticks(januaries[::every], [labels[i][:4] for i in januaries[::every]], fontsize=7)
    ax.set_xlim(0, len(labels) - 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    return fig, ax


def _legend(ax) -> None:
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _mineral_lines(model: SupplyChainModel, values: np.ndarray, title: str, ylabel: str, baseline: float = 0.0):
    """Lines per mineral over the months stepped so far; minerals that never leave `baseline` are left out."""
    fig, ax = _chart(model, title, ylabel)
    t = model.month
    shown = [i for i in range(len(model.minerals)) if t and np.abs(values[:t, i] - baseline).max() > 1e-6]
    for i in shown:
        ax.plot(np.arange(t), values[:t, i], label=model.minerals[i], color=mineral_colour(model.minerals[i]), lw=1.8)
    if shown:
        _legend(ax)
    else:
        ax.text(0.5, 0.5, "none so far", ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.axhline(baseline, color="#999", lw=0.8)
    return solara.FigureMatplotlib(fig, format="png")


def ShortfallChart(model: SupplyChainModel):
    series = model.recorder.series
    return _mineral_lines(model, series["shortfall_share"] * 100, "US shortfall (demand not met)", "% of demand")


def CapacityGapChart(model: SupplyChainModel):
    series = model.recorder.series
    gap = share(series["capacity_gap"], series["us_demand"] * 12) * 100
    return _mineral_lines(model, gap, "Processing-capacity gap", "% of annual demand")


def PriceChart(model: SupplyChainModel):
    series = model.recorder.series
    return _mineral_lines(
        model, series["price_outside_ratio"], "Price outside restricting countries", "x baseline", baseline=1.0
    )


@solara.component
def FlowsChart(model: SupplyChainModel):
    """US imports of one mineral by route, stacked; the mineral is chosen on the chart."""
    update_counter.get()
    mineral, set_mineral = solara.use_state(_most_restricted(model))
    if mineral not in model.minerals:
        mineral = model.minerals[0]
    i, t = model.minerals.index(mineral), model.month
    flows = model.recorder.flows[:t, i].sum(axis=1)  # [month, route]
    fig, ax = _chart(model, f"US imports of {mineral} by route", "t/month")
    if t:
        ax.stackplot(np.arange(t), flows.T, labels=ROUTES, colors=[ROUTE_COLOURS[r] for r in ROUTES], alpha=0.9)
        _legend(ax)
    with solara.Column():
        solara.Select("Mineral", value=mineral, values=model.minerals, on_value=set_mineral)
        solara.FigureMatplotlib(fig, format="png")


def _most_restricted(model: SupplyChainModel) -> str:
    """The first mineral the scenario restricts, else the first mineral."""
    restricted = model.timeline.restricting.any(axis=(0, 2))
    return model.minerals[int(np.argmax(restricted))] if restricted.any() else model.minerals[0]


def Headline(model: DashboardModel):
    """Where things stand: the month, the levers in force, and per mineral the shortfall so far, the
    capacity gap and the prices now."""
    t = model.month
    horizon = model.scenario_spec.horizon_months
    when = f"{model.recorder.months()[t - 1]}, month {t} of {horizon}" if t else f"month 0 of {horizon}: press Step"
    levers = f"<p style='color:#555;font-size:12px'>{escape(describe(model))}</p>"
    header = f"<p><b>{escape(model.scenario_spec.name)}</b>: {when}</p>{levers}"
    if t == 0:
        return solara.HTML(tag="div", unsafe_innerHTML=header)
    s = model.recorder.series
    short = share(s["shortfall"][:t].sum(axis=0), s["us_demand"][:t].sum(axis=0))
    columns = ("mineral", "short so far", "short now", "gap now, t/yr", "price outside", "price inside")
    rows = [
        (
            mineral,
            f"{short[i]:.1%}",
            f"{s['shortfall_share'][t - 1, i]:.1%}",
            f"{s['capacity_gap'][t - 1, i]:,.0f}",
            f"{s['price_outside_ratio'][t - 1, i]:.2f}x",
            f"{s['price_inside_ratio'][t - 1, i]:.2f}x",
        )
        for i, mineral in enumerate(model.minerals)
    ]
    cell = "padding:1px 8px;border-bottom:1px solid #eee;text-align:right;font-size:12px;line-height:1.3"
    head = "".join(f"<th style='{cell}'>{c}</th>" for c in columns)
    body = "".join(
        f"<tr data-mineral='{escape(row[0])}'>" + "".join(f"<td style='{cell}'>{escape(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    table = f"<table class='headline' style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>{body}</table>"
    return solara.HTML(tag="div", unsafe_innerHTML=header + table)


def describe(model: DashboardModel) -> str:
    """The levers in force, in words: what the model now running was built with (a menu changed since
    then takes effect only at Reset)."""
    levers = model.levers
    parts = [f"lifted: {levers.lift}"]
    if levers.ban_exporter != NONE:
        banned = banned_minerals(model.resolved, levers)
        what = ", ".join(banned) if banned else f"nothing ({levers.ban_exporter} produces no {levers.ban_mineral})"
        parts.append(f"new ban by {levers.ban_exporter} to {levers.ban_destinations}: {what}")
    leakage = scenario_leakage(model.resolved) if levers.leakage is None else levers.leakage
    parts.append(f"leakage {leakage:.2f}")
    if levers.power_multiplier != 1.0:
        parts.append(f"power x{levers.power_multiplier:.1f} for {levers.power_months} months")
    parts.append(f"grants USD {levers.grants_musd_per_yr:,.0f} m/yr")
    release = model.scenario_spec.policies.stockpile_release_in_shortfall
    parts.append(f"stockpile release {'on' if release else 'off'}")
    return "Levers: " + "; ".join(parts)


COMPONENTS = [Headline, ShortfallChart, CapacityGapChart, PriceChart, FlowsChart]


def dashboard_page(scenario_file: str = DEFAULT_SCENARIO):
    """The SolaraViz page for a scenario file (which must load; the CLI checks it first). Called inside
    a component, so each browser session builds its own model."""
    model = solara.use_memo(lambda: DashboardModel(scenario_file), [scenario_file])
    return SolaraViz(
        model,
        components=[(component, 0) for component in COMPONENTS],
        model_params=lever_params(model.resolved, scenario_file),  # untouched levers: the scenario itself
        name=f"sim dashboard: {model.scenario_spec.name}",
        play_interval=150,
    )
