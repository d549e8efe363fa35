"""The `sim` command as a user runs it: outputs, reproducibility, and bad input (exit 2, no traceback)."""

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

from .helpers import ROOT, SCENARIOS

runner = CliRunner()
RUN_FILES = {
    "manifest.json",
    "report.html",
    "summary.json",
    "timeseries.parquet",
    "flows.parquet",
    "capacity_vs_need.png",
    "prices.png",
    "utilisation.png",
    "imports_sankey.png",
    "shortfall.png",  # the shortfall pictures appear when a mineral is short: china_ban leaves Dy/Tb short
    "shortfall_by_sector.png",
}


def sim(*args: str):
    return runner.invoke(app, list(args))


def run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()) if root.exists() else []


@pytest.fixture(scope="module")
def china_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = sim("run", str(SCENARIOS / "china_ban.yaml"), "--months", "36", "--out", str(out))
    assert result.exit_code == 0, result.output
    (folder,) = run_dirs(out)
    return result, folder


def test_run_prints_the_summary_table_and_writes_a_complete_run(china_run):
    result, folder = china_run
    for word in ("china_ban", "antimony", "gallium", "shortfall", "capacity gap", "Saved"):
        assert word in result.output
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["months"] == 36
    assert manifest["scenario_resolved"]["events"][0]["exporter"] == "China"
    assert len(manifest["scenario_hash"]) == 64 and manifest["package_version"]
    summary = json.loads((folder / "summary.json").read_text())
    assert set(summary["minerals"]) >= {"antimony", "tungsten", "gallium", "germanium", "ndpr", "dytb", "ndfeb_magnets"}
    ts = pd.read_parquet(folder / "timeseries.parquet")
    assert list(ts.columns) == ["month", "mineral", "scope", "entity", "variable", "unit", "value"]
    assert ts["month"].nunique() == 36
    flows = pd.read_parquet(folder / "flows.parquet")
    assert {"direct", "leaked"} <= set(flows["route"])


STAMPED = {"manifest.json", "report.html"}  # these carry the run id and creation time; the data files may not


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.name not in STAMPED}


def test_same_scenario_and_seed_give_byte_identical_files(tmp_path, china_run):
    _, first = china_run
    assert sim("run", str(SCENARIOS / "china_ban.yaml"), "--months", "36", "--out", str(tmp_path)).exit_code == 0
    (second,) = run_dirs(tmp_path)
    assert digest(first) == digest(second)


def test_another_seed_and_set_overrides_change_the_run(tmp_path):
    result = sim(
        "run",
        str(SCENARIOS / "china_ban.yaml"),
        "--months",
        "24",
        "--seed",
        "5",
        "--no-plots",
        "--set",
        "events[0].leakage=0.5",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    (folder,) = run_dirs(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["scenario_resolved"]["events"][0]["leakage"] == 0.5
    assert folder.name.startswith("china_ban-s5-")


BAD = {
    "unknown mineral": (
        "events:\n  - {type: export_restriction, exporter: China, minerals: [kryptonite], kind: ban, start: 2026-03}\n",
        "unknown mineral 'kryptonite'",
    ),
    "leakage above 1": (
        "events:\n  - {type: export_restriction, exporter: China, minerals: [antimony], kind: ban, "
        "start: 2026-03, leakage: 2}\n",
        "leakage",
    ),
    "negative capacity": (
        "world:\n  plants:\n    usac_thompson_falls: {capacity_t_per_yr: -5}\n",
        "world.plants.usac_thompson_falls.capacity_t_per_yr",
    ),
    "bad yaml": ("events: [\n", "not valid YAML"),
    "unknown field": ("horizon: 12\n", "unknown field 'horizon'"),
    "missing parent": ("extends: nowhere\n", "parent scenario 'nowhere' not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gets_one_clear_message_exit_2_and_writes_nothing(tmp_path, case):
    text, words = BAD[case]
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nextends: baseline\n" + text if case != "missing parent" else "name: bad\n" + text)
    out = tmp_path / "results"
    result = sim("run", str(path), "--out", str(out))
    assert result.exit_code == 2
    assert words in result.output and "bad.yaml" in result.output
    assert "Traceback" not in result.output
    assert run_dirs(out) == []


def test_missing_scenario_file_and_unwritable_output_are_clear_errors(tmp_path):
    result = sim("run", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "file not found" in result.output
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    result = sim("run", str(SCENARIOS / "baseline.yaml"), "--months", "2", "--out", str(blocked / "sub"))
    assert result.exit_code == 2 and "cannot" in result.output and "Traceback" not in result.output


def test_bad_set_override_is_a_clear_error(tmp_path):
    result = sim("run", str(SCENARIOS / "baseline.yaml"), "--set", "events[3].leakage=0.2", "--out", str(tmp_path))
    assert result.exit_code == 2 and "--set" in result.output
    result = sim("run", str(SCENARIOS / "baseline.yaml"), "--set", "horizon_months", "--out", str(tmp_path))
    assert result.exit_code == 2 and "path=value" in result.output


def test_validate_reports_each_file(tmp_path):
    good = sim("validate", *(str(p) for p in sorted(SCENARIOS.glob("*.yaml"))))
    assert good.exit_code == 0 and good.output.count("ok:") == len(list(SCENARIOS.glob("*.yaml")))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon_months: zero\n")
    result = sim("validate", str(SCENARIOS / "baseline.yaml"), str(bad))
    assert result.exit_code == 2 and "ok:" in result.output and "bad.yaml:2" in result.output


@pytest.mark.slow
def test_installed_console_script_runs_end_to_end(tmp_path):
    """The real `sim` executable in a subprocess, as the README's command runs it."""
    exe = Path(sys.executable).with_name("sim")
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [str(exe), "run", "scenarios/china_ban.yaml", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "antimony" in done.stdout
    bad = subprocess.run([str(exe), "run", "scenarios/nope.yaml"], cwd=ROOT, capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "file not found" in bad.stderr
    # a usage error (a value out of range, an unknown option or command) is one line too, not a panel
    for args, words in (
        (["run", "scenarios/china_ban.yaml", "--runs", "0"], "Invalid value for '--runs'"),
        (["run", "scenarios/china_ban.yaml", "--bogus"], "No such option: --bogus"),
        (["nope"], "No such command 'nope'"),
    ):
        done = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]
    assert subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env).returncode == 0


def test_the_printed_total_counts_what_ran_before_sim_was_imported(tmp_path):
    """The total is the wall time since the process started: a second slept before sim is imported (as an
    interpreter's start-up and imports take time) is in it, and nothing after the process ended is."""
    code = "import sys, time; time.sleep(1); from sim.cli import entry; sys.argv[0] = 'sim'; entry()"
    args = ["run", "scenarios/baseline.yaml", "--months", "6", "--no-plots", "--out", str(tmp_path)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # a long --out path wraps the line
    total = float(re.search(r"total (\d+\.\d+) s from process start", said)[1])
    assert 1.0 <= total <= elapsed + 0.02  # the kernel counts a process's start in 10 ms ticks


def test_months_shorter_than_an_event_is_reported_not_silently_dropped(tmp_path):
    result = sim("run", str(SCENARIOS / "china_ban.yaml"), "--months", "2", "--out", str(tmp_path))
    assert result.exit_code == 2 and "after the horizon" in result.output and run_dirs(tmp_path) == []


def test_empty_out_and_bracketed_hints_are_shown_whole(tmp_path):
    assert sim("run", str(SCENARIOS / "baseline.yaml"), "--out", "").exit_code == 2
    result = sim("run", str(SCENARIOS / "china_ban.yaml"), "--set", "events[0].leakage={uniform: [0.3, 0.1]}")
    assert result.exit_code == 2 and "[low, high]" in result.output


def test_each_run_carries_a_self_contained_html_report(china_run, tmp_path):
    _, folder = china_run
    html = (folder / "report.html").read_text()
    assert "<table>" in html and "antimony" in html and "Provenance" in html
    assert html.count("data:image/png;base64,") == 6
    assert "No mineral was short in the US in any month" not in html  # Dy/Tb is short under china_ban
    assert html.count('width="1080"') == 6 and "max-width:none" in html  # each picture at its native size
    assert "http://" not in html and "https://" not in html  # nothing to fetch: it opens offline
    target = tmp_path / "again.html"
    result = sim("report", str(folder), "--output", str(target))
    assert result.exit_code == 0 and target.read_text() == html
    assert sim("report", "no-such-run", "--out", str(tmp_path)).exit_code == 2


def test_new_writes_a_commented_scenario_that_validates_and_schema_prints_json(tmp_path):
    import shutil

    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "baseline.yaml")
    result = sim("new", "my_case", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "# events:" in (tmp_path / "my_case.yaml").read_text()
    assert sim("validate", str(tmp_path / "my_case.yaml")).exit_code == 0
    assert sim("new", "my_case", "--dir", str(tmp_path)).exit_code == 2  # never overwrites
    assert sim("new", "../evil", "--dir", str(tmp_path)).exit_code == 2
    schema = json.loads(sim("schema").output)
    assert "ExportRestriction" in schema["$defs"] and "events" in schema["properties"]


def test_version_and_the_allowed_choices_are_in_the_help():
    from importlib import metadata

    result = sim("--version")
    assert result.exit_code == 0 and metadata.version("critical-minerals-sim") in result.output
    assert "[local|dask]" in sim("run", "--help").output
    assert "[grid|lhs]" in sim("sweep", "--help").output
    assert "[morris|sobol]" in sim("sensitivity", "--help").output


def test_a_label_names_the_run_in_runs_compare_and_the_report(tmp_path):
    label = "team A <b>&</b> [red]"
    overrides = ["--set", "events[0].leakage=0.3", "--set", "world.minerals.antimony.stockpile_t=100"]
    args = ["run", str(SCENARIOS / "china_ban.yaml"), "--months", "6", "--label", label, *overrides]
    result = sim(*args, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (folder,) = run_dirs(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["label"] == label and manifest["overrides"] == overrides[1::2]
    page = (folder / "report.html").read_text()
    assert "<h1>team A &lt;b&gt;&amp;&lt;/b&gt; [red] <small>(china_ban)</small></h1>" in page  # text, not markup
    shown = sim("show", folder.name, "--out", str(tmp_path))
    assert shown.exit_code == 0 and f"label: {label}\n" in shown.stdout
    assert "overrides: --set 'events[0].leakage=0.3' --set world.minerals.antimony.stockpile_t=100" in shown.stdout
    assert "overrides</td><td>--set &#39;events[0].leakage=0.3&#39; --set" in page
    assert "team A" in sim("runs", "--out", str(tmp_path)).output
    compared = sim("compare", str(folder), str(SCENARIOS / "baseline.yaml"), "--months", "6", "--out", str(tmp_path))
    assert compared.exit_code == 0 and "team A" in compared.output
    for bad in ("", "x" * 81, "two\nlines"):
        refused = sim("run", str(SCENARIOS / "china_ban.yaml"), "--label", bad, "--out", str(tmp_path / "no"))
        assert refused.exit_code == 2 and "is not a label" in refused.output
    assert not (tmp_path / "no").exists()


def test_compare_reference_takes_the_differences_from_the_run_named(tmp_path):
    files = [str(SCENARIOS / f"{name}.yaml") for name in ("baseline", "china_ban")]
    result = sim("compare", *files, "--months", "12", "--reference", "china_ban s1", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "baseline s1 − china_ban s1" in result.output and "china_ban s1 − baseline s1" not in result.output
    result = sim("compare", *files, "--months", "12", "--reference", "nobody", "--out", str(tmp_path / "no"))
    assert result.exit_code == 2 and "baseline s1, china_ban s1" in result.output and not (tmp_path / "no").exists()


def test_compare_places_runs_with_different_starts_by_calendar_month(tmp_path):
    from sim.api import compare
    from sim.viz.compare_plots import overlay_figure

    for name, months in (("tariffs_2025", "12"), ("china_ban", "6")):  # 2025-01 to 2025-12, 2026-01 to 2026-06
        stored = sim("run", str(SCENARIOS / f"{name}.yaml"), "--months", months, "--no-plots", "--out", str(tmp_path))
        assert stored.exit_code == 0, stored.output
    tariffs, ban = (str(next(tmp_path.glob(f"{name}-s1-*"))) for name in ("tariffs_2025", "china_ban"))
    result = sim("compare", ban, tariffs, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    note = "The runs cover different months: china_ban s1 2026-01 to 2026-06, tariffs_2025 s1 2025-01 to 2025-12"
    assert note in result.output
    (folder,) = tmp_path.glob("compare-*")
    assert note in (folder / "report.html").read_text() and note in (folder / "compare.md").read_text()

    compared = compare([ban, tariffs], root=tmp_path)
    places = {"tariffs_2025 s1": range(0, 12), "china_ban s1": range(12, 18)}  # on one axis, 2025-01 to 2026-06
    for variable in ("price_outside_ratio", "price_us_ratio"):
        figure = overlay_figure(compared.runs, variable)
        lines = [line for ax in figure.axes for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert {line.get_label() for line in lines} == set(places)
        for line in lines:
            assert list(line.get_xdata()) == list(places[line.get_label()])
            assert line.axes.get_xlim() == (0, 17)


def test_the_us_price_overlay_peaks_where_the_summary_says(tmp_path):
    from sim.api import compare
    from sim.viz.compare_plots import overlay_figure

    files = [str(SCENARIOS / f"{name}.yaml") for name in ("tariffs_2025", "china_ban")]
    compared = compare(files, months=12, root=tmp_path)
    summaries = {run.label: run.summary for run in compared.runs}
    peaks = []
    for ax in overlay_figure(compared.runs, "price_us_ratio").axes:
        for line in ax.get_lines():
            if line.get_label().startswith("_"):  # not a run's: the price cap, where one reaches it
                continue
            peak = summaries[line.get_label()][ax.get_title(loc="left")]["price_us_peak_ratio"]
            assert max(line.get_ydata()) == pytest.approx(peak, rel=1e-5)
            peaks.append(peak)
    assert max(peaks) > 3  # the price US buyers pay moves far more than the price outside


def test_compare_tells_runs_of_one_scenario_apart_by_horizon_unless_labelled(tmp_path):
    baseline = str(SCENARIOS / "baseline.yaml")
    assert sim("run", baseline, "--months", "6", "--no-plots", "--out", str(tmp_path / "a")).exit_code == 0
    (stored,) = run_dirs(tmp_path / "a")
    result = sim("compare", str(stored), baseline, "--months", "3", "--out", str(tmp_path / "a"))
    assert result.exit_code == 0, result.output
    assert "baseline s1 6 months" in result.output and "baseline s1 3 months" in result.output
    for months in ("3", "6"):
        labelled = sim(
            "run", baseline, "--months", months, "--no-plots", "--label", "team", "--out", str(tmp_path / "b")
        )
        assert labelled.exit_code == 0, labelled.output
    result = sim("compare", *(str(p) for p in run_dirs(tmp_path / "b")), "--out", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert "team (2)" in result.output and "team 3 months" not in result.output  # a user's label is kept


def test_the_summary_fits_80_columns_unless_asked_wide(tmp_path):
    args = ["run", str(SCENARIOS / "china_ban.yaml"), "--months", "6", "--no-plots", "--out", str(tmp_path)]
    narrow = sim(*args)
    assert narrow.exit_code == 0 and "with feed" in narrow.output
    assert max(len(line) for line in narrow.output.splitlines() if not line.startswith("Saved")) <= 80
    wide = sim(*args, "--wide")
    assert wide.exit_code == 0 and max(len(line) for line in wide.output.splitlines()) > 80
    assert "…" not in wide.output and "US ore processed" in wide.output  # piped, still no header cut short
    ensemble = sim(*args, "--runs", "2", "--workers", "1")  # an ensemble's bands too, with the US price
    assert ensemble.exit_code == 0 and "price US" in ensemble.output
    assert max(len(line) for line in ensemble.output.splitlines() if not line.startswith("Saved")) <= 80
