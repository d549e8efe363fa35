"""Self-contained HTML reports: one run (headline table, pictures, resolved scenario, provenance) or a
comparison of several runs (each indicator side by side with differences, overlay plots, provenance).

One file, no external assets: it opens offline in any browser. The pages are jinja2 templates
(sim/viz/templates, autoescaped); this module gathers what they show.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from sim.results.runs import COMPARE_RUNS as COMPARE_RUNS  # re-exported: where compare.json is named
from sim.results.runs import RunError, find_run, load_run, read_comparison
from sim.results.summary import CAP_MARK, PEAK_MARKETS, SHORT_SHARE, at_price_cap, price_cap_note, region_key

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
# What each picture of a run shows, under it in the report (sim/viz/plots.py writes them).
CAPTIONS = {
    "shortfall.png": "US demand not met, by mineral; grey bands: the scenario's events in force.",
    "capacity_vs_need.png": "Domestic processing capacity (operating, and being built with federal money) "
    "against the need once restricted supply is gone; where the black line rises above the areas is the "
    "capacity gap. The minerals with the largest gap peak as a share of demand (the table's) are drawn; "
    "the note names the others.",
    "prices.png": "Prices against the 2024 baseline, outside and inside the restricting countries and as "
    "paid by US buyers (with duties).",
    "shortfall_by_sector.png": "Shortfall by US sector for the minerals short the most; sectors short "
    "alike share a line (they are served pro rata at the same priority), defence is served first.",
    "utilisation.png": "US plants' output as a share of their standing capacity; below 100 % they are "
    "curtailed (running at a loss), idle, ramping up or short of feed.",
    "imports_sankey.png": "US imports of one mineral over one year: from each exporter, by route, to the "
    "United States (the mineral most imported by other routes than direct, in the first year of the first "
    "export restriction).",
}


@cache
def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sim.viz", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(template: str, **context: Any) -> str:
    """A page from sim/viz/templates (everything inserted is escaped)."""
    return templates().get_template(template).render(**context)


def inside(folder: Path, name: str) -> Path:
    """`folder / name` if it resolves (links followed) to a file inside `folder`, else RunError: a stored
    file name never reaches outside its folder."""
    base = folder.resolve()
    path = (base / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(base) or path == base:
        raise RunError(f"{folder}: the listed file '{name}' is outside the folder; it is not read")
    return path


@dataclass(frozen=True)
class Image:
    name: str
    src: str  # a data URL
    width: int  # px, from the PNG's header: the page shows it at this size
    height: int
    caption: str = ""


def embedded_pngs(folder: Path, names: list[str], captions: dict[str, str] | None = None) -> list[Image]:
    """The PNGs in `folder` named in `names` as data URLs with their native size (names that are not PNG
    files are skipped)."""
    images = []
    for name in names:
        if not name.endswith(".png"):
            continue
        path = inside(folder, name)
        if path.is_file():
            data = path.read_bytes()
            width, height = struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else (0, 0)
            src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            images.append(Image(name, src, width, height, (captions or {}).get(name, "")))
    return images


def _cell(value: Any, scale: float, fmt: str) -> str:
    if value is None:
        return "–"
    return fmt.format(value * scale)


def _headline_cell(values: dict[str, Any], key: str, scale: float, fmt: str, spread: dict[str, Any]) -> str:
    """A headline figure; a price peak that is the model's price cap carries the cap's mark; an ensemble's
    median is followed by its p5-p95 band (`spread`: the indicator's percentiles over runs)."""
    text = _cell(values.get(key), scale, fmt)
    market = PEAK_MARKETS.get(key)
    if market and at_price_cap(values, market):
        text += CAP_MARK
    if band := spread.get(key):
        text += f" [{_cell(band['p5'], scale, fmt)}–{_cell(band['p95'], scale, fmt)}]"
    return text


def region_names() -> dict[str, str]:
    """Summary key -> the buyer region's name as the world data spell it ("EU", not "Eu")."""
    from sim.world.load import default_world_dict

    return {region_key(region): region for region in default_world_dict()["regions"]}


def _region_table(minerals: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Mineral x buyer region cumulative shortfall shares (the US's, then the summary's region keys)."""
    keys = [k for k in next(iter(minerals.values()), {}) if k.startswith("shortfall_share_")]
    if not keys:
        return None
    known = region_names()
    names = ["United States", *(known.get(k, k[len("shortfall_share_") :].replace("_", " ")) for k in keys)]
    rows = [
        [
            mineral,
            *(_cell(v, 100, "{:.1f}") for v in (values.get("cumulative_shortfall_share"), *map(values.get, keys))),
        ]
        for mineral, values in minerals.items()
    ]
    return {"header": ["Mineral", *names], "rows": rows}


def picture_notes(minerals: dict[str, dict[str, Any]], files: list[str]) -> list[str]:
    """What the pictures leave out because there is nothing to draw."""
    if not any(name.endswith(".png") for name in files):
        return []
    notes = []
    if "shortfall.png" not in files and all(not v.get("peak_shortfall_share") for v in minerals.values()):
        notes.append("No mineral was short in the US in any month, so there is no shortfall picture.")
    if "capacity_vs_need.png" not in files and all(not v.get("capacity_gap_t_per_yr_peak") for v in minerals.values()):
        notes.append("Domestic capacity met the need throughout, so there is no capacity picture.")
    return notes


def build_report(folder: Path, pending: Collection[str] = ()) -> str:
    """HTML for the run stored in `folder` (manifest.json, summary.json and its PNG plots); RunError if
    they are not as sim writes them. `pending`: listed files not written yet (the report itself, on save)."""
    stored = load_run(folder, pending)
    manifest, summary = stored.manifest.model_dump(), stored.summary
    minerals = stored.minerals
    files = manifest.get("files", [])
    scenario = manifest.get("scenario_resolved", {})
    kind = manifest.get("kind", "run")
    run_id = folder.name if not folder.name.startswith(".tmp-") else folder.name[len(".tmp-") :]
    spread = summary.get("spread", {}) if kind == "ensemble" else {}  # an ensemble's percentiles over runs
    provenance = [
        ("run id", run_id),
        ("label", manifest.get("label") or "(none)"),
        ("overrides", stored.overrides_text),
        ("scenario files", ", ".join(manifest.get("scenario_files", []))),
        ("scenario hash (sha256)", manifest.get("scenario_hash")),
        ("seed", manifest.get("seed")),
        ("months", manifest.get("months")),
        ("created (UTC)", manifest.get("created_utc")),
        ("critical-minerals-sim", manifest.get("package_version")),
        ("python / mesa", f"{manifest.get('python')} / {manifest.get('mesa')}"),
        ("drawn inputs", json.dumps(manifest.get("distribution_draws") or {})),
    ]
    return render(
        "run.html.j2",
        title=f"{manifest['scenario_name']}: sim report",
        label=manifest.get("label") or "",
        scenario_name=manifest["scenario_name"],
        size=f"{manifest['runs']} runs (medians [p5–p95])" if kind == "ensemble" else f"seed {manifest.get('seed')}",
        months=manifest.get("months"),
        start=summary.get("start") or scenario.get("start", ""),  # older ensembles kept it in the scenario only
        description=str(scenario.get("description", "")).strip(),
        headline={
            "header": ["Mineral", *(label for _, label, _, _ in COLUMNS)],
            "rows": [
                [
                    mineral,
                    *(
                        _headline_cell(values, key, scale, fmt, spread.get(mineral, {}))
                        for key, _, scale, fmt in COLUMNS
                    ),
                ]
                for mineral, values in minerals.items()
            ],
            "note": price_cap_note(
                minerals, " in the median run" if kind == "ensemble" else "", summary.get("price_cap_ratio")
            ),
            "hot": [
                k
                for k, values in enumerate(minerals.values())
                if values.get("cumulative_shortfall_share", 0) > SHORT_SHARE
            ],
        },
        regions=_region_table(minerals),
        notes=picture_notes(minerals, files),
        images=embedded_pngs(folder, files, CAPTIONS),
        provenance=[(str(k), str(v)) for k, v in provenance],
        resolved=yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True),
    )


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
    from sim.results.compare import HEADLINE, compare_cap_note, periods_note, shown, wide

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
        text = shown(table, indicator, labels)
        sections.append(
            {
                "title": HEADLINE.get(indicator, (indicator, 1.0))[0],
                "header": ["Mineral", *(str(c) for c in frame.columns)],
                "rows": [[str(mineral), *row] for mineral, row in text[~zero].iterrows()],
                "zeros": [str(m) for m in frame.index[zero]],
                "cap_note": compare_cap_note(table[table["indicator"] == indicator]),
            }
        )
    fields = ("label", "source", "scenario", "scenario_hash", "seed", "months", "first_month", "last_month")
    return render(
        "compare.html.j2",
        title=f"Comparison: {' vs '.join(labels)}",
        labels=labels,
        note=periods_note(runs),
        sections=sections,
        images=embedded_pngs(folder, document.get("plots", [])),
        provenance={
            "header": [f.replace("_", " ") for f in fields],
            "rows": [[str(run.get(k, "")) for k in fields] for run in runs],
        },
        created=str(document.get("created_utc", "")),
        version=str(document.get("package_version", "")),
    )


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
