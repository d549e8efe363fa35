"""Keep a world coherent after some of its figures were drawn from their ranges.

Drawn one at a time, shares that must sum to one would not, and a capacity could fall below output. So
after a draw each group with a drawn member is rescaled to sum to one (the drawn member included: its
range says how uncertain it is relative to the others); a drawn output carries its capacity at the row's
default utilisation (capacity is output/0.85 by assumption in most rows), and no capacity ends below
output. Figures a user writes down are never touched: they are validated as written.
"""

from __future__ import annotations

from typing import Any

US = "United States"
PathKey = tuple[str | int, ...]


def make_coherent(world: dict[str, Any], drawn: set[PathKey], default: dict[str, Any]) -> None:
    """Rescale share groups with a drawn member and keep drawn supply and mine rows' capacity with their output, in
    place. `drawn` holds paths into `world` (without the leading "world"); `default` is the default world."""
    for path in sorted(drawn, key=lambda p: p[-1] != "output_t_per_yr"):  # outputs first: they move capacity
        kind = path[0] if path else None
        if kind == "sectors" and len(path) == 4:  # sectors.<mineral>.<sector>.share
            _rescale([row for row in world["sectors"][path[1]].values()], "share")
        elif kind == "supply" and path[-1] == "us_import_share":  # supply.<country>.<mineral>.us_import_share
            mineral = path[2]
            _rescale([rows[mineral] for rows in world["supply"].values() if mineral in rows], "us_import_share")
        elif kind in ("supply", "mines") and path[-1] in ("capacity_t_per_yr", "output_t_per_yr"):
            # supply.<country>.<mineral>.* and mines.<mineral>.<country>.*: a row with output and capacity
            row = world[kind][path[1]][path[2]]
            was = default[kind].get(path[1], {}).get(path[2])
            capacity_drawn = (*path[:3], "capacity_t_per_yr") in drawn
            if path[-1] == "output_t_per_yr" and not capacity_drawn and was and was["output_t_per_yr"] > 0:
                row["capacity_t_per_yr"] = row["output_t_per_yr"] * was["capacity_t_per_yr"] / was["output_t_per_yr"]
            row["capacity_t_per_yr"] = max(row["capacity_t_per_yr"], row["output_t_per_yr"])
        elif kind == "regions" and len(path) == 4 and path[2] == "demand_share":  # regions.<r>.demand_share.<m>
            mineral = path[3]
            shares = [r["demand_share"] for name, r in world["regions"].items() if name != US]
            total = sum(s.get(mineral, 0.0) for s in shares)
            for s in shares if total > 0 else []:
                if mineral in s:
                    s[mineral] /= total
        elif kind == "contracts" and len(path) == 4:  # contracts.<region>.<mineral>.<supplier>: at most 1
            shares = world["contracts"][path[1]][path[2]]
            total = sum(shares.values())
            if total > 1:
                for supplier in shares:
                    shares[supplier] /= total


def _rescale(rows: list[dict[str, Any]], field: str) -> None:
    total = sum(row[field] for row in rows)
    if total > 0:
        for row in rows:
            row[field] /= total
