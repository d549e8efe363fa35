"""A price peak at the model's price cap (market.price_cap_ratio, an assumption) is the bound, not a finding:
the summary counts the months a price sat there, and the terminal, the report and the prices picture mark
it and say so."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.results.summary import price_cap_note

from .helpers import SCENARIOS, recorded, run

SHORT_RUN = ("--months", "48", "--no-plots")


@pytest.fixture(scope="module")
def china():
    return run("china_ban", months=48)


def test_months_at_the_cap_are_the_months_the_price_sat_at_it(china):
    cap = china.resolved.world.market.price_cap_ratio
    us_market = recorded(china, "price_us_market") / china.model.price0
    outside = recorded(china, "price_outside_ratio")
    assert us_market.max() <= cap * (1 + 1e-12) and outside.max() <= cap * (1 + 1e-12)  # the cap holds
    for i, mineral in enumerate(china.model.minerals):
        row = china.summary[mineral]
        assert row["price_us_months_at_cap"] == int((us_market[:, i] >= cap * (1 - 1e-9)).sum()), mineral
        assert row["price_outside_months_at_cap"] == int((outside[:, i] >= cap * (1 - 1e-9)).sum()), mineral
    dytb = china.summary["dytb"]
    assert dytb["price_us_months_at_cap"] > 12 and dytb["price_us_peak_ratio"] == pytest.approx(cap, rel=1e-6)
    assert not any(row["price_us_months_at_cap"] for m, row in china.summary.items() if m != "dytb")


def test_a_lower_cap_puts_more_prices_at_it_and_no_cap_none():
    """Direction: the months at the cap grow as the cap falls; a calm world never reaches it."""
    calm = run("baseline", months=48)
    assert not any(row["price_us_months_at_cap"] or row["price_outside_months_at_cap"] for row in calm.summary.values())
    low = run("china_ban", "world.market.price_cap_ratio=3", months=48)
    default = run("china_ban", months=48)
    at_cap = {r: {m for m, row in res.summary.items() if row["price_us_months_at_cap"]} for r, res in
              (("low", low), ("default", default))}  # fmt: skip
    assert at_cap["default"] < at_cap["low"] and {"antimony", "gallium"} <= at_cap["low"]
    for mineral in at_cap["low"]:
        assert low.summary[mineral]["price_us_months_at_cap"] >= default.summary[mineral]["price_us_months_at_cap"]
        us_market = recorded(low, "price_us_market")[:, low.model.minerals.index(mineral)]
        assert np.isclose((us_market / low.model.price0[low.model.minerals.index(mineral)]).max(), 3.0, rtol=1e-9)


def test_the_terminal_and_the_report_mark_a_capped_peak_and_say_what_it_is(tmp_path):
    runner = CliRunner()
    banned = runner.invoke(app, ["run", str(SCENARIOS / "china_ban.yaml"), "--out", str(tmp_path), *SHORT_RUN])
    assert banned.exit_code == 0, banned.output
    assert "20.00* /" in banned.output
    assert "at the model's price cap" in banned.output and "dytb (US " in banned.output
    (folder,) = tmp_path.iterdir()
    runner.invoke(app, ["report", str(folder), "--out", str(tmp_path)])
    page = (folder / "report.html").read_text()
    assert "20.00*</td>" in page and "price cap (market.price_cap_ratio" in page

    calm = runner.invoke(app, ["run", str(SCENARIOS / "baseline.yaml"), "--out", str(tmp_path / "calm"), *SHORT_RUN])
    assert calm.exit_code == 0 and "*" not in calm.output and "price cap" not in calm.output

    # A run with a cap of its own says which: the terminal, `sim show` and the report.
    low = tmp_path / "low"
    capped = ["run", str(SCENARIOS / "china_ban.yaml"), "--out", str(low), *SHORT_RUN]
    assert "5x baseline in this run" in runner.invoke(app, [*capped, "--set", "world.market.price_cap_ratio=5"]).output
    (folder,) = low.iterdir()
    assert "5x baseline in this run" in runner.invoke(app, ["show", folder.name, "--out", str(low)]).output
    assert "5x baseline in this run" in (folder / "report.html").read_text()


def test_an_ensembles_note_counts_the_median_runs_months():
    rows = {"dytb": {"price_us_months_at_cap": 37.0, "price_outside_months_at_cap": 0.0}, "copper": {}}
    note = price_cap_note(rows, " in the median run")
    assert note.endswith("dytb (US 37 months in the median run).") and "copper" not in note
    assert price_cap_note({"copper": {"price_us_months_at_cap": 0}}) == ""


def test_the_dashboards_price_chart_draws_the_cap_only_when_a_price_reaches_it(china):
    from sim.viz.dashboard_charts import ChartData, draw_us_price, new_chart

    _, ax = new_chart()
    drawn = draw_us_price(ax, ChartData(china.model.recorder, 48))
    assert drawn.entries[-1] == ("price cap 20x (assumed)", "#777777", "dashed")
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [20.0]
    _, ax = new_chart()
    calm = draw_us_price(ax, ChartData(run("baseline", months=48).model.recorder, 48))
    assert not any("price cap" in label for label, _, _ in calm.entries)


def test_an_ensembles_bands_and_a_comparison_draw_the_cap_their_runs_reach(tmp_path):
    """Where a median or band reaches the runs' price cap, the band and compare pictures draw it dashed and
    name who reaches it; an ensemble whose runs drew their own worlds (--uncertain) has no one cap to draw."""
    from sim.api import compare
    from sim.viz.charts import style
    from sim.viz.compare_plots import overlay_figure
    from sim.viz.plots import band_figure

    runner = CliRunner()
    for extra in ((), ("--uncertain",)):
        made = runner.invoke(app, ["run", str(SCENARIOS / "china_ban.yaml"), "--runs", "2", "--workers", "1",
                                   "--out", str(tmp_path / "ens"), *SHORT_RUN, *extra])  # fmt: skip
        assert made.exit_code == 0, made.output
    folders = (tmp_path / "ens").iterdir()
    shared, drawn = sorted(folders, key=lambda f: json.loads((f / "manifest.json").read_text())["uncertain_world"])
    caps = [json.loads((f / "summary.json").read_text())["price_cap_ratio"] for f in (shared, drawn)]
    assert caps == [20.0, None]

    def dashed(fig) -> dict[str, list[float]]:
        return {
            ax.get_title(loc="left"): [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"]
            for ax in fig.axes
            if ax.get_visible()
        }

    bands = pd.read_parquet(shared / "bands.parquet")
    with style():
        us = dashed(band_figure(bands, "price_us_ratio", "t", cap=20.0))
        assert us["dytb"] == [20.0] and not any(v for m, v in us.items() if m != "dytb")
        assert not any(dashed(band_figure(bands, "price_us_ratio", "t", cap=None)).values())
        runs = compare([shared.name, str(SCENARIOS / "baseline.yaml")], months=48, root=tmp_path / "ens").runs
        fig = overlay_figure(runs, "price_us_ratio")
    assert dashed(fig)["dytb"] == [20.0]
    assert any("price cap, 20x" in t.get_text() and "china_ban 2 runs s1 (dytb)" in t.get_text() for t in fig.texts)


def test_a_comparison_marks_the_peaks_at_the_cap_in_every_table_it_writes(tmp_path):
    """`sim compare`: the terminal, compare.md and the report mark a run's price peak at the cap (and say
    what it is); the other run's peak, the differences and an older compare.csv without marks are unmarked."""
    runner = CliRunner()
    peaks = ["--indicator", "price_us_peak_ratio", "--indicator", "price_outside_peak_ratio"]
    files = [str(SCENARIOS / "china_ban.yaml"), str(SCENARIOS / "baseline.yaml")]
    done = runner.invoke(app, ["compare", *files, "--months", "48", "--out", str(tmp_path), *peaks])
    assert done.exit_code == 0, done.output
    dytb = next(line for line in done.output.splitlines() if "dytb" in line)
    assert dytb.count("*") == 1 and "20.00*" in dytb  # china_ban's; not baseline's, not the difference
    assert "at the model's price cap" in done.output and "china_ban s1: dytb." in done.output
    (folder,) = tmp_path.iterdir()
    markdown = (folder / "compare.md").read_text()
    assert "| dytb | 20.00* | 1.05 | -18.95 |" in markdown and markdown.count("*") == 1 + markdown.count("* at")
    assert "china_ban s1: dytb." in markdown
    assert "20.00*</td>" in (folder / "report.html").read_text()
    # A comparison stored before the cap was recorded (no at_cap column) is reported unmarked.
    table = pd.read_csv(folder / "compare.csv")
    assert table["at_cap"].sum() == 1
    table.drop(columns="at_cap").to_csv(folder / "compare.csv", index=False)
    redone = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path)])
    assert redone.exit_code == 0, redone.output
    page = (tmp_path / f"{folder.name}.html").read_text()
    assert "20.00</td>" in page and "20.00*" not in page and "price cap (market" not in page


def test_a_comparisons_cap_note_names_the_runs_own_caps(tmp_path):
    """The note under a comparison gives the cap the runs had: one cap for all, or each run's own."""
    cap30 = tmp_path / "cap30.yaml"
    extends = SCENARIOS / "china_ban.yaml"
    cap30.write_text(f"name: cap30\nextends: {extends}\nworld: {{market: {{price_cap_ratio: 30}}}}\n")
    runner = CliRunner()
    peaks = ["--months", "48", "--indicator", "price_us_peak_ratio", "--out", str(tmp_path / "out")]
    (tmp_path / "out").mkdir()
    alone = runner.invoke(app, ["compare", str(cap30), str(SCENARIOS / "baseline.yaml"), *peaks])
    assert alone.exit_code == 0, alone.output
    said = " ".join(alone.output.split())
    assert "30.00*" in said and "30x baseline in these runs" in said and "cap30 s1: dytb." in said
    both = runner.invoke(app, ["compare", str(SCENARIOS / "china_ban.yaml"), str(cap30), *peaks])
    said = " ".join(both.output.split())
    assert "china_ban s1 (cap 20x): dytb; cap30 s1 (cap 30x): dytb." in said
