"""Build the default World from the sourced CSV tables shipped as package data."""

from __future__ import annotations

import copy
import csv
import dataclasses
import types
import typing
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from sim.world.schema import MarketParams, World

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


def mineral_order() -> tuple[str, ...]:
    """The default world's minerals in the order of its tables: the one order of every table and plot."""
    world, _ = _default_world_and_provenance()
    return tuple(world["minerals"])


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
            "feed_stage": row["feed_stage"],
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

    byproducts: dict[str, Any] = {}
    for row in read_table("byproducts"):
        capex, potential = row["recovery_capex_usd_per_tpy"].strip(), row["potential_t_per_yr"].strip()
        byproducts.setdefault(row["mineral"], {}).setdefault(row["country"], {})[row["host"]] = {
            "host_mineral": row["host_mineral"].strip() or None,
            "share_of_capacity": float(row["share_of_capacity"]),
            "potential_t_per_yr": float(potential) if potential else None,
            "recovery_capex_usd_per_tpy": float(capex) if capex else None,
        }
        key = f"{row['mineral']}/{row['country']}/{row['host']}"
        prov.append(Provenance("byproducts", key, "*", row["source"], int(row["year"])))

    mines: dict[str, Any] = {}
    for row in read_table("mines"):
        mines.setdefault(row["mineral"], {})[row["country"]] = {
            "output_t_per_yr": float(row["output_t_per_yr"]),
            "capacity_t_per_yr": float(row["capacity_t_per_yr"]),
        }
        prov.append(Provenance("mines", f"{row['mineral']}/{row['country']}", "*", row["source"], int(row["year"])))
    routes: dict[str, Any] = {}
    for row in read_table("feed_routes"):
        by_origin = routes.setdefault(row["mineral"], {}).setdefault(row["from_country"], {})
        by_origin[row["to_country"]] = float(row["share"])
        key = f"{row['mineral']}/{row['from_country']}/{row['to_country']}"
        prov.append(Provenance("feed_routes", key, "share", row["source"], int(row["year"])))

    inputs: dict[str, Any] = {}
    for row in read_table("product_inputs"):
        inputs.setdefault(row["product"], {})[row["input"]] = float(row["t_per_t"])
        prov.append(_ranged("product_inputs", f"{row['product']}/{row['input']}", "t_per_t", row))

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
        "byproducts": byproducts,
        "mines": mines,
        "feed_routes": routes,
        "product_inputs": inputs,
    }
    World.model_validate(world)  # the shipped data must be valid on its own
    return world, tuple(_with_ranges(prov))


def _with_ranges(prov: list[Provenance]) -> list[Provenance]:
    """Fill low/high of the one-figure-per-row provenance (minerals, power) from ranges.csv."""
    by_path = {row["path"]: row for row in read_table("ranges")}
    out = []
    for item in prov:
        path = {"minerals": f"minerals.{item.key}.{item.field}", "power": f"power.{item.key}"}.get(item.table)
        row = by_path.get(path) if path else None
        out.append(dataclasses.replace(item, low=float(row["low"]), high=float(row["high"])) if row else item)
    return out


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


@dataclass(frozen=True)
class Range:
    """An uncertain default figure: its path in the world (as a scenario override writes it after `world.`),
    its default value and a low-high range, with the reason for the range and the year of its source or of
    the judgement. `integer`: the field takes whole numbers only, and so do low and high."""

    path: tuple[str, ...]
    default: float
    low: float
    high: float
    reason: str
    year: int
    integer: bool

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def world_ranges() -> list[Range]:
    """Every range on the default world: ranges.csv (assumption figures of the tables and the behavioural
    parameters of `world.market`), and the ranges that regions.csv and region_params.csv carry in their
    `low`, `high` columns. Raises ValueError naming the row if a path does not lead to a number of the
    default world or a range does not hold its default."""
    return list(_world_ranges())


@cache
def _world_ranges() -> tuple[Range, ...]:
    world = default_world_dict()
    world["market"] = MarketParams().model_dump()
    rows: list[tuple[str, str, str, str, str, str]] = []  # where, path, low, high, reason, year
    for i, row in enumerate(read_table("ranges"), start=2):
        rows.append((f"ranges.csv line {i}", row["path"], row["low"], row["high"], row["reason"], row["year"]))
    for i, row in enumerate(read_table("region_params"), start=2):
        if row.get("low", "").strip() or row.get("high", "").strip():
            path = f"regions.{row['region']}.{row['parameter']}"
            rows.append((f"region_params.csv line {i}", path, row["low"], row["high"], row["source"], row["year"]))
    for i, row in enumerate(read_table("regions"), start=2):
        if row.get("low", "").strip() or row.get("high", "").strip():
            path = f"regions.{row['region']}.demand_share.{row['mineral']}"
            rows.append((f"regions.csv line {i}", path, row["low"], row["high"], row["source"], row["year"]))
    for i, row in enumerate(read_table("product_inputs"), start=2):
        path = f"product_inputs.{row['product']}.{row['input']}"
        rows.append((f"product_inputs.csv line {i}", path, row["low"], row["high"], row["source"], row["year"]))
    ranges: list[Range] = []
    seen: set[str] = set()
    for where, dotted, low_text, high_text, reason, year in rows:
        path = tuple(dotted.split("."))
        if dotted in seen:
            raise ValueError(f"{where}: '{dotted}' has a range already")
        seen.add(dotted)
        default = _resolve(world, path, where)
        integer = _field_annotation(path, where) is int
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise ValueError(f"{where}: low '{low_text}', high '{high_text}' of '{dotted}': not numbers") from None
        if not low <= default <= high:
            raise ValueError(f"{where}: '{dotted}' range {low:g}-{high:g} does not hold its default {default:g}")
        if integer and not (low.is_integer() and high.is_integer()):
            raise ValueError(f"{where}: '{dotted}' is a whole number; its range {low:g}-{high:g} must be too")
        if not reason.strip() or not year.strip().isdigit():
            raise ValueError(f"{where}: '{dotted}' needs a reason and a year")
        ranges.append(Range(path, default, low, high, reason.strip(), int(year), integer))
    return tuple(ranges)


def _resolve(world: dict[str, Any], path: tuple[str, ...], where: str) -> float:
    node: Any = world
    for depth, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "nothing: a value"
            raise ValueError(
                f"{where}: '{'.'.join(path)}' does not resolve: no '{key}' under "
                f"'{'.'.join(path[:depth]) or 'world'}' (there: {known})"
            )
        node = node[key]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ValueError(f"{where}: '{'.'.join(path)}' is {node!r}, not a number")
    return float(node)


def _field_annotation(path: tuple[str, ...], where: str) -> Any:
    """The schema's type of the field a path ends on (the World model walked key by key)."""
    model: Any = World
    for key in path:
        if isinstance(model, type) and issubclass(model, BaseModel):
            if key not in model.model_fields:
                raise ValueError(f"{where}: '{'.'.join(path)}': no field '{key}' in {model.__name__}")
            model = model.model_fields[key].annotation
        elif typing.get_origin(model) is dict:
            model = typing.get_args(model)[1]
        else:
            raise ValueError(f"{where}: '{'.'.join(path)}' goes past a value")
        if typing.get_origin(model) in (typing.Union, types.UnionType):  # e.g. list[str] | Literal["all"]
            model = next(arg for arg in typing.get_args(model) if arg is not type(None))
        if typing.get_origin(model) is typing.Annotated:
            model = typing.get_args(model)[0]
    return model
