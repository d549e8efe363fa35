"""The world a run starts from: pydantic models of the default tables and of scenario overrides.

Units: t = metric tonnes of the processed product; flows and capacities in t/yr in the data (the
model divides by 12); prices in USD/t; electricity in MWh/t and USD/MWh.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Alignment = Literal["ally", "neutral", "adversary"]
Instrument = Literal["grant", "loan", "offtake", "stockpile"]
PlantStatus = Literal["operating", "idle"]
US = "United States"
REST = "Rest of world"


class Strict(BaseModel):
    # every number finite and bounded: no field is met by infinity, and no quantity comes near overflow
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


TONNES = 1e9  # t or t/yr: above any mineral's world output (aluminium about 7e7 t/yr)
USD_PER_T = 1e8  # USD/t: above any price here (germanium about 3e6 USD/t)
USD = 1e13  # USD: above the whole US federal budget
MWH_PER_T = 1e3  # MWh/t: above any smelter's use (aluminium about 15)
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class MineralData(Strict):
    processed_form: str
    price_usd_per_t: float = Field(gt=0, le=USD_PER_T)
    us_demand_t_per_yr: float = Field(gt=0, le=TONNES)
    demand_growth_per_yr: float = Field(ge=-0.5, le=1.0)
    demand_elasticity: float = Field(ge=-3.0, le=0.0)
    supply_elasticity: float = Field(ge=0.0, le=3.0)
    recycling_share: float = Field(ge=0.0, lt=1.0)
    electricity_mwh_per_t: float = Field(ge=0.0, le=MWH_PER_T)
    capex_usd_per_tpy: float = Field(gt=0, le=USD_PER_T)
    build_lead_months: int = Field(ge=0, le=240)
    stockpile_t: float = Field(ge=0.0, le=TONNES)
    stockpile_buy_t_per_yr: float = Field(
        0.0, ge=0.0, le=TONNES, description="NDS Annual Materials Plan potential acquisitions"
    )
    feedstock_cost_share: float = Field(ge=0.0, le=1.0)
    supply_adjust_months: float = Field(gt=0, le=120)


class SupplyData(Strict):
    capacity_t_per_yr: float = Field(ge=0.0, le=TONNES)
    output_t_per_yr: float = Field(ge=0.0, le=TONNES)
    alignment: Alignment
    us_import_share: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _output_within_capacity(self) -> SupplyData:
        if self.output_t_per_yr > self.capacity_t_per_yr * (1 + 1e-9):
            raise ValueError(
                f"output_t_per_yr {self.output_t_per_yr:g} is above capacity_t_per_yr {self.capacity_t_per_yr:g}"
            )
        return self


class PlantData(Strict):
    mineral: str
    company: str = ""
    state: str = ""
    capacity_t_per_yr: float = Field(ge=0.0, le=TONNES)
    status: PlantStatus
    electricity_mwh_per_t: float = Field(ge=0.0, le=MWH_PER_T)
    other_cost_usd_per_t: float = Field(ge=0.0, le=USD_PER_T)
    feedstock_country: str = "United States"
    hedged_power_share: float = Field(ge=0.0, le=1.0)


class SectorData(Strict):
    share: float = Field(ge=0.0, le=1.0)
    priority: int = Field(ge=1, le=9)


class ByproductData(Strict):
    """Part of a country's capacity for a mineral recovered from another metal's processing (its host):
    gallium from alumina, germanium from zinc and coal ash, antimony from gold ores."""

    host_mineral: str | None = Field(
        None, description="a mineral of the world whose output in the same country the host follows; None: not modelled"
    )
    share_of_capacity: Share = Field(description="share of the country's capacity that depends on this host")
    potential_t_per_yr: float | None = Field(
        None, ge=0.0, le=TONNES, description="what the host yields at typical recovery (None: its share of capacity)"
    )
    recovery_capex_usd_per_tpy: float | None = Field(
        None, gt=0, le=USD_PER_T, description="cost of a new recovery circuit per t/yr (US hosts)"
    )


class ProgrammeData(Strict):
    agency: str
    instrument: Instrument
    annual_budget_usd: float = Field(ge=0.0, le=USD)
    carryover: bool = True
    success_rate: float = Field(ge=0.0, le=1.0)
    minerals: list[str] | Literal["all"] = "all"
    start_month: int = Field(default=0, ge=0, le=1200, description="month index the programme starts committing")
    end_month: int | None = Field(default=None, ge=0, le=1200, description="month index it stops (None: never)")


class PowerData(Strict):
    baseline_usd_per_mwh: float = Field(gt=0, le=1e5)
    trend_per_yr: float = Field(ge=-0.5, le=1.0)


class MarketParams(Strict):
    """Behavioural parameters of the market and agents. Model assumptions: see docs/model.md."""

    price_flexibility: float = Field(
        0.75,
        gt=0,
        le=10,
        description="calibrated: price = baseline x (stocks / desired stocks) ** -price_flexibility (sim hindcast)",
    )
    price_floor_ratio: float = Field(
        0.1, gt=0, le=1, description="lowest price, x baseline (history: no move below a tenth of the 2024 price)"
    )
    price_cap_ratio: float = Field(
        20.0, ge=1, le=100, description="highest price, x baseline (rare earths rose more than 10x in 2010-11)"
    )
    producer_stock_months: float = Field(1.0, ge=0, le=24, description="producers' working stock, months of output")
    inventory_adjust_months: float = Field(3.0, ge=1, le=24, description="months buyers take to close a stock gap")
    contract_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="calibrated: share of each baseline trade flow bought under contract; the rest is spot",
    )
    contract_break_premium: float = Field(
        1.0,
        gt=0,
        le=20,
        description="assumption: a contract holds until a buyer open to the supplier bids (1 + this) x its holder's "
        "price, and lapses entirely at twice that",
    )
    home_bias: float = Field(
        10.0, ge=1, le=1000, description="weight of a region's own producers in its baseline purchases (vs 1)"
    )
    spot_rounds: int = Field(4, ge=1, le=20, description="rounds of the spot market's proportional rationing")
    tariff_substitution: float = Field(
        4.0, ge=0, le=20, description="elasticity of a buyer's choice between suppliers to the tariff wedge"
    )
    leak_full_gap: float = Field(
        0.5, gt=0, le=20, description="outside/inside price gap (net of markup) at which leakage reaches its cap"
    )
    curtail_rate_per_month: float = Field(0.25, gt=0, le=1, description="utilisation lost per month at a loss")
    ramp_rate_per_month: float = Field(0.15, gt=0, le=1, description="utilisation regained per month")
    restart_lag_months: int = Field(6, ge=0, le=60, description="months of positive margin before a restart")
    restart_margin_share: float = Field(0.05, ge=0, le=1, description="margin (share of price) to restart")
    restart_cost_usd_per_tpy: float = Field(
        50.0, ge=0, le=USD_PER_T, description="one-off cost of restarting, per t/yr"
    )
    loss_for_full_curtail_share: float = Field(
        0.1, gt=0, le=1, description="loss (share of price) at which curtailment runs at its full rate"
    )
    shortfall_threshold_share: float = Field(
        0.005, ge=0, le=1, description="monthly shortfall share of demand counted as 'in shortfall'"
    )
    loan_share_of_capex: float = Field(0.6, gt=0, le=1, description="share of a project a loan finances")
    project_delay_chance: float = Field(0.3, ge=0, le=1)
    max_project_share_of_demand: float = Field(
        0.25, gt=0, le=5, description="largest funded plant, t/yr as a share of US annual demand"
    )
    stockpile_target_months: float = Field(6.0, ge=0, le=120, description="stockpile buys up to this cover")
    offtake_floor_ratio: float = Field(1.0, gt=0, le=5, description="price floor, x baseline price")
    stockpile_buy_below_ratio: float = Field(1.05, gt=0, le=5, description="buys while price <= this x baseline")
    stockpile_max_release_share: float = Field(0.1, ge=0, le=1, description="monthly release cap, x stock")


class RegionData(Strict):
    """A buyer region (MODEL.md §2): its demand, stock policy and which supplier countries are its own."""

    demand_share: dict[str, Share] = Field(
        default_factory=dict, description="mineral -> share of world consumption outside the US (not for the US)"
    )
    countries: list[str] = Field(default_factory=list, description="supplier countries whose home market it is")
    inventory_months: float = Field(ge=0, le=24, description="commercial stocks, months of use")
    precautionary_months: float = Field(ge=0, le=24, description="extra cover sought when all its supply is at risk")
    demand_elasticity_factor: float = Field(
        ge=0, le=5, description="x the mineral's demand elasticity: lower means a higher willingness to pay"
    )


class World(Strict):
    minerals: dict[str, MineralData]
    supply: dict[str, dict[str, SupplyData]] = Field(description="country -> mineral -> supply")
    plants: dict[str, PlantData]
    sectors: dict[str, dict[str, SectorData]] = Field(description="mineral -> sector -> share, priority")
    programmes: dict[str, ProgrammeData]
    power: PowerData
    market: MarketParams = MarketParams()
    regions: dict[str, RegionData] = Field(description="buyer region -> demand, stocks, home countries")
    sanctions: dict[str, list[str] | Literal["all"]] = Field(
        default_factory=dict, description="exporter -> minerals the US forbids importing from it directly"
    )
    contracts: dict[str, dict[str, dict[str, Share]]] = Field(
        default_factory=dict, description="region -> mineral -> supplier -> published share of its imports"
    )
    byproducts: dict[str, dict[str, dict[str, ByproductData]]] = Field(
        default_factory=dict, description="mineral -> country -> host -> what the host yields"
    )
    inputs: dict[str, dict[str, Annotated[float, Field(gt=0, le=1)]]] = Field(
        default_factory=dict,
        description="product -> mineral of the world it is made from -> t of that input per t of product",
    )

    @model_validator(mode="after")
    def _consistent(self) -> World:
        minerals = set(self.minerals)
        allowed = ", ".join(sorted(minerals))
        for country, rows in self.supply.items():
            for mineral in rows:
                if mineral not in minerals:
                    raise ValueError(f"supply.{country}: unknown mineral '{mineral}' (allowed: {allowed})")
        for name, plant in self.plants.items():
            if plant.mineral not in minerals:
                raise ValueError(f"plants.{name}.mineral: unknown mineral '{plant.mineral}' (allowed: {allowed})")
        for mineral in minerals:
            shares = [rows[mineral].us_import_share for rows in self.supply.values() if mineral in rows]
            if not shares:
                raise ValueError(f"supply: no supplier country for mineral '{mineral}'")
            if abs(sum(shares) - 1.0) > 0.02:
                raise ValueError(f"supply: us_import_share of '{mineral}' sums to {sum(shares):.3f}, not 1")
            sectors = self.sectors.get(mineral)
            if not sectors:
                raise ValueError(f"sectors: no demand sector for mineral '{mineral}'")
            total = sum(s.share for s in sectors.values())
            if abs(total - 1.0) > 0.02:
                raise ValueError(f"sectors.{mineral}: shares sum to {total:.3f}, not 1")
        for name, prog in self.programmes.items():
            if prog.minerals != "all":
                for mineral in prog.minerals:
                    if mineral not in minerals:
                        raise ValueError(
                            f"programmes.{name}.minerals: unknown mineral '{mineral}' (allowed: {allowed})"
                        )
        self._check_regions(minerals, allowed)
        self._check_byproducts(minerals, allowed)
        for product, used in self.inputs.items():
            for name in (product, *used):
                if name not in minerals:
                    raise ValueError(f"inputs.{product}: unknown mineral '{name}' (allowed: {allowed})")
        return self

    def _check_byproducts(self, minerals: set[str], allowed: str) -> None:
        for mineral, by_country in self.byproducts.items():
            if mineral not in minerals:
                raise ValueError(f"byproducts: unknown mineral '{mineral}' (allowed: {allowed})")
            for country, hosts in by_country.items():
                where = f"byproducts.{mineral}.{country}"
                if country != US and mineral not in self.supply.get(country, {}):
                    raise ValueError(f"{where}: {country} produces no {mineral} in the world data")
                total = sum(h.share_of_capacity for h in hosts.values())
                if total > 1.0 + 1e-9:
                    raise ValueError(f"{where}: share_of_capacity sums to {total:.3f}, above 1")
                for host, data in hosts.items():
                    linked, at = data.host_mineral, f"{where}.{host}.host_mineral"
                    if linked is not None and linked not in minerals:
                        raise ValueError(f"{at}: unknown mineral '{linked}' (allowed: {allowed})")
                    if linked is not None and (country == US or linked not in self.supply.get(country, {})):
                        raise ValueError(f"{at}: {country} produces no {linked} to follow")

    def _check_regions(self, minerals: set[str], allowed: str) -> None:
        if US not in self.regions or REST not in self.regions:
            raise ValueError(f"regions: '{US}' and '{REST}' must be listed")
        home: dict[str, str] = {}
        for name, region in self.regions.items():
            for country in region.countries:
                if country not in self.supply:
                    raise ValueError(f"regions.{name}.countries: unknown country '{country}'")
                if country in home:
                    raise ValueError(f"regions: '{country}' is home to both {home[country]} and {name}")
                home[country] = name
            for mineral in region.demand_share:
                if mineral not in minerals:
                    raise ValueError(f"regions.{name}.demand_share: unknown mineral '{mineral}' (allowed: {allowed})")
        for mineral in minerals:
            total = sum(r.demand_share.get(mineral, 0.0) for n, r in self.regions.items() if n != US)
            if abs(total - 1.0) > 0.02:
                raise ValueError(f"regions: demand_share of '{mineral}' outside the US sums to {total:.3f}, not 1")
        for exporter, listed in self.sanctions.items():
            if exporter not in self.supply:
                raise ValueError(f"sanctions: unknown country '{exporter}'")
            for mineral in [] if listed == "all" else listed:
                if mineral not in minerals:
                    raise ValueError(f"sanctions.{exporter}: unknown mineral '{mineral}' (allowed: {allowed})")
        for region, by_mineral in self.contracts.items():
            if region not in self.regions:
                raise ValueError(f"contracts: unknown region '{region}'")
            for mineral, shares in by_mineral.items():
                if sum(shares.values()) > 1.0 + 1e-6:
                    raise ValueError(f"contracts.{region}.{mineral}: shares sum above 1")

    @property
    def countries(self) -> list[str]:
        return list(self.supply)
