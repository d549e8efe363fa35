"""Stored results are not trusted: damaged, foreign or hostile folders get one clear line, exit 2 (or are
skipped by `sim runs` with the reason), never a traceback, a file written outside results/, or a file
read from outside the folder."""

import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sim.cli import app
from sim.cli import stored as stored_command
from sim.results.runs import RunError, find_run, scan
from sim.results.store import StoreError, save_run, write_file_atomic, write_json

from .helpers import SCENARIOS, run

runner = CliRunner()
UNCERTAIN = ["--set", "events[0].leakage={uniform: [0.0, 0.4]}"]
PNG = b"\x89PNG\r\n\x1a\n" + b"secret-bytes-not-to-embed" * 4


def sim(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    """The result failed as the project's rules say: exit 2, one line on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    """One folder of every kind sim writes, made by the commands themselves."""
    out = tmp_path_factory.mktemp("results")
    ban = SCENARIOS / "china_ban.yaml"
    commands = [
        ("run", ban, "--months", 6),
        ("run", SCENARIOS / "baseline.yaml", "--months", 6, "--no-plots"),
        ("run", ban, "--months", 6, "--runs", 3, "--workers", 1, "--no-plots", *UNCERTAIN),
        ("sweep", ban, "--vary", "events[0].leakage=0,0.3", "--months", 6, "--workers", 1),
        ("sensitivity", ban, "--n", 2, "--months", 6, "--workers", 1, *UNCERTAIN),
        ("hindcast",),
    ]
    for command in commands:
        result = sim(*command, "--out", out)
        assert result.exit_code == 0, (command, result.output)
    single, ensemble = (next(out.glob(pattern)) for pattern in ("china_ban-s1-*", "china_ban-ens3-*"))
    result = sim("compare", single, ensemble, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_every_kind_sim_writes_is_listed_and_none_is_skipped(every_kind):
    index = scan(every_kind)
    assert index.skipped == []
    assert sorted(r.kind for r in index.runs) == ["ensemble", "run", "run"]
    assert sorted(o.kind for o in index.others) == ["comparison", "hindcast", "sensitivity", "sweep"]
    listing = sim("runs", "--out", every_kind)
    assert listing.exit_code == 0 and listing.stderr == ""
    for folder in every_kind.iterdir():
        assert folder.name in listing.stdout
    assert "3 runs" in listing.stdout


def test_every_run_kind_shows_and_reports_and_others_say_what_they_are(every_kind, tmp_path):
    for stored in scan(every_kind).runs:
        assert sim("show", stored.path, "--out", every_kind).exit_code == 0
        assert sim("report", stored.path, "--output", tmp_path / "r.html").exit_code == 0
    (compared,) = every_kind.glob("compare-*")
    assert sim("report", compared, "--output", tmp_path / "c.html").exit_code == 0
    for pattern, kind in (("*-sweep*", "a sweep"), ("*-morris-*", "a sensitivity"), ("hindcast-*", "a hindcast")):
        (folder,) = every_kind.glob(pattern)
        assert f"{kind}" in one_error_line(sim("show", folder, "--out", every_kind))


@pytest.fixture
def results(every_kind, tmp_path):
    """A results folder holding a copy of one good single run (with plots) and one good ensemble."""
    out = tmp_path / "deep" / "er" / "results"
    out.mkdir(parents=True)
    for pattern in ("china_ban-s1-*", "china_ban-ens3-*"):
        (source,) = every_kind.glob(pattern)
        shutil.copytree(source, out / source.name)
    return out


def good_run(results: Path) -> Path:
    return next(results.glob("china_ban-s1-*"))


def damaged_copy(results: Path, name: str, document: str, text: str) -> Path:
    bad = results / name
    shutil.copytree(good_run(results), bad)
    (bad / document).write_text(text)
    return bad


def edit(path: Path, change) -> str:
    document = json.loads(path.read_text())
    change(document)
    return json.dumps(document)


def summary_with(results: Path, change) -> str:
    return edit(good_run(results) / "summary.json", change)


def manifest_with(results: Path, change) -> str:
    return edit(good_run(results) / "manifest.json", change)


def first_row(document):
    return next(iter(document["minerals"].values()))


BAD_DOCUMENTS = {
    "summary is null": ("summary.json", lambda r: "null\n", "summary.json", "should be an object, got null"),
    "no minerals": ("summary.json", lambda r: '{"minerals": {}}', "minerals", "at least 1"),
    "row not an object": (
        "summary.json",
        lambda r: '{"minerals": {"gallium": 3}}',
        "gallium",
        "is a number, not an object",
    ),
    "rows a list": ("summary.json", lambda r: '{"minerals": [1, 2]}', "minerals", "got an array"),
    "null value": (
        "summary.json",
        lambda r: summary_with(r, lambda d: first_row(d).update(cumulative_shortfall_share=None)),
        "cumulative_shortfall_share",
        "is null",
    ),
    "string value": (
        "summary.json",
        lambda r: summary_with(r, lambda d: first_row(d).update(price_outside_peak_ratio="2.5")),
        "price_outside_peak_ratio",
        'is "2.5"',
    ),
    "missing indicator": (
        "summary.json",
        lambda r: summary_with(r, lambda d: first_row(d).pop("months_in_shortfall")),
        "months_in_shortfall",
        "missing",
    ),
    "NaN token": (
        "summary.json",
        lambda r: summary_with(r, lambda d: first_row(d).update(peak_shortfall_share=float("nan"))),
        "peak_shortfall_share",
        "finite",
    ),
    "no seed": ("manifest.json", lambda r: manifest_with(r, lambda d: d.pop("seed")), "seed", "missing"),
    "no scenario name": (
        "manifest.json",
        lambda r: manifest_with(r, lambda d: d.pop("scenario_name")),
        "scenario_name",
        "missing",
    ),
    "no scenario hash": (
        "manifest.json",
        lambda r: manifest_with(r, lambda d: d.pop("scenario_hash")),
        "scenario_hash",
        "missing",
    ),
    "integer run id": ("manifest.json", lambda r: manifest_with(r, lambda d: d.update(run_id=7)), "run_id", "string"),
    "ensemble without runs": (
        "manifest.json",
        lambda r: manifest_with(r, lambda d: d.update(kind="ensemble")),
        "runs",
        "ensemble",
    ),
    "manifest a list": ("manifest.json", lambda r: "[]", "manifest.json", "got an array"),
    "absolute file": (
        "manifest.json",
        lambda r: manifest_with(r, lambda d: d["files"].append("/abs/x.png")),
        "/abs/x.png",
        "absolute",
    ),
    "file above the folder": (
        "manifest.json",
        lambda r: manifest_with(r, lambda d: d["files"].append("../x.png")),
        "../x.png",
        "'..'",
    ),
    "not JSON": ("summary.json", lambda r: "{", "summary.json", "damaged"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_damaged_run_is_skipped_by_runs_and_refused_by_show_report_compare(results, case):
    document, text, *words = BAD_DOCUMENTS[case]
    bad = damaged_copy(results, "bad-run", document, text(results))
    good = good_run(results)

    listing = sim("runs", "--out", results)
    assert listing.exit_code == 0 and good.name in listing.stdout and "bad-run" not in listing.stdout
    (line,) = listing.stderr.strip().splitlines()
    assert str(bad) in line and document in line and all(word in line for word in words), line

    for command in (("show", "bad-run"), ("report", "bad-run"), ("compare", good.name, "bad-run")):
        line = one_error_line(sim(*command, "--out", results))
        assert str(bad) in line and all(word in line for word in words), (command, line)
    ensemble = next(results.glob("china_ban-ens3-*"))
    assert sorted(p.name for p in results.iterdir()) == sorted([good.name, ensemble.name, "bad-run"])


TIMESERIES = {
    "another table": lambda path: pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(path),
    "text values": lambda path: pd.read_parquet(path).astype({"value": str}).to_parquet(path),
    "corrupt file": lambda path: path.write_bytes(b"PAR1 this is not parquet"),
    "missing file": lambda path: path.unlink(),
}


@pytest.mark.parametrize("case", sorted(TIMESERIES))
def test_compare_with_a_foreign_or_damaged_time_series_is_one_clear_error(results, case):
    good = good_run(results)
    bad = results / "bad-series"
    shutil.copytree(good, bad)
    TIMESERIES[case](bad / "timeseries.parquet")
    line = one_error_line(sim("compare", good.name, "bad-series", "--out", results))
    assert str(bad) in line and "timeseries.parquet" in line
    if case == "another table":
        assert "no column month, mineral, scope, entity, variable, value" in line
    assert not list(results.glob("compare-*")) and not list(results.glob(".*"))


def test_compare_of_a_run_with_an_ensemble_overlays_the_median(results, tmp_path):
    ensemble = next(results.glob("china_ban-ens3-*"))
    result = sim("compare", good_run(results).name, ensemble.name, "--out", results)
    assert result.exit_code == 0, result.output
    assert "china_ban 3 runs s1" in result.output and "china_ban s1 (2)" not in result.output  # told apart
    from sim.api import compare
    from sim.viz.compare_plots import overlay_figure

    runs = compare([good_run(results).name, ensemble.name], root=results).runs
    figure = overlay_figure(runs, "price_us_ratio")  # the ensemble keeps the US price's median too
    drawn = {line.get_label() for ax in figure.axes for line in ax.get_lines()}
    assert {label for label in drawn if not label.startswith("_")} == {"china_ban s1", "china_ban 3 runs s1"}
    median = pd.read_parquet(ensemble / "bands.parquet").query("variable == 'price_us_ratio' and mineral == 'dytb'")
    (ax,) = [ax for ax in figure.axes if ax.get_title(loc="left") == "dytb"]
    (line,) = [line for line in ax.get_lines() if line.get_label() == "china_ban 3 runs s1"]
    assert np.allclose(line.get_ydata(), median["p50"].to_numpy())

    # A run stored by an older sim, without the US price ratio, has it derived from its other prices.
    older = shutil.copytree(good_run(results), tmp_path / good_run(results).name)
    ts = pd.read_parquet(older / "timeseries.parquet")
    ts[ts["variable"] != "price_us_ratio"].to_parquet(older / "timeseries.parquet", index=False)
    (older_run,) = compare([older.name], root=tmp_path).runs
    figure = overlay_figure([older_run], "price_us_ratio")
    (ax,) = [ax for ax in figure.axes if ax.get_title(loc="left") == "dytb"]
    assert np.allclose(ax.get_lines()[0].get_ydata().max(), older_run.summary["dytb"]["price_us_peak_ratio"], rtol=1e-6)


def test_a_stored_run_id_never_places_the_report_outside_results(results):
    good = good_run(results)
    manifest = good / "manifest.json"
    manifest.write_text(edit(manifest, lambda d: d.update(run_id="../../../x")))
    result = sim("report", good.name, "--out", results)
    assert result.exit_code == 0, result.output
    assert (results / f"{good.name}.html").is_file()
    assert not (results.parent.parent.parent / "x.html").exists()
    assert sorted(p.name for p in results.iterdir() if p.is_file()) == [f"{good.name}.html"]
    assert find_run(good.name, results).run_id == good.name  # listed, shown and compared by its folder name
    assert f"<td>{good.name}</td>" in (results / f"{good.name}.html").read_text()


def test_a_plot_linked_to_a_file_outside_the_run_is_never_embedded(results, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    good = good_run(results)
    (good / "prices.png").unlink()
    (good / "prices.png").symlink_to(secret)
    line = one_error_line(sim("report", good.name, "--out", results, "--output", tmp_path / "r.html"))
    assert "prices.png" in line and "outside the folder" in line
    assert not (tmp_path / "r.html").exists()


def test_a_comparison_never_embeds_files_from_outside_its_folder(every_kind, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    (source,) = every_kind.glob("compare-*")
    for plots in ([str(secret)], ["../secret.png"], ["linked.png"]):
        folder = tmp_path / "compare-copy"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder)
        (folder / "linked.png").symlink_to(secret)
        document = folder / "compare.json"
        document.write_text(edit(document, lambda d, plots=plots: d.update(plots=plots)))
        result = sim("report", folder, "--output", tmp_path / "c.html")
        line = one_error_line(result)
        assert "compare.json" in line or "outside the folder" in line, line
        assert not (tmp_path / "c.html").exists()


@pytest.mark.parametrize("output", ["/", ".", "", "..", "adir", "adir/"])
def test_report_output_that_is_not_a_file_is_a_clear_error(results, output, monkeypatch, tmp_path):
    (tmp_path / "adir").mkdir()
    monkeypatch.chdir(tmp_path)
    line = one_error_line(sim("report", good_run(results), "--output", output))
    assert "--output" in line and ("directory" in line or "empty" in line) and "HTML file" in line


def test_report_into_an_unwritable_place_is_a_clear_error_and_leaves_nothing(results, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    line = one_error_line(sim("report", good_run(results), "--output", blocker / "r.html"))
    assert f"cannot write {blocker / 'r.html'}" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "deep"]
    assert not list(results.glob("*.html")) and not list(results.glob(".*"))


def read_only(*args, **kwargs):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


def test_report_on_a_read_only_results_folder_is_a_clear_error(results, monkeypatch):
    """Read-only simulated by making every write and unlink fail as on a read-only mount (the tests
    may run as root, whom chmod does not stop)."""
    monkeypatch.setattr(Path, "write_text", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    line = one_error_line(sim("report", good_run(results).name, "--out", results))
    assert "cannot write" in line and "Read-only file system" in line


def test_write_file_atomic_on_a_read_only_folder_raises_store_error(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(StoreError, match="Read-only file system"):
        write_file_atomic(tmp_path / "r.html", "<html>")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [".r.html.tmp"]  # the cleanup failed too: still no traceback


def test_json_is_strict_numpy_numbers_are_numbers_and_nan_is_refused(tmp_path):
    path = tmp_path / "x.json"
    write_json(path, {"a": np.int64(3), "b": np.float32(0.5), "c": [1, np.True_]})
    assert json.loads(path.read_text()) == {"a": 3, "b": 0.5, "c": [1, True]}
    for bad in (float("nan"), float("inf"), np.float64("-inf")):
        with pytest.raises(StoreError, match=r"x.json: minerals.gallium.peak is not a finite number"):
            write_json(path, {"minerals": {"gallium": {"peak": bad}}})


def test_a_run_with_a_non_finite_indicator_is_not_saved(tmp_path):
    result = run("baseline", months=2)
    mineral = next(iter(result.summary))
    result.summary[mineral]["price_outside_peak_ratio"] = float("nan")
    with pytest.raises(StoreError, match=f"summary.json: minerals.{mineral}.price_outside_peak_ratio"):
        save_run(result, tmp_path, with_plots=False)
    assert list(tmp_path.iterdir()) == []


def test_a_saved_run_reads_back_and_carries_no_partial_marker(tmp_path):
    folder = save_run(run("baseline", months=2), tmp_path, with_plots=False)
    assert not (folder / ".sim-partial").exists()
    assert find_run(folder.name[:10], tmp_path).path == folder
    with pytest.raises(RunError, match="no run"):
        find_run("*", tmp_path)
    shutil.copytree(folder, tmp_path / f"{folder.name}-copy")
    assert find_run(folder.name, tmp_path).path == folder  # an exact id wins over a longer one it prefixes
    with pytest.raises(RunError, match="matches 2 runs") as ambiguous:
        find_run(folder.name[:10], tmp_path)
    assert folder.name in str(ambiguous.value) and f"{folder.name}-copy" in str(ambiguous.value)  # listed


def test_a_run_that_would_not_read_back_is_not_saved(tmp_path):
    result = run("baseline", months=2)
    result.summary = {}  # no minerals: readers would refuse it, so the writer does
    with pytest.raises(StoreError, match=r"does not read back.*minerals"):
        save_run(result, tmp_path, with_plots=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["timeseries.parquet", "flows.parquet", "summary.json"])
def test_a_run_missing_a_file_its_manifest_lists_is_skipped_by_runs_and_refused_by_show_report(
    results, tmp_path, missing
):
    bad = results / "bad-run"
    shutil.copytree(good_run(results), bad)
    assert missing in json.loads((bad / "manifest.json").read_text())["files"]
    (bad / missing).unlink()

    listing = sim("runs", "--out", results)
    assert listing.exit_code == 0 and good_run(results).name in listing.stdout and "bad-run" not in listing.stdout
    (line,) = listing.stderr.strip().splitlines()
    assert str(bad) in line and f"{missing} is missing" in line, line
    for command in (("show", "bad-run"), ("report", "bad-run"), ("report", bad, "--output", tmp_path / "r.html")):
        line = one_error_line(sim(*command, "--out", results))
        assert line == f"error: {bad}: a damaged run ({missing} is missing, though its manifest lists it)", line
    assert not (tmp_path / "r.html").exists() and not list(results.glob("*.html")) and not list(results.glob(".*"))


@pytest.mark.parametrize("missing", ["prices.png", "report.html"])
def test_a_run_missing_only_a_picture_or_its_page_is_read_and_its_report_drawn_again(results, tmp_path, missing):
    """Pictures and the report page are drawn from the data files: a run that lost one is still a run."""
    bad = results / "repairable-run"
    shutil.copytree(good_run(results), bad)
    (bad / missing).unlink()
    assert "repairable-run" in sim("runs", "--out", results).stdout
    assert sim("show", "repairable-run", "--out", results).exit_code == 0
    made = sim("report", "repairable-run", "--out", results, "--output", tmp_path / "r.html")
    assert made.exit_code == 0, made.output
    page = (tmp_path / "r.html").read_text()
    assert ('alt="prices.png"' in page) == (missing != "prices.png") and "Headline by mineral" in page


def runs_listing(results: Path, width: int | None = None, monkeypatch=None) -> str:
    """`sim runs` as printed into a pipe, or into a terminal `width` columns wide."""
    if width is not None:
        monkeypatch.setattr(stored_command, "out", Console(width=width, force_terminal=True, color_system=None))
    listing = sim("runs", "--out", results)
    assert listing.exit_code == 0 and listing.stderr == "", listing.output
    return listing.stdout


@pytest.mark.parametrize("width", [None, 100, 80])
def test_runs_shows_every_run_id_whole(results, monkeypatch, width):
    long_id = f"{good_run(results).name}-{'x' * 20}"
    shutil.copytree(good_run(results), results / long_id)
    label = "a long label " * 6  # the other columns wrap to make room
    manifest = results / long_id / "manifest.json"
    manifest.write_text(edit(manifest, lambda d: d.update(label=label.strip())))
    listing = runs_listing(results, width, monkeypatch)
    for folder in results.iterdir():
        assert folder.name in listing, (folder.name, listing)
    assert "…" not in listing
    if width:
        assert max(len(line) for line in listing.splitlines()) <= width


def test_runs_shows_the_peak_us_price_marked_at_the_cap_and_none_when_nothing_is_short(every_kind, tmp_path):
    listing = sim("runs", "--out", every_kind).stdout
    assert "peak US price" in listing and "peak price" not in listing
    for stored in scan(every_kind).runs:
        rows = stored.minerals
        (line,) = [line for line in listing.splitlines() if stored.run_id in line]
        priciest = max(rows, key=lambda m: rows[m]["price_us_peak_ratio"])
        capped = "*" if rows[priciest]["price_us_months_at_cap"] > 0 else ""
        assert f"{priciest} {rows[priciest]['price_us_peak_ratio']:.2f}x{capped} " in line, line
        if all(row["cumulative_shortfall_share"] < 0.005 for row in rows.values()):
            assert "│ none " in line, line
        else:
            assert "none" not in line
    assert any("│ none " in line for line in listing.splitlines())  # the baseline run is short of nothing
    (single,) = every_kind.glob("china_ban-s1-*")
    older = tmp_path / single.name  # stored before the US price was recorded: the outside price, said so
    shutil.copytree(single, older)
    document = json.loads((older / "summary.json").read_text())
    for row in document["minerals"].values():
        del row["price_us_peak_ratio"], row["price_us_months_at_cap"]
    (older / "summary.json").write_text(json.dumps(document))
    rows = document["minerals"]
    priciest = max(rows, key=lambda m: rows[m]["price_outside_peak_ratio"])
    expected = f"{priciest} {rows[priciest]['price_outside_peak_ratio']:.2f}x"
    assert expected in sim("runs", "--out", tmp_path).stdout


def test_show_names_the_overrides_and_says_when_an_older_run_did_not_record_them(every_kind, tmp_path):
    (ensemble,) = every_kind.glob("china_ban-ens3-*")
    shown = sim("show", ensemble, "--out", every_kind)
    assert shown.exit_code == 0 and "overrides: --set 'events[0].leakage={uniform: [0.0, 0.4]}'" in shown.stdout
    assert "3 runs (medians)" in shown.stdout
    (single,) = every_kind.glob("china_ban-s1-*")
    assert "overrides: none" in sim("show", single, "--out", every_kind).stdout
    older = tmp_path / single.name
    shutil.copytree(single, older)
    manifest = older / "manifest.json"
    manifest.write_text(edit(manifest, lambda d: d.pop("overrides")))
    shown = sim("show", older, "--out", tmp_path)
    assert shown.exit_code == 0 and "overrides: not recorded" in shown.stdout
