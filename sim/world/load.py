"""Build the default World from the sourced CSV tables shipped as package data."""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sim.world.schema import World

TABLES = ("minerals", "supply", "plants", "sectors", "programmes", "power")


@dataclass(frozen=True)
class Provenance:
    """Where a default figure comes from: table, row key, field, source text and year."""

    table: str
    key: str
    field: str
    source: str
    year: int
    low: float | None = None  # a range, where the table gives one (assumptions and uncertain shares)
    high: float | None = None


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of one packaged table as dicts of strings."""
    text = resources.files("sim.world").joinpath("data", f"{name}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _number(text: str) -> float | int | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _bool(text: str) -> bool:
    return text.strip().lower() in {"true", "yes", "1"}


def default_world_dict() -> dict[str, Any]:
    """The default world as plain data, ready for scenario overrides to be merged in."""
    world, _ = _default_world_and_provenance()
    return copy.deepcopy(world)


def provenance() -> list[Provenance]:
    """Source and year of every default figure."""
    _, prov = _default_world_and_provenance()
    return list(prov)


@cache
def _default_world_and_provenance() -> tuple[dict[str, Any], tuple[Provenance, ...]]:
    prov: list[Provenance] = []
    minerals: dict[str, dict[str, Any]] = {}
    for row in read_table("minerals"):
        value: Any = row["value"] if row["parameter"] == "processed_form" else _number(row["value"])
        minerals.setdefault(row["mineral"], {})[row["parameter"]] = value
        prov.append(Provenance("minerals", row["mineral"], row["parameter"], row["source"], int(row["year"])))

    supply: dict[str, dict[str, Any]] = {}
    for row in read_table("supply"):
        supply.setdefault(row["country"], {})[row["mineral"]] = {
            "capacity_t_per_yr": float(row["capacity_t_per_yr"]),
            "output_t_per_yr": float(row["output_t_per_yr"]),
            "alignment": row["alignment"],
            "us_import_share": float(row["us_import_share"]),
        }
        prov.append(Provenance("supply", f"{row['country']}/{row['mineral']}", "*", row["source"], int(row["year"])))

    plants: dict[str, Any] = {}
    for row in read_table("plants"):
        plants[row["plant"]] = {
            "mineral": row["mineral"],
            "company": row["company"],
            "state": row["state"],
            "capacity_t_per_yr": float(row["capacity_t_per_yr"]),
            "status": row["status"],
            "electricity_mwh_per_t": float(row["electricity_mwh_per_t"]),
            "other_cost_usd_per_t": float(row["other_cost_usd_per_t"]),
            "feedstock_country": row["feedstock_country"],
            "hedged_power_share": float(row["hedged_power_share"]),
        }
        prov.append(Provenance("plants", row["plant"], "*", row["source"], int(row["year"])))

    sectors: dict[str, dict[str, Any]] = {}
    for row in read_table("sectors"):
        sectors.setdefault(row["mineral"], {})[row["sector"]] = {
            "share": float(row["share"]),
            "priority": int(row["priority"]),
        }
        prov.append(Provenance("sectors", f"{row['mineral']}/{row['sector']}", "*", row["source"], int(row["year"])))

    programmes: dict[str, Any] = {}
    for row in read_table("programmes"):
        listed = row["minerals"].strip()
        programmes[row["programme"]] = {
            "agency": row["agency"],
            "instrument": row["instrument"],
            "annual_budget_usd": float(row["annual_budget_usd"]),
            "carryover": _bool(row["carryover"]),
            "success_rate": float(row["success_rate"]),
            "minerals": "all" if listed == "all" else [m.strip() for m in listed.split(";") if m.strip()],
        }
        prov.append(Provenance("programmes", row["programme"], "*", row["source"], int(row["year"])))

    power_rows = {row["parameter"]: row for row in read_table("power")}
    power = {key: float(power_rows[key]["value"]) for key in ("baseline_usd_per_mwh", "trend_per_yr")}
    for key in power:
        prov.append(Provenance("power", key, "value", power_rows[key]["source"], int(power_rows[key]["year"])))

    for row in read_table("stockpile_plan"):
        minerals[row["mineral"]]["stockpile_buy_t_per_yr"] = float(row["potential_acquisitions_t_per_yr"])
        prov.append(Provenance("stockpile_plan", row["mineral"], "*", row["source"], int(row["year"])))

    regions, region_prov = _regions()
    prov.extend(region_prov)
    sanctions: dict[str, Any] = {}
    for row in read_table("sanctions"):
        if row["importer"] != "United States":
            continue  # the model applies US measures only
        listed = row["minerals"].strip()
        named = "all" if listed == "all" else [m.strip() for m in listed.split(";") if m.strip()]
        before = sanctions.get(row["exporter"], [])
        sanctions[row["exporter"]] = "all" if "all" in (named, before) else [*before, *named]
        prov.append(Provenance("sanctions", row["exporter"], row["minerals"], row["source"], int(row["year"])))
    contracts: dict[str, Any] = {}
    for row in read_table("contracts"):
        by_mineral = contracts.setdefault(row["region"], {}).setdefault(row["mineral"], {})
        by_mineral[row["supplier"]] = float(row["share"])
        key = f"{row['region']}/{row['mineral']}/{row['supplier']}"
        prov.append(Provenance("contracts", key, "share", row["source"], int(row["year"])))

    world = {
        "minerals": minerals,
        "supply": supply,
        "plants": plants,
        "sectors": sectors,
        "programmes": programmes,
        "power": power,
        "regions": regions,
        "sanctions": sanctions,
        "contracts": contracts,
    }
    World.model_validate(world)  # the shipped data must be valid on its own
    return world, tuple(prov)


def _regions() -> tuple[dict[str, Any], list[Provenance]]:
    """Buyer regions from three tables: behaviour (region_params), demand shares (regions) and the supplier
    countries whose home market each region is (country_regions)."""
    prov: list[Provenance] = []
    regions: dict[str, dict[str, Any]] = {}
    for row in read_table("region_params"):
        region = regions.setdefault(row["region"], {"demand_share": {}, "countries": []})
        region[row["parameter"]] = float(row["value"])
        prov.append(_ranged("region_params", row["region"], row["parameter"], row))
    for row in read_table("regions"):
        regions[row["region"]]["demand_share"][row["mineral"]] = float(row["demand_share"])
        prov.append(_ranged("regions", f"{row['region']}/{row['mineral']}", "demand_share", row))
    for row in read_table("country_regions"):
        regions[row["region"]]["countries"].append(row["country"])
        prov.append(Provenance("country_regions", row["country"], "region", row["source"], int(row["year"])))
    return regions, prov


def _ranged(table: str, key: str, field: str, row: dict[str, str]) -> Provenance:
    low, high = (float(row[k]) if row.get(k, "").strip() else None for k in ("low", "high"))
    return Provenance(table, key, field, row["source"], int(row["year"]), low, high)


def default_world() -> World:
    return World.model_validate(default_world_dict())
