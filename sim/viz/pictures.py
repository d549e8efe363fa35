"""The pictures a workshop room asks for, each drawn on an Axes it is given, from a run's result, so the
run report and the dashboard draw the same thing:

- capacity against need over time for a mineral: operating and funded capacity under construction,
  against demand less recycling, reliable imports and allied supply (what the capacity gap measures);
- US shortfall by sector for a mineral, as a share of each sector's demand;
- plant utilisation (output over standing capacity; the rest is curtailed, idle or short of feed);
- a Sankey of US imports of a mineral over a period: exporter -> route -> United States.

Each returns what it drew, so a test can hold it against the recorded series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.results.recorder import ROUTES
from sim.scenario.schema import month_label
from sim.viz.charts import ZERO, EventWindow, event_windows, shade_events, split_zero, time_axis
from sim.viz.palette import ROUTE_COLOURS, mineral_colour, sector_colour

if TYPE_CHECKING:
    from sim.api import RunResult

THOUSANDS = FuncFormatter(lambda value, _: f"{value:,.10g}")  # 12,500 and 2.5 alike
PERCENT = PercentFormatter(xmax=100)  # as many decimals as the axis' range needs
OTHERS_SHARE = 0.03  # exporters under this share of the period's imports are drawn as one "others" node


def months_of(result: RunResult) -> list[str]:
    """The run's month labels (YYYY-MM), as its tables hold them."""
    start = result.resolved.scenario.start
    return [month_label(start, t) for t in range(result.months)]


def windows_of(result: RunResult) -> list[EventWindow]:
    return event_windows(result.resolved.scenario, result.months)


def _time_chart(ax: Axes, result: RunResult, labels: bool = True, every: int = 1) -> None:
    shade_events(ax, windows_of(result))
    time_axis(ax, months_of(result), labels=labels, every=every)


# --- capacity against need -----------------------------------------------------------------------------


def capacity_vs_need(result: RunResult, mineral: str) -> dict[str, np.ndarray]:
    """t/yr by month: `operating` (usable capacity of running plants), `under_construction` (funded plants
    being built), `funded` (funded capacity standing or being built) and `need` (demand less recycling,
    reliable imports and allied supply)."""
    built = result.series("capacity_built")[mineral].to_numpy()
    building = result.series("capacity_under_construction")[mineral].to_numpy()
    return {
        "operating": result.series("domestic_capacity")[mineral].to_numpy(),
        "under_construction": building,
        "funded": built + building,
        "need": result.series("capacity_need")[mineral].to_numpy(),
    }


def draw_capacity_vs_need(
    ax: Axes, result: RunResult, mineral: str, labels: bool = True, every: int = 1
) -> dict[str, np.ndarray]:
    """Operating capacity and funded construction stacked as areas, the need as a black line, funded capacity
    dashed; the gap is where the line rises above the areas."""
    data = capacity_vs_need(result, mineral)
    x = np.arange(len(data["need"]))
    operating, top = data["operating"], data["operating"] + data["under_construction"]
    ax.fill_between(x, 0, operating, color=mineral_colour(mineral), alpha=0.55, lw=0, label="operating")
    if data["under_construction"].max(initial=0.0) > ZERO:
        ax.fill_between(x, operating, top, color=mineral_colour(mineral), alpha=0.2, lw=0, label="being built")
    if data["funded"].max(initial=0.0) > ZERO:
        ax.plot(x, data["funded"], color="#555555", ls="--", lw=1.8, label="funded")
    ax.plot(x, data["need"], color="#000000", label="need")
    ax.set_ylim(
        0, max(top.max(initial=0.0), data["need"].max(initial=0.0), data["funded"].max(initial=0.0)) * 1.08 or 1
    )
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_title(mineral, loc="left")
    _time_chart(ax, result, labels, every)
    return data


# --- shortfall by sector -------------------------------------------------------------------------------


def sector_shortfall(result: RunResult, mineral: str) -> dict[str, np.ndarray]:
    """Sector -> % of its demand not met, by month (0 where it has no demand)."""
    ts = result.timeseries
    rows = ts[(ts["scope"] == "sector") & (ts["mineral"] == mineral)]
    table = rows.pivot_table(index="month", columns=["variable", "entity"], values="value", sort=False)
    sectors = list(dict.fromkeys(rows["entity"]))
    shares = {}
    for sector in sectors:
        demand, short = table[("demand", sector)].to_numpy(), table[("shortfall", sector)].to_numpy()
        shares[sector] = np.divide(100 * short, demand, out=np.zeros_like(demand), where=demand > 0)
    return shares


def draw_shortfall_by_sector(
    ax: Axes, result: RunResult, mineral: str, labels: bool = True, every: int = 1
) -> tuple[dict[str, np.ndarray], list[str]]:
    """One line per sector that is ever short, in its colour; sectors short alike (served pro rata at the
    same priority) share one line named for all of them. Returns the lines drawn (label -> % by month) and
    the sectors never short."""
    shares = sector_shortfall(result, mineral)
    short, never = split_zero(shares, tolerance=1e-4)
    lines: dict[str, np.ndarray] = {}
    groups: list[list[str]] = []
    for sector in short:
        same = next((g for g in groups if np.allclose(shares[g[0]], shares[sector], rtol=1e-6, atol=1e-6)), None)
        if same is None:
            groups.append([sector])
        else:
            same.append(sector)
    for group in groups:
        label = ",\n".join(group)  # one sector a line: the names stand in a narrow column
        lines[label] = shares[group[0]]
        ax.plot(np.arange(len(lines[label])), lines[label], color=sector_colour(group[0]), label=label)
    ax.yaxis.set_major_formatter(PERCENT)
    if lines:
        ax.set_ylim(bottom=0)
    else:  # an empty chart's default limits would label a scale of thousandths of a percent
        ax.set_ylim(0, 100)
        ax.text(0.5, 0.5, f"no US sector short of {mineral}", transform=ax.transAxes, ha="center", color="#444444")
    ax.set_title(mineral, loc="left")
    _time_chart(ax, result, labels, every)
    return lines, never


# --- plant utilisation ---------------------------------------------------------------------------------


def utilisation(result: RunResult) -> dict[str, np.ndarray]:
    """Mineral -> US plants' output over their standing (operating or idle) capacity, %, by month (NaN in
    months with none standing); only minerals with standing plants. Below 100 %: curtailed (losses), idle,
    ramping up or short of feed."""
    ts = result.timeseries
    rows = ts[(ts["scope"] == "plant") & ts["variable"].isin(["output", "capacity"])]
    sums = rows.pivot_table(index="month", columns=["variable", "mineral"], values="value", aggfunc="sum", sort=False)
    shares = {}
    for mineral in result.summary:
        if ("capacity", mineral) not in sums:
            continue
        capacity = sums[("capacity", mineral)].to_numpy() / 12  # t/month
        if capacity.max(initial=0.0) <= ZERO:
            continue
        output = sums[("output", mineral)].to_numpy()
        # No standing plant, no utilisation (NaN, not drawn): a plant not yet built is not one standing idle.
        shares[mineral] = np.divide(100 * output, capacity, out=np.full_like(output, np.nan), where=capacity > 0)
    return shares


class Steady(NamedTuple):
    level: float  # plants' use, % of standing capacity
    since: str | None  # the month the first plant stood, if after the run's first month


def draw_utilisation(ax: Axes, result: RunResult, every: int = 1) -> tuple[dict[str, np.ndarray], dict[str, Steady]]:
    """One line per mineral whose plants' use changes during the run; returns those lines and, for the
    minerals whose use holds steady once their plants stand (often at full use), that level."""
    shares = utilisation(result)
    standing = {mineral: np.flatnonzero(np.isfinite(values))[0] for mineral, values in shares.items()}
    first = {mineral: shares[mineral][k] for mineral, k in standing.items()}
    changing, steady = split_zero({m: values - first[m] for m, values in shares.items()}, tolerance=0.05)
    for mineral in changing:
        ax.plot(np.arange(len(shares[mineral])), shares[mineral], color=mineral_colour(mineral), label=mineral)
    ax.yaxis.set_major_formatter(PERCENT)
    ax.set_ylim(0, 105)
    _time_chart(ax, result, every=every)
    months = months_of(result)
    return {mineral: shares[mineral] for mineral in changing}, {
        m: Steady(float(first[m]), months[standing[m]] if standing[m] else None) for m in steady
    }


# --- Sankey of imports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    source: str
    target: str
    t: float  # tonnes over the period


def import_bands(result: RunResult, mineral: str, first_month: str, last_month: str) -> list[Band]:
    """Exporter -> route and route -> United States, t over the months first..last (inclusive); exporters
    under OTHERS_SHARE of the total are summed as 'others'."""
    flows = result.flows
    rows = flows[(flows["mineral"] == mineral) & (flows["month"] >= first_month) & (flows["month"] <= last_month)]
    by_pair = rows.groupby(["exporter", "route"], sort=False, observed=True)["t"].sum()
    total = float(by_pair.sum())
    by_exporter = by_pair.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    minor = set(by_exporter.index[by_exporter < OTHERS_SHARE * total]) if len(by_exporter) > 1 else set()
    pairs: dict[tuple[str, str], float] = {}
    for (exporter, route), t in by_pair.items():
        key = ("others" if exporter in minor else str(exporter), str(route))
        pairs[key] = pairs.get(key, 0.0) + float(t)
    order = [e for e in by_exporter.index if e not in minor] + (["others"] if minor else [])
    bands = [Band(e, r, pairs[(e, r)]) for e in order for r in ROUTES if pairs.get((e, r), 0.0) > 0]
    for route in ROUTES:
        t = sum(band.t for band in bands if band.target == route)
        if t > 0:
            bands.append(Band(route, "United States", t))
    return bands


def draw_sankey(ax: Axes, result: RunResult, mineral: str, first_month: str, last_month: str) -> list[Band]:
    """Three columns of nodes (exporters, routes, the US), each node as tall as its tonnes, joined by bands
    as wide as the tonnes they carry, coloured by route."""
    bands = import_bands(result, mineral, first_month, last_month)
    ax.set_axis_off()
    ax.xaxis.set_visible(False)  # else the title's placement measures the hidden axes' ticks
    ax.yaxis.set_visible(False)
    ax.set_xlim(-1.0, 2.6)
    period = first_month if first_month == last_month else f"{first_month} to {last_month}"
    ax.set_title(f"US imports of {mineral}, {period}: exporter, route, arrival", loc="left")
    if not bands:
        ax.text(0.5, 0.5, "no imports in this period", ha="center", va="center", transform=ax.transAxes)
        return bands
    columns = [
        list(dict.fromkeys(b.source for b in bands if b.target in ROUTES)),
        [r for r in ROUTES if any(b.source == r for b in bands)],
        ["United States"],
    ]
    size = {name: sum(b.t for b in bands if b.source == name) for name in columns[0] + columns[1]}
    size["United States"] = sum(size[r] for r in columns[1])
    total = size["United States"]
    # Between nodes: a thin gap, wider between routes, whose names stand above them (room for a line of text).
    gaps = (0.02 * total, 0.08 * total, 0.0)
    top = {}  # node -> its top edge (y grows upwards; each column is centred)
    height = max(total + gap * (len(names) - 1) for gap, names in zip(gaps, columns, strict=True))
    for x, (gap, names) in enumerate(zip(gaps, columns, strict=True)):
        y = (height + total + gap * (len(names) - 1)) / 2
        for name in names:
            top[name] = y
            colour = ROUTE_COLOURS.get(name, "#777777") if x == 1 else ("#333333" if x == 2 else "#999999")
            ax.add_patch(Rectangle((x - 0.03, y - size[name]), 0.06, size[name], color=colour, lw=0))
            text = f"{name}  {size[name]:,.0f} t" if x < 2 else f"{name}\n{size[name]:,.0f} t"
            ha, dx = ("right", -0.05) if x == 0 else (("left", 0.05) if x == 2 else ("center", 0.0))
            dy = 0.0 if x != 1 else size[name] / 2 + gaps[0] * 0.1
            ax.text(x + dx, y - size[name] / 2 + dy, text, ha=ha, va="center" if x != 1 else "bottom")
            y -= size[name] + gap
    out = dict(top)  # where the next band leaves a node, and where it arrives
    arrive = dict(top)
    for band in bands:
        x0 = 0 if band.target in ROUTES else 1
        colour = ROUTE_COLOURS.get(band.target if x0 == 0 else band.source, "#777777")
        _band(ax, x0 + 0.03, out[band.source], x0 + 0.97, arrive[band.target], band.t, colour)
        out[band.source] -= band.t
        arrive[band.target] -= band.t
    ax.set_ylim(-0.02 * height, height * 1.02)
    return bands


def _band(ax: Axes, x0: float, y0: float, x1: float, y1: float, width: float, colour: str) -> None:
    """A band `width` high from (x0, top y0) to (x1, top y1), its edges cubic curves."""
    xm = (x0 + x1) / 2
    vertices = [
        (x0, y0),
        (xm, y0),
        (xm, y1),
        (x1, y1),
        (x1, y1 - width),
        (xm, y1 - width),
        (xm, y0 - width),
        (x0, y0 - width),
        (x0, y0),
    ]
    C, L = MplPath.CURVE4, MplPath.LINETO
    codes = [MplPath.MOVETO, C, C, C, L, C, C, C, MplPath.CLOSEPOLY]
    ax.add_patch(PathPatch(MplPath(vertices, codes), facecolor=colour, alpha=0.45, lw=0))


def sankey_choice(result: RunResult) -> tuple[str, str, str]:
    """The mineral and months a report's Sankey shows: the first year of the first export restriction (the
    last year of the run if there is none), for the mineral with the most imports by other routes than direct
    then (the first mineral with imports if all came direct)."""
    months = months_of(result)
    restrictions = [e for e in result.resolved.scenario.events if getattr(e, "type", "") == "export_restriction"]
    windows = [result.resolved.scenario.event_window(e) for e in restrictions]
    windows = [(first, end) for first, end in windows if first < len(months)]
    first = min(windows)[0] if windows else max(0, len(months) - 12)
    last = min(first + 11, len(months) - 1)
    flows = result.flows
    period = flows[(flows["month"] >= months[first]) & (flows["month"] <= months[last])]
    indirect = period[period["route"] != "direct"].groupby("mineral", observed=True)["t"].sum()
    share = indirect / period.groupby("mineral", observed=True)["t"].sum()
    order = [m for m in result.summary if m in set(period["mineral"].unique())]
    ranked = sorted(order, key=lambda m: -float(share.get(m, 0.0)))
    return (ranked[0] if ranked else next(iter(result.summary))), months[first], months[last]


def short_minerals(result: RunResult, limit: int) -> tuple[list[str], list[str]]:
    """Up to `limit` minerals with a US shortfall, the worst first, and the rest of the minerals."""
    shortfall = result.series("shortfall_share")
    short, _ = split_zero({m: shortfall[m].to_numpy() for m in shortfall.columns}, tolerance=1e-5)
    ranked = sorted(short, key=lambda m: -float(shortfall[m].sum()))[:limit]
    return ranked, [m for m in shortfall.columns if m not in ranked]


def minerals_with_gap(result: RunResult) -> tuple[list[str], list[str]]:
    """Minerals whose capacity gap is ever above zero, and those whose capacity meets the need throughout."""
    gap = result.series("capacity_gap")
    return split_zero({m: gap[m].to_numpy() for m in gap.columns}, tolerance=1e-3)
