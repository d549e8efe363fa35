"""The run's pictures say what the recorded series say: capacity against need, shortfall by sector,
utilisation, the import Sankey; and every chart keeps the rules (text of 14 px or more at native size,
one tick a year, events shaded, series that never move named instead of drawn, a mineral's own colour)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.text import Text

from sim.viz import pictures, plots
from sim.viz.charts import TEXT_PX, event_windows, figure, style, year_ticks
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


def test_utilisation_is_plant_output_over_standing_capacity(china):
    ts = china.timeseries
    plant = ts[(ts["scope"] == "plant") & (ts["mineral"] == "tungsten")]
    output = plant[plant["variable"] == "output"].groupby("month")["value"].sum()
    capacity = plant[plant["variable"] == "capacity"].groupby("month")["value"].sum() / 12
    with style():
        drawn, steady = pictures.draw_utilisation(axes(), china)
    assert np.allclose(drawn["tungsten"], 100 * output / capacity)
    assert steady["graphite"] == pytest.approx(100) and "graphite" not in drawn  # its one plant runs flat out


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
            assert list(ax.get_xticks()) == list(ticks), name
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


def test_a_time_charts_scale_labels_each_year_and_the_values_within_the_final_limits():
    """The gridlines and labels a Scale draws stand for matplotlib's ticks: a year label under each January,
    value labels read off the y axis' locator and formatter for the limits as they are when drawn, all of
    them outside the axes and none on another."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.viz.charts import Scale, time_axis

    months = [f"{2026 + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}" for m in range(36)]  # 2026-03 to 2029-02
    with style():
        fig, (ax,) = figure(1, 1, 300)
        ax.plot(np.arange(36), np.linspace(0, 950, 36))
        ax.yaxis.set_major_formatter(pictures.THOUSANDS)
        time_axis(ax, months)
        time_axis(ax, months)  # drawn on again, as the dashboard does: still one scale
        (scale,) = [artist for artist in ax.artists if isinstance(artist, Scale)]
        assert not ax.xaxis.get_visible() and not ax.yaxis.get_visible()  # the scale stands for them
        renderer = FigureCanvasAgg(fig).get_renderer()

        def labels() -> tuple[list[Text], list[Text]]:
            texts = [artist for artist in scale.get_children() if isinstance(artist, Text)]
            return [t for t in texts if t.get_ha() == "center"], [t for t in texts if t.get_ha() == "right"]

        years, values = labels()
        assert [t.get_text() for t in years] == ["2027", "2028", "2029"]
        assert [t.get_position()[0] for t in years] == [10, 22, 34]  # each January's month index
        low, high = ax.get_ylim()
        assert 2 <= len(values) <= 5 and all(low <= t.get_position()[1] <= high for t in values)
        assert values[0].get_text() == "0" and min(t.get_fontsize() for t in years + values) >= TEXT_PX

        box = ax.get_window_extent(renderer)
        year_boxes = [t.get_window_extent(renderer) for t in years]
        assert all(b.y1 <= box.y0 for b in year_boxes)  # under the axes
        assert all(a.x1 < b.x0 for a, b in itertools.pairwise(year_boxes))  # apart
        assert all(t.get_window_extent(renderer).x1 <= box.x0 for t in values)  # left of the axes

        ax.set_ylim(0, 12000)  # limits set after the scale was made: its labels follow them
        _, values = labels()
        assert values[-1].get_text() in {"10,000", "12,000"} and values[-1].get_position()[1] <= 12000


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
