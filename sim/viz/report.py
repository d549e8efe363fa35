"""A self-contained HTML report of one run: headline table, plots embedded, resolved scenario, provenance.

One file, no external assets: it opens offline in any browser.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import yaml

COLUMNS = [
    ("cumulative_shortfall_share", "Shortfall, % of demand", 100, "{:.1f}"),
    ("peak_shortfall_share", "Worst month, % short", 100, "{:.1f}"),
    ("months_in_shortfall", "Months short", 1, "{:.0f}"),
    ("defence_shortfall_share", "Defence short, %", 100, "{:.1f}"),
    ("capacity_gap_t_per_yr_peak", "Capacity gap peak, t/yr", 1, "{:,.0f}"),
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


def _cell(value: Any, scale: float, fmt: str) -> str:
    if value is None:
        return "–"
    return fmt.format(value * scale)


def build_report(folder: Path) -> str:
    """HTML for the run stored in `folder` (manifest.json, summary.json and its PNG plots)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    minerals: dict[str, dict[str, Any]] = summary["minerals"]
    esc = html.escape
    rows = []
    for mineral, values in minerals.items():
        hot = ' class="hot"' if values.get("cumulative_shortfall_share", 0) > 0.005 else ""
        cells = "".join(f"<td>{_cell(values.get(key), scale, fmt)}</td>" for key, _, scale, fmt in COLUMNS)
        rows.append(f"<tr{hot}><td>{esc(mineral)}</td>{cells}</tr>")
    header = "".join(f"<th>{esc(label)}</th>" for _, label, _, _ in COLUMNS)
    plots = []
    for name in manifest.get("files", []):
        if name.endswith(".png") and (folder / name).is_file():
            data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
            plots.append(f'<img alt="{esc(name)}" src="data:image/png;base64,{data}">')
    scenario = manifest.get("scenario_resolved", {})
    description = esc(str(scenario.get("description", "")).strip()) or "(no description)"
    kind = manifest.get("kind", "run")
    size = f"{manifest['runs']} runs (medians)" if kind == "ensemble" else f"seed {manifest.get('seed')}"
    resolved = esc(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))
    provenance = "".join(
        f"<tr><td>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>"
        for k, v in (
            ("run id", manifest.get("run_id")),
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
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(manifest["scenario_name"])}: sim report</title>
<style>{STYLE}</style></head><body>
<h1>{esc(manifest["scenario_name"])}</h1>
<p class="meta">{size}, {esc(str(manifest.get("months")))} months from {esc(str(summary.get("start", "")))}.
Shortfall is US demand not met; the capacity gap is domestic processing capacity missing against what is
needed once restricted supply is gone; prices are against the 2024 baseline, outside and inside the
restricting countries.</p>
<p>{description}</p>
<h2>Headline by mineral</h2>
<table><tr><th>Mineral</th>{header}</tr>{"".join(rows)}</table>
<h2>Plots</h2>
{"".join(plots) or "<p>(this run was saved without plots)</p>"}
<h2>Provenance</h2>
<table>{provenance}</table>
<p>Every default figure in the world data carries its source and year (sim/world/data/*.csv); the model is
described in docs/model.md.</p>
<details><summary>The scenario as run (after <code>extends</code> and overrides)</summary>
<pre>{resolved}</pre></details>
</body></html>
"""
