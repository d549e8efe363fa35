"""Self-contained HTML reports: one run (headline table, plots, resolved scenario, provenance) or a
comparison of several runs (each indicator side by side with differences, overlay plots, provenance).

One file, no external assets: it opens offline in any browser.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.results.runs import COMPARE_RUNS as COMPARE_RUNS  # re-exported: where compare.json is named
from sim.results.runs import RunError, find_run, load_run, read_comparison

COLUMNS = [
    ("cumulative_shortfall_share", "Shortfall, % of demand", 100, "{:.1f}"),
    ("peak_shortfall_share", "Worst month, % short", 100, "{:.1f}"),
    ("months_in_shortfall", "Months short", 1, "{:.0f}"),
    ("defence_shortfall_share", "Defence short, %", 100, "{:.1f}"),
    ("demand_priced_out_share", "Demand priced out, %", 100, "{:.1f}"),
    ("other_regions_shortfall_share_max", "Worst other region short, %", 100, "{:.1f}"),
    ("capacity_gap_t_per_yr_peak", "Capacity gap peak, t/yr", 1, "{:,.0f}"),
    ("price_us_peak_ratio", "US price, peak x", 1, "{:.2f}"),
    ("price_outside_peak_ratio", "Price outside, peak x", 1, "{:.2f}"),
    ("price_inside_min_ratio", "Price inside, low x", 1, "{:.2f}"),
    ("import_reliance_end", "Import reliance at end, %", 100, "{:.0f}"),
    ("funding_committed_usd", "Funding, USD m", 1e-6, "{:,.0f}"),
    ("capacity_built_t_per_yr", "Capacity built, t/yr", 1, "{:,.0f}"),
]
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{margin-bottom:.2em} .meta{color:#555} table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:.35em .6em;text-align:right} th:first-child,td:first-child{text-align:left}
th{background:#f4f6f8} tr.hot td{background:#fff3f0} img{max-width:100%;border:1px solid #eee;margin:.5em 0}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em} details{margin:1em 0}
"""


def html_page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
{body}
</body></html>
"""


def inside(folder: Path, name: str) -> Path:
    """`folder / name` if it resolves (links followed) to a file inside `folder`, else RunError: a stored
    file name never reaches outside its folder."""
    base = folder.resolve()
    path = (base / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base) or path == base:
        raise RunError(f"{folder}: the listed file '{name}' is outside the folder; it is not read")
    return path


def embedded_pngs(folder: Path, names: list[str]) -> str:
    """<img> tags with the PNGs in `folder` as data URLs (names that are not PNG files are skipped)."""
    tags = []
    for name in names:
        if not name.endswith(".png"):
            continue
        path = inside(folder, name)
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            tags.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
    return "".join(tags)


def _cell(value: Any, scale: float, fmt: str) -> str:
    if value is None:
        return "–"
    return fmt.format(value * scale)


def _region_table(minerals: dict[str, dict[str, Any]]) -> str:
    """Mineral x buyer region cumulative shortfall shares (the US's, then the summary's region keys)."""
    keys = [k for k in next(iter(minerals.values()), {}) if k.startswith("shortfall_share_")]
    if not keys:
        return "<p>(this run has no region figures)</p>"
    names = ["United States", *(k[len("shortfall_share_") :].replace("_", " ").title() for k in keys)]
    header = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    rows = []
    for mineral, values in minerals.items():
        cells = [values.get("cumulative_shortfall_share"), *(values.get(k) for k in keys)]
        rows.append(
            f"<tr><td>{html.escape(mineral)}</td>{''.join(f'<td>{_cell(v, 100, "{:.1f}")}</td>' for v in cells)}</tr>"
        )
    return f"<table><tr><th>Mineral</th>{header}</tr>{''.join(rows)}</table>"


def build_report(folder: Path) -> str:
    """HTML for the run stored in `folder` (manifest.json, summary.json and its PNG plots); RunError if
    they are not as sim writes them."""
    stored = load_run(folder)
    manifest, summary = stored.manifest.model_dump(), stored.summary
    minerals = stored.minerals
    esc = html.escape
    rows = []
    for mineral, values in minerals.items():
        hot = ' class="hot"' if values.get("cumulative_shortfall_share", 0) > 0.005 else ""
        cells = "".join(f"<td>{_cell(values.get(key), scale, fmt)}</td>" for key, _, scale, fmt in COLUMNS)
        rows.append(f"<tr{hot}><td>{esc(mineral)}</td>{cells}</tr>")
    header = "".join(f"<th>{esc(label)}</th>" for _, label, _, _ in COLUMNS)
    plots = embedded_pngs(folder, manifest.get("files", []))
    scenario = manifest.get("scenario_resolved", {})
    description = esc(str(scenario.get("description", "")).strip()) or "(no description)"
    kind = manifest.get("kind", "run")
    size = f"{manifest['runs']} runs (medians)" if kind == "ensemble" else f"seed {manifest.get('seed')}"
    resolved = esc(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))
    provenance = "".join(
        f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>"
        for k, v in (
            ("run id", folder.name if not folder.name.startswith(".tmp-") else folder.name[len(".tmp-") :]),
            ("label", manifest.get("label") or "(none)"),
            ("scenario files", ", ".join(manifest.get("scenario_files", []))),
            ("scenario hash (sha256)", manifest.get("scenario_hash")),
            ("seed", manifest.get("seed")),
            ("months", manifest.get("months")),
            ("created (UTC)", manifest.get("created_utc")),
            ("critical-minerals-sim", manifest.get("package_version")),
            ("python / mesa", f"{manifest.get('python')} / {manifest.get('mesa')}"),
            ("drawn inputs", json.dumps(manifest.get("distribution_draws") or {})),
        )
    )
    title = esc(manifest["scenario_name"])
    if manifest.get("label"):
        title = f"{esc(manifest['label'])} <small>({title})</small>"
    body = f"""<h1>{title}</h1>
<p class="meta">{size}, {esc(str(manifest.get("months")))} months from {esc(str(summary.get("start", "")))}.
Shortfall is US demand not met; the capacity gap is domestic processing capacity missing against what is
needed once restricted supply is gone; prices are against the 2024 baseline, outside and inside the
restricting countries.</p>
<p>{description}</p>
<h2>Headline by mineral</h2>
<table><tr><th>Mineral</th>{header}</tr>{"".join(rows)}</table>
<h2>Shortfall by buyer region, % of its demand</h2>
<p>No region is served first: contracts flow first, the rest clears by price, short supply is rationed
pro rata to requests weighted by the price each region pays (docs/model.md, "The world market").</p>
{_region_table(minerals)}
<h2>Plots</h2>
{plots or "<p>(this run was saved without plots)</p>"}
<h2>Provenance</h2>
<table>{provenance}</table>
<p>Every default figure in the world data carries its source and year (sim/world/data/*.csv); the model is
described in docs/model.md.</p>
<details><summary>The scenario as run (after <code>extends</code> and overrides)</summary>
<pre>{resolved}</pre></details>"""
    return html_page(f"{manifest['scenario_name']}: sim report", body)


def compare_csv(folder: Path, labels: list[str]) -> Any:
    """compare.csv as written by `sim compare` for these runs, or RunError saying what is wrong."""
    import pandas as pd

    try:
        table = pd.read_csv(folder / "compare.csv")
    except FileNotFoundError:
        raise RunError(f"{folder}: compare.csv is missing") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise RunError(f"{folder}: compare.csv cannot be read ({exc.__class__.__name__})") from None
    missing = [c for c in ("indicator", "mineral", "run", "value", "diff_from_first") if c not in table.columns]
    if missing:
        raise RunError(f"{folder}: compare.csv lacks the column {', '.join(missing)}")
    if set(table["run"].astype(str)) != set(labels):
        raise RunError(f"{folder}: compare.csv and compare.json do not name the same runs")
    if not all(pd.api.types.is_numeric_dtype(table[c]) for c in ("value", "diff_from_first")):
        raise RunError(f"{folder}: compare.csv holds values that are not numbers")
    return table


def build_compare_report(folder: Path) -> str:
    """HTML for a comparison stored in `folder` by `sim compare` (compare.json, compare.csv, overlays)."""
    from sim.results.compare import HEADLINE, format_value, wide

    esc = html.escape
    comparison = read_comparison(folder)
    document = comparison.model_dump()
    runs: list[dict[str, Any]] = document["runs"]
    labels = [run["label"] for run in runs]
    table = compare_csv(folder, labels)
    sections = []
    for indicator in dict.fromkeys(table["indicator"]):
        frame = wide(table, indicator, labels)
        # Minerals at zero in every run say one thing together, not a row each.
        zero = frame.fillna(0).abs().lt(1e-9).all(axis=1)
        header = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
        rows = "".join(
            f"<tr><td>{esc(str(mineral))}</td>"
            + "".join(f"<td>{format_value(v, indicator)}</td>" for v in row)
            + "</tr>"
            for mineral, row in frame[~zero].iterrows()
        )
        title = esc(HEADLINE.get(indicator, (indicator, 1.0))[0])
        zeros = ", ".join(esc(str(m)) for m in frame.index[zero])
        note = f'<p class="meta">0 in every run: {zeros}.</p>' if zeros else ""
        table_html = f"<table><tr><th>Mineral</th>{header}</tr>{rows}</table>" if rows else ""
        sections.append(f"<h3>{title}</h3>{table_html}{note}")
    fields = ("label", "source", "scenario", "scenario_hash", "seed", "months")
    provenance = "".join(
        "<tr>" + "".join(f"<td>{esc(str(run.get(k, '')))}</td>" for k in fields) + "</tr>" for run in runs
    )
    plots = embedded_pngs(folder, document.get("plots", []))
    body = f"""<h1>Comparison: {esc(" vs ".join(labels))}</h1>
<p class="meta">Each table gives every run's value, then each later run's difference (Δ) from the first,
{esc(labels[0])}. Shortfall is US demand not met; the capacity gap is domestic processing capacity missing
against what is needed once restricted supply is gone; prices are against the 2024 baseline.</p>
{"".join(sections)}
<h2>Over time</h2>
{plots or "<p>(no plots)</p>"}
<h2>Provenance</h2>
<table><tr>{"".join(f"<th>{f.replace('_', ' ')}</th>" for f in fields)}</tr>{provenance}</table>
<p class="meta">Written {esc(str(document.get("created_utc", "")))} by critical-minerals-sim
{esc(str(document.get("package_version", "")))}. A run's figures are rerun by its scenario (hash) and seed.</p>"""
    return html_page(f"Comparison: {' vs '.join(labels)}", body)


@dataclass(frozen=True)
class Report:
    name: str  # the run's id or the comparison folder's name
    text: str  # the whole HTML page


def report_of(run: str, root: Path) -> Report:
    """The report of a stored run (a folder, an id or a unique prefix of one under `root`) or of a compare
    folder; RunError, on one line, if it cannot be built."""
    try:
        compared = next((p for p in (Path(run), root / run) if (p / COMPARE_RUNS).is_file()), None)
        if compared is not None:
            return Report(Path(os.path.abspath(compared)).name, build_compare_report(compared))
        stored = find_run(run, root)
        return Report(stored.run_id, build_report(stored.path))
    except RunError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise RunError(f"{run}: cannot build a report ({exc.__class__.__name__}: {exc})") from None
