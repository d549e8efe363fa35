"""The workshop dashboard: one page for every scenario, levers on the left, charts filling the rest.

Two modes. **Instant** (the default): moving a lever re-runs the whole horizon and redraws the scenario
(solid) against a reference (dashed) at once. **Step by step**: Mesa's Step / Play / Reset controls
advance a model month by month; a lever moved since the last Reset is marked "changed, not yet applied".
`sim dashboard [SCENARIO]` serves `sim.viz.dashboard_app`, which calls `dashboard_page`.
"""

from __future__ import annotations

import time
from dataclasses import fields
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.model.market import share
from sim.model.model import SupplyChainModel
from sim.results.recorder import Recorder
from sim.scenario.load import ResolvedScenario
from sim.scenario.schema import month_label
from sim.viz.dashboard_charts import (
    CHARTS,
    HEIGHT_PX,
    PER_MINERAL,
    PICTURE_PX,
    PICTURES,
    WIDTH_PX,
    ChartData,
    Drawn,
    render_png,
    shock_windows,
)
from sim.viz.instant import (
    AS_WRITTEN,
    DEFAULT_SCENARIO,
    REFERENCES,
    instant_chart,
    loaded,
    reference_file,
    references,
    run_with_levers,
    scenario_catalogue,
)
from sim.viz.levers import (
    ALL,
    BAN_DESTINATIONS,
    NONE,
    LeverMenu,
    Levers,
    apply_levers,
    describe_levers,
    lever_menus,
    levers_from,
)

INSTANT, STEP = "Instant", "Step by step"
MONTHS_PER_FRAME = (1, 3, 6, 12)
LEGEND_PX = 128  # beside each chart
LEVER_NAMES = {field.name for field in fields(Levers)}
CSS = """
html, body, .v-application { font-size: 16px; }
.sim-page { height: 100vh; flex-wrap: nowrap !important; }
.sim-levers { width: 300px; min-width: 300px; height: 100vh; overflow-y: auto; background: #f3f4f6;
  padding: 6px 12px !important; }
.sim-main { flex: 1 1 auto; height: 100vh; overflow-y: auto; padding: 4px 8px !important; }
.sim-levers h2 { font-size: 18px; margin: 2px 0 2px 0; }
.sim-label { font-size: 15px; color: #333; margin: 5px 0 1px 0; line-height: 1.2; }
.sim-label.moved, .v-input.moved label { color: #a34d00 !important; font-weight: 600; }
.sim-pending { background: #fff1dc; border-left: 4px solid #d97a00; padding: 6px 8px; font-size: 15px; }
.sim-step { margin-top: 4px; }
.sim-controller .row { flex-wrap: nowrap; gap: 8px; margin: 0; }
.sim-bar { align-items: center; gap: 10px; flex-wrap: nowrap !important; }
.sim-status { font-size: 15px; line-height: 1.3; margin: 2px 0 4px 0; color: #222; }
.v-select__selection, .v-list-item__title, .v-input input, .v-label, .v-btn { font-size: 15px !important; }
.v-text-field--outlined .v-label--active { transform: translateY(-20px) scale(1) !important; background: #fff;
  padding: 0 3px; }
.v-text-field--outlined.v-input--dense .v-label--active { transform: translateY(-15px) scale(1) !important; }
.sim-bar { margin-top: 6px; }
.v-input--selection-controls { margin-top: 4px !important; padding-top: 0 !important; }
table.headline { border-collapse: collapse; margin-top: 6px; }
table.headline td, table.headline th { font-size: 15px; padding: 2px 10px; border-bottom: 1px solid #e5e5e5;
  text-align: right; }
.sim-chart-body { flex-wrap: nowrap !important; margin: 0 !important; }
.sim-chart-title { font-size: 16px; font-weight: 500; margin: 2px 0 0 6px; }
.sim-key { display: inline-block; width: 18px; margin: 0 5px 4px 0; vertical-align: middle; }
.sim-key.area { height: 12px; margin-bottom: 1px; }
.sim-folded { color: #555; }
table.headline caption { caption-side: bottom; text-align: left; font-size: 15px; }
table.headline td:first-child, table.headline th:first-child { text-align: left; }
"""
# Charts at their native size: the text is as large on screen as drawn (dashboard_charts.FONT_PT).
CSS += f"""
.sim-charts {{ display: grid; grid-template-columns: repeat(2, {WIDTH_PX + LEGEND_PX}px); gap: 4px 10px; }}
.sim-charts img {{ width: {WIDTH_PX}px; height: {HEIGHT_PX}px; flex: none; }}
.sim-pictures {{ display: grid; grid-template-columns: {PICTURE_PX[0] + LEGEND_PX}px; gap: 4px 10px; }}
.sim-pictures img {{ width: {PICTURE_PX[0]}px; height: {PICTURE_PX[1]}px; flex: none; }}
.sim-legend {{ width: {LEGEND_PX - 4}px; font-size: 15px; line-height: 1.25; padding-top: 4px; }}
"""


class DashboardModel(SupplyChainModel):
    """The model of a scenario with levers applied. Every argument has a default, as Mesa's controller
    rebuilds the model from keyword arguments when Reset is pressed (and they are named one by one: a
    model taking **kwargs would be handed a Mesa `scenario` too)."""

    def __init__(
        self,
        scenario_file: str = "",
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
        chosen = {name: value for name, value in locals().items() if name in LEVER_NAMES}  # the arguments so far
        base = loaded(scenario_file)
        self.scenario_file = scenario_file
        self.levers = levers_from(base, chosen)
        self.resolved = apply_levers(base, self.levers)
        super().__init__(self.resolved, seed=seed, recorder=Recorder)

    def step(self) -> None:
        """One month; the model stops at its horizon (the Play button then greys out)."""
        if self.month < self.scenario_spec.horizon_months:
            super().step()
        self.running = self.month < self.scenario_spec.horizon_months


def dashboard_page(initial: str | Path | None = None):
    """The dashboard for every shipped scenario, `initial` (a scenario file) selected first."""
    return Dashboard(None if initial is None else Path(initial))


@solara.component
def Dashboard(initial: Path | None):
    catalogue = solara.use_memo(lambda: scenario_catalogue(initial), [initial])
    first = initial.stem if initial is not None else DEFAULT_SCENARIO
    name, set_name = solara.use_state(first if first in catalogue else next(iter(catalogue)))
    mode, set_mode = solara.use_state(INSTANT)
    solara.Title(f"sim dashboard: {name}")
    solara.Style(CSS)
    ScenarioView(catalogue, name, set_name, mode, set_mode).key(name)  # a new scenario starts afresh


@solara.component
def ScenarioView(catalogue: dict[str, Path], name: str, set_name, mode: str, set_mode):
    path = str(catalogue[name])
    resolved = loaded(path)
    menus = solara.use_memo(lambda: lever_menus(resolved), [path])
    values, set_values = solara.use_state({menu.name: menu.default for menu in menus})
    reference, set_reference = solara.use_state(AS_WRITTEN)
    mineral, set_mineral = solara.use_state(_most_restricted(resolved))
    # The run report's pictures cost about as much again as the four charts: off until asked for, so that
    # a lever still redraws within half a second.
    pictures, set_pictures = solara.use_state(False)
    levers = levers_from(resolved, values)
    choices = references(path, catalogue)
    reference_path = reference_file(path, reference, catalogue)

    with solara.Row(classes=["sim-page"], gap="0px"):
        with solara.Column(classes=["sim-levers"], gap="0px"):
            solara.HTML(tag="h2", unsafe_innerHTML="Levers")
            for menu in menus:
                LeverControl(menu, values[menu.name], lambda value, key=menu.name: set_values({**values, key: value}))
        with solara.Column(classes=["sim-main"], gap="0px"):
            with solara.Row(classes=["sim-bar"]):
                _select("Scenario", name, list(catalogue), set_name)
                solara.ToggleButtonsSingle(value=mode, values=[INSTANT, STEP], on_value=set_mode)
                _select("Compare with", reference, choices, set_reference, {k: REFERENCES[k] for k in choices})
                _select("Imports of", mineral, list(resolved.world.minerals), set_mineral)
                if mode == INSTANT:
                    solara.v.Checkbox(label="Pictures", v_model=pictures, on_v_model=set_pictures, hide_details=True)
            if mode == INSTANT:
                InstantView(path, resolved, levers, reference_path, mineral, pictures)
            else:
                StepView(path, values, levers, reference_path, mineral)


def _select(label: str, value: Any, values: list, on_value, texts: dict | None = None, width: int = 250):
    items = [{"text": (texts or {}).get(v, _text(v)), "value": v} for v in values]
    return solara.v.Select(label=label, items=items, v_model=value, on_v_model=on_value, dense=True, outlined=True,
                           hide_details=True, style_=f"max-width: {width}px")  # fmt: skip


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@solara.component
def LeverControl(menu: LeverMenu, value: Any, on_value):
    """A lever: its label (marked when moved from where the scenario is) above a menu showing its value."""
    moved = value != menu.default
    if not menu.values:
        label = f"{menu.label}: {'yes' if value else 'no'}"
        return solara.v.Checkbox(label=label, v_model=bool(value), on_v_model=on_value, hide_details=True,
                                 class_="moved" if moved else "")  # fmt: skip
    with solara.Column(gap="0px") as column:
        classes = ["sim-label", *(["moved"] if moved else [])]
        solara.HTML(tag="div", unsafe_innerHTML=escape(menu.label), classes=classes)
        items = [{"text": _text(v), "value": v} for v in menu.values]
        solara.v.Select(items=items, v_model=value, on_v_model=on_value, dense=True, outlined=True, hide_details=True)
    return column


@solara.component
def InstantView(
    path: str, resolved: ResolvedScenario, levers: Levers, reference_path: str, mineral: str, pictures: bool = False
):
    """The whole horizon with the levers as they are, against the reference; redrawn on every change; with
    `pictures`, the run report's pictures of the mineral chosen below the table.
    The time the run and charts took is left in the page (wall and this thread's CPU time, ms), so that
    `benchmarks/browser.py` can tell a slow redraw from a busy machine."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = run_with_levers(path, levers)
    reference = run_with_levers(reference_path, Levers())
    charts = [
        instant_chart(chart, path, levers, reference_path, mineral if chart in PER_MINERAL else "") for chart in CHARTS
    ]
    wall, cpu = (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000
    months = result.months
    Status(resolved, levers, result.resolved, reference_path == path, f"{months} months from {resolved.scenario.start}")
    with solara.Div(classes=["sim-charts"]):
        for chart in charts:
            ChartCard(*chart)
    HeadlineTable(result.model.recorder, months, reference.model.recorder)
    # The pictures of the run report, of the mineral chosen under "Imports of" (the run with the levers).
    with solara.Div(classes=["sim-pictures"]):
        for picture in PICTURES if pictures else []:
            ChartCard(*instant_chart(picture, path, levers, reference_path, mineral))
    timing = f"<span class='sim-redraw' data-wall-ms='{wall:.0f}' data-cpu-ms='{cpu:.0f}'></span>"
    solara.HTML(tag="div", unsafe_innerHTML=timing)


@solara.component
def StepView(path: str, values: dict[str, Any], levers: Levers, reference_path: str, mineral: str):
    """Month by month with Mesa's controller; Reset rebuilds the model with the levers as they are now."""
    update_counter.get()  # redrawn after each step
    initial = solara.use_memo(lambda: DashboardModel(path, **values), [])
    model = solara.use_reactive(initial)
    frame = solara.use_reactive(1)  # months per Step or Play frame
    play_ms, threads = solara.use_reactive(100), solara.use_reactive(False)  # Mesa's controller reads .value
    m: DashboardModel = model.value
    reference = run_with_levers(reference_path, Levers())
    with solara.Row(classes=["sim-bar", "sim-step"]):
        with solara.Div(classes=["sim-controller"]):
            ModelController(model, model_parameters={"scenario_file": path, **values}, play_interval=play_ms,
                            render_interval=frame, use_threads=threads)  # fmt: skip
        _select("Months per step", frame.value, list(MONTHS_PER_FRAME), frame.set, width=150)
        if levers != m.levers:
            solara.HTML(tag="div", unsafe_innerHTML="Levers changed, not yet applied: press <b>Reset</b>",
                        classes=["sim-pending"])  # fmt: skip
    t, horizon = m.month, m.scenario_spec.horizon_months
    when = f"{m.recorder.months()[t - 1]}, month {t} of {horizon}" if t else f"month 0 of {horizon}: press Step"
    Status(loaded(path), m.levers, m.resolved, reference_path == path, when)
    data = ChartData(m.recorder, t, reference.model.recorder, mineral)
    with solara.Div(classes=["sim-charts"]):
        for chart in CHARTS.values():
            ChartCard(*render_png(chart, data))
    HeadlineTable(m.recorder, t, reference.model.recorder)


def _breakable(label: str) -> str:
    """A legend name that may wrap after an underscore (ndfeb_magnets) rather than leave its key alone."""
    return escape(label).replace("_", "_<wbr>")


def ChartCard(png: bytes, drawn: Drawn):
    """A chart: its title, the image at native size, and its legend beside it."""
    keys = {"line": "border-top: 3px solid {}", "dashed": "border-top: 2px dashed {}", "area": "background: {}"}
    entries = "".join(
        f"<div><span class='sim-key {style}' style='{keys[style].format(colour)}'></span>{_breakable(label)}</div>"
        for label, colour, style in drawn.entries
    )
    folded = f"<div class='sim-folded'>{escape(drawn.folded)}</div>" if drawn.folded else ""
    with solara.Div(classes=["sim-chart"]) as card:
        solara.HTML(tag="div", unsafe_innerHTML=escape(drawn.title), classes=["sim-chart-title"])
        with solara.Row(gap="4px", classes=["sim-chart-body"]):
            solara.Image(png, format="png")
            solara.HTML(tag="div", unsafe_innerHTML=entries + folded, classes=["sim-legend"])
    return card


@solara.component
def Status(base: ResolvedScenario, levers: Levers, shown: ResolvedScenario, as_written: bool, when: str):
    """Which run is drawn, against what, and what the shading means."""
    reference = "no lever moved" if as_written else "the baseline"
    shocks = "; ".join(f"{what} {_period(shown, first, end)}" for first, end, what in shock_windows(shown.scenario))
    parts = [
        f"<b>{escape(base.scenario.name)}</b>, {escape(when)}",
        f"levers: {escape(describe_levers(base, levers))}",
        f"solid: with the levers, dashed: {reference}",
        f"shaded: {escape(shocks)}" if shocks else "no shocks",
    ]
    solara.HTML(tag="div", unsafe_innerHTML=" · ".join(parts), classes=["sim-status"])


def _period(resolved: ResolvedScenario, first: int, end: int) -> str:
    spec = resolved.scenario
    start = month_label(spec.start, first)
    return f"from {start}" if end >= spec.horizon_months else f"{start} to {month_label(spec.start, end - 1)}"


def HeadlineTable(shown: Recorder, months: int, reference: Recorder):
    """Per mineral over the months shown: the shortfall, the peak prices and capacity gap, with the
    reference's over the same months in brackets."""
    if months == 0:
        return solara.HTML(tag="div", unsafe_innerHTML="")
    columns = ("mineral", "short so far", "worst month", "US price peak", "outside price peak", "gap peak, t/yr")

    def figures(recorder: Recorder) -> list[np.ndarray]:
        s = recorder.series
        now = slice(0, months)
        return [
            share(s["shortfall"][now].sum(axis=0), s["us_demand"][now].sum(axis=0)),
            s["shortfall_share"][now].max(axis=0),
            s["price_us_ratio"][now].max(axis=0),
            s["price_outside_ratio"][now].max(axis=0),
            s["capacity_gap"][now].max(axis=0),
        ]

    formats = ("{:.1%}", "{:.1%}", "{:.2f}x", "{:.2f}x", "{:,.0f}")
    mine, theirs = figures(shown), figures(reference)
    rows = []
    for i, mineral in enumerate(shown.model.minerals):
        cells = []
        for fmt, a, b in zip(formats, mine, theirs, strict=True):
            text = fmt.format(a[i])
            other = fmt.format(b[i])
            cells.append(text if other == text else f"{text} ({other})")
        rows.append(
            f"<tr data-mineral='{escape(mineral)}'><td>{escape(mineral)}</td>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + "</tr>"
        )
    head = "".join(f"<th>{c}</th>" for c in columns)
    note = "<caption>In brackets: the reference, where it differs.</caption>"
    table = f"<table class='headline'>{note}<tr>{head}</tr>{''.join(rows)}</table>"
    return solara.HTML(tag="div", unsafe_innerHTML=table)


def _most_restricted(resolved: ResolvedScenario) -> str:
    """The first mineral the scenario restricts, else the first mineral."""
    for event in resolved.scenario.events:
        if event.type == "export_restriction":
            return event.minerals[0]
    return next(iter(resolved.world.minerals))
