"""Many runs: compare, ensembles on every executor, sweeps, sensitivity, the run index."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.ensemble import child_seeds, run_ensemble, run_ensemble_file
from sim.scenario.load import load_scenario
from sim.sweep import grid_points, lhs_points, parse_vary, run_points, run_sweep

from .helpers import SCENARIOS

runner = CliRunner()
UNCERTAIN = [
    "events[0].leakage={uniform: [0.0, 0.4]}",
    "world.market.contract_share={triangular: [0.3, 0.5, 0.9]}",
]
SET_UNCERTAIN = [arg for u in UNCERTAIN for arg in ("--set", u)]


def sim(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_child_seeds_are_fixed_by_the_parent_seed():
    assert child_seeds(1, 5) == child_seeds(1, 5)[:5] == child_seeds(1, 8)[:5]
    assert len(set(child_seeds(1, 100))) == 100 and child_seeds(2, 3) != child_seeds(1, 3)


@pytest.fixture(scope="module")
def uncertain_ban():
    return load_scenario(SCENARIOS / "china_ban.yaml", UNCERTAIN)


def ensemble_numbers(result):
    return result.indicators(), result.bands()


def test_ensemble_numbers_do_not_depend_on_workers_or_batching(uncertain_ban):
    inline = run_ensemble(uncertain_ban, 12, months=36, workers=1, batch_size=5)
    pooled = run_ensemble(uncertain_ban, 12, months=36, workers=2, batch_size=3)
    for a, b in zip(ensemble_numbers(inline), ensemble_numbers(pooled), strict=True):
        pd.testing.assert_frame_equal(a, b)
    leakages = {o.draws["events[0].leakage"] for o in inline.outcomes}
    assert len(leakages) == 12  # each run draws its own inputs


@pytest.mark.slow
def test_ensemble_on_a_dask_local_cluster_gives_the_same_numbers(uncertain_ban):
    local = run_ensemble(uncertain_ban, 8, months=24, workers=1)
    dask = run_ensemble(uncertain_ban, 8, months=24, executor="dask", workers=2, batch_size=2)
    for a, b in zip(ensemble_numbers(local), ensemble_numbers(dask), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_ensemble_bands_are_ordered_and_contain_the_median(uncertain_ban):
    bands = run_ensemble(uncertain_ban, 10, months=24, workers=1).bands()
    assert (bands["p5"] <= bands["p50"] + 1e-12).all() and (bands["p50"] <= bands["p95"] + 1e-12).all()


def test_the_library_names_the_work_and_its_size_before_it_starts_then_counts_it_done():
    """What a progress bar needs: one announcement once the size is known, then advances summing to it."""

    def recorder(log: list):
        def start(label: str, total: int):
            log.append((label, total))
            return log.append

        return start

    ensemble_log: list = []
    ensemble = run_ensemble_file(SCENARIOS / "china_ban.yaml", 12, months=6, workers=1, progress=recorder(ensemble_log))
    assert ensemble_log[0] == ("china_ban: 12 runs (local)", 12) and sorted(ensemble_log[1:]) == [2, 10]  # batches
    assert len(ensemble.outcomes) == 12
    sweep_log: list = []
    sweep = run_sweep(
        SCENARIOS / "china_ban.yaml", ["events[0].leakage=0:0.2:0.1"], months=6, workers=1, progress=recorder(sweep_log)
    )
    assert sweep_log == [("china_ban: 3 points", 3), 3] and sweep.inputs == ["events[0].leakage"]
    assert len(sweep.per_point("cumulative_shortfall_share")) == 3


def test_cli_ensemble_writes_bands_and_is_listed_by_runs(tmp_path):
    result = sim(
        "run",
        SCENARIOS / "china_ban.yaml",
        "--runs",
        6,
        "--workers",
        1,
        "--months",
        24,
        "--out",
        tmp_path,
        *SET_UNCERTAIN,
    )
    assert result.exit_code == 0, result.output
    assert "6 runs" in result.output and "p5-p95" in result.output
    (folder,) = tmp_path.iterdir()
    assert {"bands.parquet", "indicators.parquet", "bands_shortfall_share.png"} <= {p.name for p in folder.iterdir()}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "ensemble" and len(manifest["run_seeds"]) == 6
    listing = sim("runs", "--out", tmp_path)
    assert listing.exit_code == 0 and "6 runs" in listing.output
    # The report reads as the terminal did: its months' start, and each median with its p5-p95 band.
    page = (folder / "report.html").read_text()
    spread = json.loads((folder / "summary.json").read_text())["spread"]["dytb"]["cumulative_shortfall_share"]
    assert "6 runs (medians [p5–p95]), 24 months from 2026-01." in page
    assert f"<td>{100 * spread['p50']:.1f} [{100 * spread['p5']:.1f}–{100 * spread['p95']:.1f}]</td>" in page
    assert "<th>EU</th>" in page and "<th>Japan and Korea</th>" in page  # the regions' own names


def test_compare_runs_and_scenarios_side_by_side(tmp_path):
    assert sim("run", SCENARIOS / "baseline.yaml", "--months", 24, "--no-plots", "--out", tmp_path).exit_code == 0
    (base,) = tmp_path.iterdir()
    result = sim(
        "compare",
        base,
        SCENARIOS / "china_ban.yaml",
        SCENARIOS / "power_price_spike.yaml",
        "--months",
        24,
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert (
        "baseline s1" in result.output
        and "china_ban s1" in result.output
        and "china_ban s1 − baseline s1" in result.output
    )
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("compare-")]
    table = pd.read_csv(folder / "compare.csv")
    row = table[
        (table["indicator"] == "price_us_peak_ratio")
        & (table["mineral"] == "antimony")
        & (table["run"] == "china_ban s1")
    ]
    assert row["diff_from_first"].iloc[0] > 0.1
    units = dict(zip(table["indicator"], table["unit"], strict=False))
    assert units["cumulative_shortfall_share"] == "%" and units["capacity_gap_t_per_yr_peak"] == "t/yr"
    assert units["price_us_peak_ratio"] == "x baseline" and units["funding_committed_usd"] == "USD m"
    assert units["months_in_shortfall"] == "months"
    same = table[table["run"] == "baseline s1"]  # the first run against itself: exactly zero, no float noise
    assert (same["diff_from_first"].dropna() == 0).all()
    assert (folder / "compare.md").read_text().startswith("# Comparison: baseline s1 vs china_ban s1")
    assert (folder / "compare_shortfall_share.png").stat().st_size > 10_000

    # The comparison report: one offline page with every run's figures, the differences and provenance.
    html = (folder / "report.html").read_text()
    assert "<h1>Comparison: baseline s1 vs china_ban s1 vs power_price_spike s1</h1>" in html
    assert html.count("data:image/png;base64,") == 4 and "https://" not in html and "http://" not in html
    assert "<th>china_ban s1 − baseline s1</th>" in html  # which run is subtracted from which
    assert "0 in every run: " in html and "copper" in html  # all-zero rows folded into one line
    assert f"<td>{base.name}</td>" in html and "<th>scenario hash</th>" in html  # the stored run, by id
    china = json.loads((folder / "compare.json").read_text())["runs"][1]
    assert china["scenario"] == "china_ban" and china["seed"] == 1 and china["months"] == 24
    assert f"<td>{china['scenario_hash']}</td>" in html
    again = tmp_path / "again.html"
    assert sim("report", folder, "--output", again).exit_code == 0 and again.read_text() == html


def test_compare_and_show_reject_torn_or_missing_runs(tmp_path):
    assert sim("run", SCENARIOS / "baseline.yaml", "--months", 6, "--no-plots", "--out", tmp_path).exit_code == 0
    (good,) = tmp_path.iterdir()
    torn = tmp_path / "torn-run"
    shutil.copytree(good, torn)
    (torn / "manifest.json").unlink()
    hidden = tmp_path / ".tmp-half"
    shutil.copytree(good, hidden)
    result = sim("compare", good, torn, "--out", tmp_path)
    assert result.exit_code == 2 and "manifest.json is missing" in result.output
    assert sim("show", "nothing-like-this", "--out", tmp_path).exit_code == 2
    listing = sim("runs", "--out", tmp_path)
    assert good.name in listing.stdout and "torn-run" not in listing.stdout and ".tmp-half" not in listing.output
    assert listing.stderr.count("skipped:") == 1 and "torn-run: not a run (manifest.json is missing)" in listing.stderr
    shown = sim("show", good.name[:12], "--out", tmp_path)
    assert shown.exit_code == 0 and "baseline" in shown.output


def test_sweep_grid_and_latin_hypercube():
    varies = [parse_vary("events[0].leakage=0:0.4:0.2"), parse_vary("events[0].kind=ban,quota")]
    points = grid_points(varies)
    assert len(points) == 6 and points[0] == {"events[0].leakage": 0.0, "events[0].kind": "ban"}
    lhs = lhs_points([parse_vary("events[0].leakage=0:0.4")], 8, seed=1)
    values = sorted(p["events[0].leakage"] for p in lhs)
    assert all(0.05 * k <= v < 0.05 * (k + 1) for k, v in enumerate(values))  # one point per stratum
    summaries = run_points(SCENARIOS / "china_ban.yaml", ["events[0].quota_share=0.5"], points, months=24, workers=1)
    shortfall = {
        (p["events[0].kind"], p["events[0].leakage"]): s["antimony"]["cumulative_shortfall_share"]
        for p, s in zip(points, summaries, strict=True)
    }
    assert shortfall[("ban", 0.0)] >= shortfall[("ban", 0.4)]
    assert shortfall[("ban", 0.0)] >= shortfall[("quota", 0.0)]


def test_cli_sweep_writes_a_tidy_table_and_rejects_bad_values(tmp_path):
    result = sim(
        "sweep",
        SCENARIOS / "china_ban.yaml",
        "--vary",
        "events[0].leakage=0,0.3",
        "--months",
        12,
        "--workers",
        1,
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    table = pd.read_parquet(folder / "points.parquet")
    assert set(table.columns) == {"point", "events[0].leakage", "mineral", "indicator", "value"}
    assert set(table["point"]) == {0, 1}
    bad = sim("sweep", SCENARIOS / "china_ban.yaml", "--vary", "events[0].leakage=0,3", "--out", tmp_path)
    assert bad.exit_code == 2 and "less than or equal to 1" in bad.output and "Traceback" not in bad.output


def test_sensitivity_ranks_leakage_first_for_gallium(tmp_path):
    result = sim(
        "sensitivity",
        SCENARIOS / "china_ban.yaml",
        "--set",
        "events[0].destinations=[all]",  # a ban on the US alone leaves no gallium shortfall to rank
        "--n",
        4,
        "--months",
        36,
        "--workers",
        1,
        "--out",
        tmp_path,
        *SET_UNCERTAIN,
    )
    assert result.exit_code == 0, result.output
    (folder,) = tmp_path.iterdir()
    ranking = pd.read_csv(folder / "ranking.csv")
    gallium = ranking[ranking["mineral"] == "gallium"].sort_values("rank")
    assert gallium["input"].iloc[0] == "events[0].leakage"
    assert np.all(ranking["effect"] >= 0)
    none = sim("sensitivity", SCENARIOS / "china_ban.yaml", "--out", tmp_path)
    assert none.exit_code == 2 and "no uncertain inputs" in none.output


def test_compare_table_treats_a_float_noise_gap_as_zero_and_keeps_real_ones():
    from sim.results.compare import Compared, compare_table

    def item(label, share):
        return Compared(label, {"antimony": {"cumulative_shortfall_share": share}}, lambda name: pd.DataFrame())

    table = compare_table(
        [item("a", 0.3), item("b", 0.3 + 1e-13), item("c", 0.3 + 1e-6)], ["cumulative_shortfall_share"]
    )
    diffs = dict(zip(table["run"], table["diff_from_first"], strict=True))
    assert diffs["b"] == 0.0 and diffs["c"] == pytest.approx(1e-4)  # in percent: 1e-6 of a share is 1e-4 %
    assert set(table["unit"]) == {"%"}


def test_minerals_come_in_one_order_in_tables_and_series(tmp_path):
    from sim.results.runs import find_run

    from .helpers import run

    result = run("china_ban", months=3)
    order = list(result.summary)
    assert order == list(result.resolved.world.minerals)
    assert list(result.series("shortfall_share").columns) == order  # plots draw series: same order, same colours
    assert sim("run", SCENARIOS / "china_ban.yaml", "--months", 3, "--no-plots", "--out", tmp_path).exit_code == 0
    (folder,) = tmp_path.iterdir()
    stored = find_run(str(folder), tmp_path)
    assert list(stored.series("price_outside_ratio").columns) == list(stored.minerals) == order
