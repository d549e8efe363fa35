"""The dashboard's levers: a few plain settings turned into scenario events on top of a loaded scenario.

Kept apart from the dashboard (no solara here) so that what a lever does is tested like any scenario:
the result is an ordinary ResolvedScenario, validated by the same loader as a file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.scenario.load import ResolvedScenario, validate_raw
from sim.scenario.schema import month_label

NONE = "none"
ALL = "all"
LEVER_START_MONTH = 3  # levers' own events start in the 4th month: a quarter of normal trade first
GRANTS_PROGRAMME = "dashboard_grants"
REST_OF_WORLD = "Rest of world"
US = "United States"
BAN_DESTINATIONS = (US, ALL)  # a residual row of the world data, not a country that can ban anything
# Levers are menus of round values, not sliders: a menu always shows its value, and a workshop guide
# can say "set leakage to 0.3" and be followed exactly.
LEAKAGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
POWER_MULTIPLIERS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
POWER_MONTHS = (3, 6, 12, 24, 36, 60)
GRANTS_MUSD = (0, 100, 250, 500, 1000, 2000)


@dataclass(frozen=True)
class Levers:
    """What a workshop participant can change. Defaults leave the scenario as it is."""

    lift: str = NONE  # "none", "all", or "<exporter>: <mineral>": a restriction of the scenario lifted
    ban_exporter: str = NONE  # a new ban on exports from this country ...
    ban_mineral: str = ALL  # ... of this mineral (or every mineral it produces) ...
    ban_destinations: str = US  # ... to the US only, or to every destination ("all")
    leakage: float | None = None  # share of lost flow leaking via third countries, every restriction (None: as is)
    power_multiplier: float = 1.0  # US industrial power price x this, for `power_months`
    power_months: int = 12
    grants_musd_per_yr: float = 0.0  # a new federal grant programme for domestic processing, USD m/yr
    stockpile_release: bool | None = None  # the stockpile releases into shortfalls (None: as the scenario)


@dataclass(frozen=True)
class LeverMenu:
    """One lever as the dashboard offers it: a menu of values (or a tick box when `values` is empty)."""

    name: str  # the Levers field (and DashboardModel keyword) it sets
    label: str
    default: Any  # where it starts: the scenario as written
    values: tuple[Any, ...] = ()


def lever_menus(resolved: ResolvedScenario) -> list[LeverMenu]:
    """The levers for a scenario, each starting where the scenario is."""
    pairs = restriction_pairs(resolved)
    leakage = scenario_leakage(resolved)
    return [
        LeverMenu("lift", "Lift a restriction of the scenario", NONE, (NONE, *pairs, *([ALL] if pairs else []))),
        LeverMenu("ban_exporter", "New ban on exports by", NONE, (NONE, *exporters(resolved))),
        LeverMenu("ban_mineral", "... of mineral", ALL, (ALL, *resolved.world.minerals)),
        LeverMenu("ban_destinations", "... to", BAN_DESTINATIONS[0], BAN_DESTINATIONS),
        LeverMenu("leakage", "Leakage through third countries", leakage, tuple(sorted({*LEAKAGES, leakage}))),
        LeverMenu("power_multiplier", "Power price shock, x (from month 4)", 1.0, POWER_MULTIPLIERS),
        LeverMenu("power_months", "... lasting months", 12, POWER_MONTHS),
        LeverMenu("grants_musd_per_yr", "New processing grants, USD m a year", 0, GRANTS_MUSD),
        LeverMenu("stockpile_release", "Stockpile released in a shortfall",
                  resolved.scenario.policies.stockpile_release_in_shortfall),
    ]  # fmt: skip


def levers_from(resolved: ResolvedScenario, values: dict[str, Any]) -> Levers:
    """Levers from menu values (LeverMenu.name -> value; missing ones at their defaults). A lever left where
    the scenario is changes nothing: leakage at the scenario's value keeps each restriction's own leakage,
    and the stockpile box as the scenario has it keeps the scenario's policy."""
    levers = Levers(**values)
    if levers.leakage is not None and np.isclose(levers.leakage, scenario_leakage(resolved)):
        levers = replace(levers, leakage=None)
    if levers.stockpile_release == resolved.scenario.policies.stockpile_release_in_shortfall:
        levers = replace(levers, stockpile_release=None)
    return levers


def describe_levers(resolved: ResolvedScenario, levers: Levers) -> str:
    """The levers moved, in words ("no lever moved" when none is)."""
    parts = []
    if levers.lift != NONE:
        parts.append(f"lifted: {levers.lift}")
    if levers.ban_exporter != NONE:
        banned = banned_minerals(resolved, levers)
        what = ", ".join(banned) if banned else f"nothing ({levers.ban_exporter} produces no {levers.ban_mineral})"
        parts.append(f"new ban by {levers.ban_exporter} to {levers.ban_destinations}: {what}")
    if levers.leakage is not None:
        parts.append(f"leakage {levers.leakage:.2f}")
    if levers.power_multiplier != 1.0:
        parts.append(f"power x{levers.power_multiplier:.2g} for {levers.power_months} months")
    if levers.grants_musd_per_yr:
        parts.append(f"grants USD {levers.grants_musd_per_yr:,.0f} m/yr")
    if levers.stockpile_release is not None:
        parts.append(f"stockpile release {'on' if levers.stockpile_release else 'off'}")
    return "; ".join(parts) if parts else "no lever moved"


def restriction_pairs(resolved: ResolvedScenario) -> list[str]:
    """'<exporter>: <mineral>' for every export restriction of the scenario, in order."""
    pairs = []
    for event in resolved.scenario.events:
        if event.type == "export_restriction":
            pairs += [f"{event.exporter}: {mineral}" for mineral in event.minerals]
    return list(dict.fromkeys(pairs))


def exporters(resolved: ResolvedScenario) -> list[str]:
    """Countries that export some mineral to the US in the world data (a ban on them matters)."""
    return sorted(
        country
        for country, rows in resolved.world.supply.items()
        if country != REST_OF_WORLD and any(row.us_import_share > 0 for row in rows.values())
    )


def banned_minerals(resolved: ResolvedScenario, levers: Levers) -> list[str]:
    """The minerals the new-ban lever bans: those asked for that the exporter produces (maybe none)."""
    if levers.ban_exporter == NONE:
        return []
    produced = resolved.world.supply[levers.ban_exporter]
    return list(produced) if levers.ban_mineral == ALL else [m for m in [levers.ban_mineral] if m in produced]


def scenario_leakage(resolved: ResolvedScenario) -> float:
    """The leakage of the scenario's first restriction (0.1 when it has none): where the lever starts."""
    for event in resolved.scenario.events:
        if event.type == "export_restriction":
            return event.leakage
    return 0.1


def apply_levers(resolved: ResolvedScenario, levers: Levers) -> ResolvedScenario:
    """The scenario with the levers' changes, validated as a scenario file would be."""
    raw: dict[str, Any] = copy.deepcopy(resolved.raw)
    start = resolved.scenario.start
    lever_start = month_label(start, LEVER_START_MONTH)
    events = [_without_lifted(event, levers.lift) for event in raw.get("events", [])]
    events = [event for event in events if event is not None]
    minerals = banned_minerals(resolved, levers)
    if minerals:
        events.append(
            {
                "type": "export_restriction",
                "exporter": levers.ban_exporter,
                "minerals": minerals,
                "kind": "ban",
                "destinations": [levers.ban_destinations],
                "start": lever_start,
                "leakage": scenario_leakage(resolved) if levers.leakage is None else float(levers.leakage),
            }
        )
    if levers.leakage is not None:
        for event in events:
            if event["type"] == "export_restriction":
                event["leakage"] = float(levers.leakage)
    if levers.power_multiplier != 1.0:
        events.append(
            {
                "type": "power_price_shock",
                "multiplier": float(levers.power_multiplier),
                "start": lever_start,
                "months": int(levers.power_months),
            }
        )
    if levers.grants_musd_per_yr > 0:
        events.append(
            {
                "type": "funding_programme",
                "name": GRANTS_PROGRAMME,
                "instrument": "grant",
                "annual_budget_usd": float(levers.grants_musd_per_yr) * 1e6,
                "start": start,
            }
        )
    raw["events"] = events
    if levers.stockpile_release is not None:
        raw.setdefault("policies", {})["stockpile_release_in_shortfall"] = bool(levers.stockpile_release)
    return validate_raw(raw, {}, resolved.files)


def _without_lifted(event: dict[str, Any], lift: str) -> dict[str, Any] | None:
    """The event (of a copied scenario) less the lifted restriction; None when nothing of it is left."""
    if event.get("type") != "export_restriction" or lift == NONE:
        return event
    if lift == ALL:
        return None
    exporter, _, mineral = lift.partition(": ")
    if event.get("exporter") != exporter:
        return event
    event["minerals"] = [m for m in event.get("minerals", []) if m != mineral]
    return event if event["minerals"] else None
