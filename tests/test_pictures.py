"""The run's pictures say what the recorded series say: capacity against need, shortfall by sector,
utilisation, the import Sankey; and every chart keeps the rules (text of 14 px or more at native size,
one tick a year, events shaded, series that never move named instead of drawn, a mineral's own colour)."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, MaxNLocator

from sim.viz import pictures, plots
from sim.viz.charts import TEXT_PX, Scale, event_windows, figure, style, time_axis, year_ticks
from sim.viz.palette import mineral_colour

from .helpers import recorded, run

SHORT = ("events[0].destinations=[all]", "events[0].leakage=0")  # China's ban on everyone, nothing leaks


@pytest.fixture(scope="module")
def china():
    return run("china_ban", months=48)


@pytest.fixture(scope="module")
def short():
    return run("antimony_tungsten_2026", *SHORT, months=48)


def axes():
    return figure(1, 1, 300)[1][0]


def test_capacity_need_is_what_the_gap_is_measured_against(china):
    need, capacity, gap = (recorded(china, v) for v in ("capacity_need", "domestic_capacity", "capacity_gap"))
    assert np.allclose(gap, np.maximum(need - capacity, 0.0), rtol=1e-12, atol=1e-9)
    antimony = china.model.minerals.index("antimony")
    assert gap[:, antimony].max() > 1000  # the ban opens a gap, so the comparison is not 0 = 0


def test_the_capacity_picture_draws_the_recorded_need_and_capacity(china):
    with style():
        ax = axes()
        drawn = pictures.draw_capacity_vs_need(ax, china, "antimony")
    lines = {line.get_label(): line.get_ydata() for line in ax.lines}
    assert np.array_equal(lines["need"], china.series("capacity_need")["antimony"].to_numpy())
    built = china.series("capacity_built")["antimony"] + china.series("capacity_under_construction")["antimony"]
    assert np.array_equal(lines["funded"], built.to_numpy())
    operating = china.series("domestic_capacity")["antimony"].to_numpy()
    assert np.array_equal(drawn["operating"], operating)
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    top = max(path.vertices[:, 1].max() for area in areas for path in area.get_paths())
    assert top == pytest.approx((operating + drawn["under_construction"]).max())


def test_the_sankey_bands_add_up_to_the_us_imports_of_that_mineral_and_period(china):
    mineral, first, last = pictures.sankey_choice(china)
    months = list(china.series("imports").index)
    period = slice(months.index(first), months.index(last) + 1)
    with style():
        bands = pictures.draw_sankey(axes(), china, mineral, first, last)
    into_routes = [b for b in bands if b.target != "United States"]
    into_us = [b for b in bands if b.target == "United States"]
    imports = china.series("imports")[mineral].to_numpy()[period].sum()
    assert sum(b.t for b in into_routes) == pytest.approx(imports, rel=1e-9)
    assert sum(b.t for b in into_us) == pytest.approx(imports, rel=1e-9)
    for band in into_us:
        assert band.t == pytest.approx(sum(b.t for b in into_routes if b.target == band.source))
    # The ban's first year, for a mineral that then arrives partly by leakage through third countries.
    assert first == "2026-03" and any(b.source == "China" and b.target == "leaked" for b in bands)


def test_a_sankey_of_a_period_without_imports_says_so(china):
    with style():
        ax = axes()
        assert pictures.draw_sankey(ax, china, "magnesium", "2099-01", "2099-12") == []
    assert any("no imports" in t.get_text() for t in ax.texts)


def test_sectors_short_alike_share_a_line_and_sectors_never_short_are_named(short):
    with style():
        lines, never = pictures.draw_shortfall_by_sector(axes(), short, "antimony")
    assert "defence" in never  # served first
    shares = pictures.sector_shortfall(short, "antimony")
    for label, values in lines.items():
        for sector in label.split(",\n"):
            assert np.allclose(shares[sector], values)
    assert max(values.max() for values in lines.values()) > 10  # % of the sector's demand


def test_a_mineral_no_sector_is_short_of_says_so_on_a_whole_percent_scale(china):
    """The dashboard draws the mineral chosen, short or not: an empty chart says none is short, and its scale
    is 0-100 %, not the thousandths of a percent an empty axes would label."""
    with style():
        ax = axes()
        lines, never = pictures.draw_shortfall_by_sector(ax, china, "copper")
    assert lines == {} and set(never) == set(pictures.sector_shortfall(china, "copper"))
    assert ax.get_ylim() == (0, 100) and not ax.lines
    assert [t.get_text() for t in ax.texts] == ["no US sector short of copper"]


def test_utilisation_is_not_drawn_before_any_plant_stands(china):
    """A month with no standing plant has no utilisation (not 0 %: nothing is idle that is not built)."""
    ts = china.timeseries
    plant = ts[(ts["scope"] == "plant") & (ts["variable"] == "capacity")]
    capacity = plant.pivot_table(index="month", columns="mineral", values="value", aggfunc="sum", sort=False)
    shares = pictures.utilisation(china)
    assert shares
    for mineral, values in shares.items():
        standing = capacity[mineral].to_numpy() > 0
        assert np.isfinite(values[standing]).all() and np.isnan(values[~standing]).all(), mineral
    assert any(np.isnan(values).any() for values in shares.values())  # some plants are built during the run


def test_the_capacity_picture_draws_the_minerals_the_table_ranks_deepest(china):
    gap, met = pictures.minerals_with_gap(china)
    with style():
        fig = plots.capacity_figure(china, gap, met)
    deepest = sorted(gap, key=lambda m: -china.summary[m]["capacity_gap_share_peak"])[: plots.CAPACITY_PANELS]
    assert {ax.get_title(loc="left") for ax in fig.axes} == set(deepest)


def test_every_mineral_has_a_colour_of_its_own_and_none_is_grey():
    """Grey is for the reference, the price cap and the event bands."""
    from matplotlib.colors import to_rgb

    from sim.world.load import mineral_order

    colours = {mineral: mineral_colour(mineral) for mineral in mineral_order()}
    assert len(set(colours.values())) == len(colours)
    for mineral, colour in colours.items():
        assert max(to_rgb(colour)) - min(to_rgb(colour)) > 0.1, mineral


def test_utilisation_is_plant_output_over_standing_capacity(china):
    ts = china.timeseries
    plant = ts[(ts["scope"] == "plant") & (ts["mineral"] == "tungsten")]
    output = plant[plant["variable"] == "output"].groupby("month")["value"].sum()
    capacity = plant[plant["variable"] == "capacity"].groupby("month")["value"].sum() / 12
    with style():
        drawn, steady = pictures.draw_utilisation(axes(), china)
    assert np.allclose(drawn["tungsten"], 100 * output / capacity)
    assert steady["graphite"].level == pytest.approx(100) and "graphite" not in drawn  # its one plant runs flat out
    assert steady["graphite"].since is None  # it stands from the first month


def test_no_shortfall_picture_when_no_mineral_is_short_and_the_rest_are_named(short):
    with style():
        assert plots.shortfall_figure(run("baseline", months=24)) is None
        fig = plots.shortfall_figure(short)
    ax = fig.axes[0]
    assert {line.get_label() for line in ax.lines} == {"antimony", "tungsten"}
    (folded,) = [t.get_text() for t in fig.texts if t.get_text().startswith("not short:")]
    assert "gallium" in folded and "antimony" not in folded


def text_sizes(fig):
    return [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_every_run_picture_keeps_the_rules(short):
    with style():
        figures = plots.run_figures(short)
    assert set(figures) >= {"shortfall.png", "capacity_vs_need.png", "shortfall_by_sector.png", "imports_sankey.png"}
    windows = event_windows(short.resolved.scenario, short.months)
    months = list(short.series("imports").index)
    ticks, years = year_ticks(months)
    assert list(years) == ["2026", "2027", "2028", "2029"]
    for name, fig in figures.items():
        assert fig.dpi == 72 and min(text_sizes(fig)) >= TEXT_PX, name  # 1 pt = 1 px at native size
        for ax in fig.axes:
            if not ax.get_visible() or not ax.axison:
                continue  # the Sankey has no time axis
            (scale,) = [artist for artist in ax.artists if isinstance(artist, Scale)]
            years = next(c for c in scale.get_children() if isinstance(c, LineCollection))
            assert [segment[0][0] for segment in years.get_segments()] == list(ticks), name  # a gridline a year
            spans = [p for p in ax.patches if p.get_facecolor()[:3] == pytest.approx((0.533, 0.533, 0.533), abs=0.01)]
            assert len(spans) == len(windows), name
    for line in figures["shortfall.png"].axes[0].lines:
        assert line.get_color() == mineral_colour(line.get_label())


def test_event_windows_are_the_months_each_event_is_in_force(china, short):
    (ban,) = event_windows(china.resolved.scenario, 48)
    assert (ban.first, ban.end, ban.label) == (2, 48, "China ban")
    labels = [w.label for w in event_windows(short.resolved.scenario, 48)]
    assert "Tajikistan disruption, Russia disruption" in labels  # the same months: one window, both named


def test_a_runs_series_are_the_tidy_tables_numbers(china):
    """RunResult.series reads the recorder's arrays when the run kept its model: the same table as
    pivoting the stored tidy rows, to the bit."""
    from sim.results.recorder import MINERAL_SERIES, WORLD_SERIES

    ts = china.timeseries
    for variable in MINERAL_SERIES:
        scope = "world" if variable in WORLD_SERIES else "us"
        rows = ts[(ts["variable"] == variable) & (ts["scope"] == scope)]
        pivoted = rows.pivot(index="month", columns="mineral", values="value")[list(china.summary)]
        pd.testing.assert_frame_equal(china.series(variable, scope), pivoted, check_exact=True)


MONTHS = [f"{2026 + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}" for m in range(36)]  # 2026-03 to 2029-02
SCALE_CASES = {  # values drawn, y scale, y formatter
    "linear": (np.linspace(0, 950, 36), "linear", None),
    "percent": (np.linspace(0, 37, 36), "linear", pictures.PERCENT),
    "thousands": (np.linspace(0, 3.2e6, 36), "linear", pictures.THOUSANDS),
    "near one": (1 + np.linspace(0, 1e-3, 36), "linear", None),  # matplotlib would put "+1" beside the axis
    "millions": (np.linspace(0, 3.2e6, 36), "linear", None),  # ... or "1e6"
    "log": (np.geomspace(0.8, 19, 36), "log", FixedFormatter(["1", "3", "10"])),
}


def scale_chart(case: str, with_scale: bool, labels: bool = True, every: int = 1):
    """A time chart of a SCALE_CASES case, with its years and values labelled by a Scale or, for
    comparison, by matplotlib's own ticks (full labels: no offset, no power of ten)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import FixedLocator, ScalarFormatter

    values, yscale, formatter = SCALE_CASES[case]
    fig, (ax,) = figure(1, 1, 300)
    ax.plot(np.arange(len(values)), values)
    ax.set_yscale(yscale)
    if with_scale:
        time_axis(ax, MONTHS, labels=labels, every=every)
    else:
        ticks, years = year_ticks(MONTHS)
        ax.set_xticks(ticks, [year if labels and k % every == 0 else "" for k, year in enumerate(years)])
        ax.set_xlim(0, len(MONTHS) - 1)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        plain = ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.yaxis.set_major_formatter(plain)
    if yscale == "log":
        ax.yaxis.set_major_locator(FixedLocator([1, 3, 10]))
    if formatter is not None:
        ax.yaxis.set_major_formatter(formatter)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return ax, canvas.get_renderer()


def drawn_labels(ax, renderer, axis: str) -> list[tuple[str, float]]:
    """(text, centre in px) of each tick label of `axis` drawn, matplotlib's or a Scale's."""
    (scale,) = [a for a in ax.artists if isinstance(a, Scale)] or [None]
    if scale is None:
        texts = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    else:
        texts = [
            t
            for t in scale.get_children()
            if isinstance(t, Text) and t.get_ha() == ("center" if axis == "x" else "right")
        ]
    low, high = sorted(ax.get_xlim() if axis == "x" else ax.get_ylim())
    k = 0 if axis == "x" else 1
    drawn = [t for t in texts if t.get_visible() and t.get_text() and low <= t.get_position()[k] <= high]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn]  # a tick outside the limits is not
    return [(text, ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)) for text, box in boxes]


@pytest.mark.parametrize("case", list(SCALE_CASES))
def test_a_scale_labels_what_matplotlibs_ticks_would_and_where(case):
    """The Scale stands for matplotlib's ticks: the same year and value labels, each within a pixel of where
    matplotlib puts it, every label in full (no offset or power of ten that the hidden axis would have drawn
    beside it), and a gridline at each year and value."""
    with style():
        ticked, ticked_renderer = scale_chart(case, with_scale=False)
        scaled, renderer = scale_chart(case, with_scale=True)
    for axis in "xy":
        expected, drawn = drawn_labels(ticked, ticked_renderer, axis), drawn_labels(scaled, renderer, axis)
        assert [t for t, _ in drawn] == [t for t, _ in expected], (case, axis)
        assert np.allclose([c for _, c in drawn], [c for _, c in expected], atol=1.0), (case, axis)
    assert not scaled.xaxis.get_visible() and not scaled.yaxis.get_visible()  # no second set of labels
    (scale,) = [a for a in scaled.artists if isinstance(a, Scale)]
    years, values = [c for c in scale.get_children() if isinstance(c, LineCollection)]
    assert len(years.get_segments()) == 3 and len(values.get_segments()) == len(drawn_labels(scaled, renderer, "y"))
    if case in ("near one", "millions"):
        assert all("e" not in text and "+" not in text for text, _ in drawn_labels(scaled, renderer, "y"))


def test_a_scale_follows_late_limits_skips_labels_as_asked_and_counts_in_a_tight_box():
    with style():
        ax, renderer = scale_chart("linear", with_scale=True, every=2)
        assert [t for t, _ in drawn_labels(ax, renderer, "x")] == ["2027", "2029"]  # every second year
        time_axis(ax, MONTHS, labels=False)  # drawn on again, as the dashboard does
        assert len([a for a in ax.artists if isinstance(a, Scale)]) == 1 and not drawn_labels(ax, renderer, "x")
        ax.set_ylim(0, 12000)  # limits set after the scale was made: its labels follow them
        assert drawn_labels(ax, renderer, "y")[-1][0] in {"10000", "12000"}
        time_axis(ax, MONTHS)
        box = ax.get_window_extent(renderer)
        tight = ax.get_tightbbox(renderer)  # what savefig(bbox_inches="tight") keeps
        assert tight.y0 < box.y0 - TEXT_PX and tight.x0 < box.x0 - 2 * TEXT_PX  # the year and value labels


@pytest.mark.parametrize("scenario", ["china_ban", "antimony_tungsten_2026"])
def test_no_text_runs_off_a_run_picture(scenario):
    """Every label, title and note of a run's pictures lies within the image (long notes wrap)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    result = run(scenario, *(SHORT if scenario != "china_ban" else ()), months=48)
    with style():
        for name, fig in plots.run_figures(result).items():
            renderer = FigureCanvasAgg(fig).get_renderer()
            for text in fig.findobj(Text):
                if text.get_visible() and text.get_text().strip():
                    box = text.get_window_extent(renderer)
                    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (name, text.get_text())
                    assert box.y0 >= 0 and box.y1 <= fig.bbox.height, (name, text.get_text())


def test_the_events_names_stand_above_every_shortfall_line(china):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with style():
        fig = plots.shortfall_figure(china)
        renderer = FigureCanvasAgg(fig).get_renderer()
    (ax,) = fig.axes
    names = [t for t in ax.texts if t.get_text() in {w.label for w in event_windows(china.resolved.scenario, 48)}]
    highest = max(ax.transData.transform(line.get_xydata())[:, 1].max() for line in ax.lines)
    assert names and min(t.get_window_extent(renderer).y0 for t in names) > highest
