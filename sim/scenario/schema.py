"""Scenario files: the pydantic schema, the one source of truth (exported as JSON Schema).

Months are written `YYYY-MM`. Quantities are t/yr of the processed product unless named otherwise.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.world.schema import TONNES, USD

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # use fullmatch: `$` lets a final newline through
US = "United States"


def month_index(month: str, start: str) -> int:
    """Months from `start` to `month` (both YYYY-MM)."""
    y, m = (int(x) for x in month.split("-"))
    y0, m0 = (int(x) for x in start.split("-"))
    return (y - y0) * 12 + (m - m0)


def month_label(start: str, offset: int) -> str:
    y0, m0 = (int(x) for x in start.split("-"))
    total = y0 * 12 + (m0 - 1) + offset
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _check_month(value: Any) -> str:
    text = str(value)
    if not MONTH_PATTERN.match(text):
        raise ValueError(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2026-03")
    return text


Month = Annotated[str, Field(description="a month, YYYY-MM")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # bounds on every number: see world.schema


class TimedEvent(Strict):
    start: Month
    months: int | None = Field(None, ge=1, le=1200, description="duration; omitted = to the horizon")

    _check_start = field_validator("start", mode="before")(_check_month)


class ExportRestriction(TimedEvent):
    """An exporter restricts exports of minerals to some buyer regions, or to all (MODEL.md §2)."""

    type: Literal["export_restriction"]
    exporter: str
    minerals: list[str] = Field(min_length=1)
    destinations: list[str] = Field(
        default_factory=lambda: [US],
        min_length=1,
        description="buyer regions (United States, China, EU, Japan and Korea, India, Rest of world), or [all]",
    )
    kind: Literal["ban", "quota", "licensing"]
    leakage: float = Field(
        0.0,
        ge=0,
        le=1,
        description="enforcement cap: the largest share of the blocked flow that leaks through transit countries "
        "(reached when the outside price exceeds the inside one by leak_markup + leak_full_gap)",
    )
    transit: list[str] = Field(
        default_factory=lambda: ["third countries"], description="names of the countries leaked material goes through"
    )
    leak_delay_months: int = Field(3, ge=0, le=24)
    leak_markup: float = Field(0.2, ge=0, le=10, description="price mark-up on leaked material")
    quota_share: float | None = Field(None, ge=0, le=1, description="quota: share of the flow still allowed")
    licence_delay_months: int = Field(2, ge=0, le=24, description="licensing: months approved exports wait")
    refused_share: float = Field(0.0, ge=0, le=1, description="licensing: share of applications refused")
    stages: list[Literal["mine", "processing"]] = Field(
        default_factory=lambda: ["processing"],
        min_length=1,
        description="what it covers: ore and concentrate (mine), refined products (processing), or both",
    )

    @model_validator(mode="after")
    def _quota_needs_share(self) -> ExportRestriction:
        if self.kind == "quota" and self.quota_share is None:
            raise ValueError("kind 'quota' needs quota_share (0-1, the share of the flow still allowed)")
        return self


class Tariff(TimedEvent):
    """An ad valorem duty an importing region levies on some exporters' minerals: a wedge between the price
    the supplier gets and the price the buyer pays."""

    type: Literal["tariff"]
    importer: str = Field(US, description="the buyer region that levies it")
    exporters: list[str] | Literal["all"] = Field("all", description="countries it applies to, or all")
    minerals: list[str] = Field(min_length=1)
    rate: float = Field(ge=0, le=10, description="ad valorem rate, e.g. 0.5 for 50 %")


class SupplyDisruption(TimedEvent):
    """A producer loses part of its processing capacity (war, sanctions, accident), or, at the host stage,
    part of the host metal's output a by-product is recovered from (an alumina refinery for gallium, a
    zinc smelter for germanium): then only the capacity that host supports is lost."""

    type: Literal["supply_disruption"]
    country: str
    minerals: list[str] = Field(min_length=1)
    capacity_loss: float = Field(ge=0, le=1, description="share of capacity lost")
    stages: list[Literal["mine", "processing", "host"]] = Field(
        default_factory=lambda: ["processing"],
        min_length=1,
        description="processing, mine (ore and concentrate), or host (the metal a by-product comes from)",
    )
    hosts: list[str] | None = Field(None, description="host stage only: the hosts hit (default: all of them)")


class PowerPriceShock(TimedEvent):
    """US industrial power price multiplied for a while (e.g. data-centre demand)."""

    type: Literal["power_price_shock"]
    multiplier: float = Field(gt=0, le=20)


class DemandShock(TimedEvent):
    """US demand for minerals (optionally some sectors) multiplied, plus extra t/yr."""

    type: Literal["demand_shock"]
    minerals: list[str] = Field(min_length=1)
    sectors: list[str] | None = None
    multiplier: float = Field(1.0, ge=0, le=20)
    extra_t_per_yr: float = Field(0.0, ge=0, le=TONNES)


class AlliedSupply(TimedEvent):
    """An allied (FORGE-style) agreement commits a named country's supply to the US: first call on its
    output (raised up to its capacity), taken from its other buyers where capacity is short."""

    type: Literal["allied_supply"]
    country: str
    mineral: str
    t_per_yr: float = Field(gt=0, le=TONNES)
    ramp_months: int = Field(12, ge=0, le=240)


class FundingProgramme(TimedEvent):
    """A new federal programme (adds a FederalFunder agent)."""

    type: Literal["funding_programme"]
    name: str
    agency: str = "scenario"
    instrument: Literal["grant", "loan", "offtake", "stockpile"]
    annual_budget_usd: float = Field(ge=0, le=USD)
    carryover: bool = True
    success_rate: float = Field(0.8, ge=0, le=1)
    minerals: list[str] | Literal["all"] = "all"
    builds: Literal["processing", "mine", "integrated", "recovery"] = Field(
        "processing",
        description="grant/loan: processing plants (fed with US ore if any is left, else diverted foreign feed), "
        "US mines (ore for US plants, the rest processed abroad), integrated mine and plant (fed at home), or "
        "by-product recovery circuits at US hosts (world.byproducts, United States rows)",
    )


class StockpileRelease(TimedEvent):
    """An ordered release from the National Defense Stockpile, t/yr while it lasts."""

    type: Literal["stockpile_release"]
    minerals: list[str] = Field(min_length=1)
    t_per_yr: float = Field(gt=0, le=TONNES)


Event = Annotated[
    ExportRestriction
    | Tariff
    | SupplyDisruption
    | PowerPriceShock
    | DemandShock
    | AlliedSupply
    | FundingProgramme
    | StockpileRelease,
    Field(discriminator="type"),
]


class Policies(Strict):
    priority_rating: bool = Field(True, description="defence (priority 1) served first under DPAS ratings")
    funders_respond: bool = Field(True, description="federal funders commit budgets (off: no new money)")
    stockpile_release_in_shortfall: bool = Field(True, description="the stockpile releases when short")


class Scenario(Strict):
    name: str = Field(min_length=1, max_length=80, description="letters, digits, _ . - (it names the run's folder)")
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    extends: str | None = None
    horizon_months: int = Field(120, ge=1, le=600)
    start: Month = "2026-01"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    world: dict[str, Any] = Field(default_factory=dict, description="overrides of the default world data")
    policies: Policies = Policies()
    events: list[Event] = Field(default_factory=list)

    _check_start = field_validator("start", mode="before")(_check_month)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError("a name may hold only letters, digits and _ . - (it names the run's folder)")
        return value

    def event_window(self, event: TimedEvent) -> tuple[int, int]:
        """Month indices [first, end) an event is active, clipped to the horizon."""
        first = month_index(event.start, self.start)
        end = self.horizon_months if event.months is None else first + event.months
        return max(first, 0), min(end, self.horizon_months)
