"""The game's teams: each one's levers, budget, and the scenario events its decisions become.

Every lever maps onto an event the model already has (sim/scenario/schema.py), so a team's decision is
an ordinary scenario change, validated by the same loader as a file. A decision holds for its round's
year: its events start in the round's first month and last twelve months (the form starts from the
team's last decision, so renewing a policy is one click). Mineral and country lists come from the
world data, never from this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.scenario.schema import US, month_index, month_label
from sim.world.schema import REST, World

NONE = "none"
ALL = "all"
CHINA = "China"  # the exporter whose commerce ministry plays (MOFCOM)
ROUND_MONTHS = 12
Choices = dict[str, str | float]
Event = dict[str, Any]

# How tightly MOFCOM polices re-export through third countries: the cap on the share of the blocked flow
# that leaks (the model's `leakage`). 0.10 is the shipped scenarios' reading of 2024-2025 transshipment.
ENFORCEMENT_LEAKAGE = {"strict": 0.02, "normal": 0.10, "lax": 0.30}
UNCHANGED = "unchanged"
LIFT = "lift"
CONTROLS = (UNCHANGED, LIFT, "licensing", "quota", "ban")
CONTROL_GROUP = "Export controls this year"
QUOTA_SHARE = 0.5  # a quota lets half the flow through
LICENCE_REFUSED_SHARE = 0.3  # licensing: share of applications refused (the rest wait two months)
OFFTAKE_PREMIUM = 0.10  # processors pay a tenth over the baseline price to lock in a friendly supplier
MAX_DEAL_SHARE = 0.5  # an ally commits at most half of a country's capacity to the US
DEAL_RAMP_MONTHS = 3  # a year's deal reaches its full tonnage after a quarter
MAX_TONNES = 1e7  # t/yr: above any deal's reach (each is checked against the country's capacity)

# Budgets per round (a year), USD million. Funders: the order of DPA Title III, the Office of Strategic
# Capital and DLA stockpile purchases together in a year of heightened attention (2023-2025);
# processors: what a handful of US smelters and refiners can put up from their own balance sheets.
FUNDERS_BUDGET_MUSD = 2000.0
PROCESSORS_BUDGET_MUSD = 500.0


class DecisionError(ValueError):
    """A decision the game refuses (an unknown option, a number out of range, over budget)."""


@dataclass(frozen=True)
class Lever:
    """One control on a team's page: a choice among `options`, or a number in [minimum, maximum]."""

    key: str
    label: str
    default: str | float
    options: tuple[str, ...] = ()
    minimum: float = 0.0
    maximum: float = 0.0
    unit: str = ""
    group: str = ""  # a heading the form shows above a run of levers of one group ...
    short: str = ""  # ... where each is labelled by this alone

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    def parse(self, text: str | None) -> str | float:
        """The lever's value from a form field (missing: the default); DecisionError names what is wrong."""
        if text is None or text == "":
            return self.default
        if self.is_choice:
            if text not in self.options:
                raise DecisionError(f"{self.label}: '{text}' is not one of {', '.join(self.options)}")
            return text
        try:
            value = float(text)
        except ValueError:
            raise DecisionError(f"{self.label}: '{text}' is not a number") from None
        if not self.minimum <= value <= self.maximum:
            raise DecisionError(f"{self.label}: {value:g} is outside {self.minimum:g} to {self.maximum:g} {self.unit}")
        return value


@dataclass(frozen=True)
class Window:
    """The months a round's decisions act in: from `start` (YYYY-MM) for ROUND_MONTHS."""

    start: str
    round: int


@dataclass(frozen=True)
class Team:
    """A team: who it is, its levers and budget (USD million a round; None: no money involved)."""

    id: str
    name: str
    role: str
    levers: tuple[Lever, ...]
    world: World = field(repr=False, compare=False)
    budget_musd: float | None = None
    brief: str = ""  # one paragraph: who the team is in the real world, and what its levers do here

    def parse(self, form: Mapping[str, str]) -> Choices:
        """The team's choices from its form, checked lever by lever, then against the budget."""
        choices = {lever.key: lever.parse(form.get(lever.key)) for lever in self.levers}
        self.check(choices)
        return choices

    def defaults(self) -> Choices:
        return {lever.key: lever.default for lever in self.levers}

    def check(self, choices: Choices) -> None:
        cost = self.cost(choices)
        if self.budget_musd is not None and cost > self.budget_musd + 1e-9:
            raise DecisionError(
                f"{self.name}: these decisions cost USD {cost:,.0f} m, over the round's budget of "
                f"USD {self.budget_musd:,.0f} m"
            )

    def cost(self, choices: Choices) -> float:
        """USD million of the team's budget the decisions take."""
        return 0.0

    def events(self, choices: Choices, window: Window) -> list[Event]:
        """The events of the decisions (the round's other events are not changed)."""
        raise NotImplementedError

    def apply(self, events: list[Event], choices: Choices, window: Window) -> list[Event]:
        """The scenario's events with this team's decisions for the round."""
        return [*events, *self.events(choices, window)]

    def describe(self, choices: Choices) -> list[str]:
        """The decisions in words: each lever moved from its default, as 'label: value'."""
        lines = []
        for lever in self.levers:
            value = choices.get(lever.key, lever.default)
            if value != lever.default:
                shown = value if isinstance(value, str) else f"{value:,.6g} {lever.unit}".strip()
                lines.append(f"{lever.label}: {shown}")
        return lines or ["no change"]


def lift(events: list[Event], exporter: str, mineral: str, window: Window) -> list[Event]:
    """The events with the exporter's restrictions on `mineral` suspended for the round's year: each one
    that overlaps the year is split into its part before, its part after, and its other minerals."""
    lifted = []
    for event in events:
        if event["type"] != "export_restriction" or event["exporter"] != exporter or mineral not in event["minerals"]:
            lifted.append(event)
            continue
        first = month_index(str(event["start"]), window.start)  # relative to the round's first month
        end = None if event.get("months") is None else first + int(event["months"])
        if first >= ROUND_MONTHS or (end is not None and end <= 0):
            lifted.append(event)
            continue
        others = [m for m in event["minerals"] if m != mineral]
        if others:
            lifted.append({**event, "minerals": others})
        if first < 0:
            lifted.append({**event, "minerals": [mineral], "months": -first})
        if end is None or end > ROUND_MONTHS:
            after = None if end is None else end - ROUND_MONTHS
            lifted.append(
                {**event, "minerals": [mineral], "start": month_label(window.start, ROUND_MONTHS), "months": after}
            )
    return lifted


def _timed(window: Window, months: int = ROUND_MONTHS) -> dict[str, Any]:
    return {"start": window.start, "months": months}


def producers(world: World, alignments: tuple[str, ...]) -> list[str]:
    """Countries of these alignments that produce some mineral (not the US, not the residual row)."""
    return sorted(
        country
        for country, rows in world.supply.items()
        if country not in (US, REST)
        and any(row.alignment in alignments and row.capacity_t_per_yr > 0 for row in rows.values())
    )


def capacity(world: World, country: str, mineral: str) -> float:
    row = world.supply.get(country, {}).get(mineral)
    return 0.0 if row is None else row.capacity_t_per_yr


class Mofcom(Team):
    """China's Ministry of Commerce: export controls per mineral to the US or to everyone (a new control
    replaces the scenario's for the year; `lift` suspends it for the year, as MOFCOM suspended its
    Ga/Ge/Sb ban on the US in November 2025), and how hard it polices re-export through third countries."""

    def apply(self, events: list[Event], choices: Choices, window: Window) -> list[Event]:
        for lever in self.levers:
            if choices.get(lever.key) == LIFT:
                events = lift(events, CHINA, lever.key.split(".", 1)[1], window)
        return [*events, *self.events(choices, window)]

    def events(self, choices: Choices, window: Window) -> list[Event]:
        destinations = [US] if choices["destinations"] == US else [ALL]
        leakage = ENFORCEMENT_LEAKAGE[str(choices["enforcement"])]
        events = []
        for kind in ("licensing", "quota", "ban"):
            minerals = [lever.key.split(".", 1)[1] for lever in self.levers if choices.get(lever.key) == kind]
            if not minerals:
                continue
            event: Event = {
                "type": "export_restriction",
                "exporter": CHINA,
                "minerals": minerals,
                "destinations": destinations,
                "kind": kind,
                "leakage": leakage,
                **_timed(window),
            }
            if kind == "quota":
                event["quota_share"] = QUOTA_SHARE
            if kind == "licensing":
                event["refused_share"] = LICENCE_REFUSED_SHARE
            events.append(event)
        return events


class Funders(Team):
    """US federal funders (DoD/DPA Title III, DOE, the Office of Strategic Capital, DLA's stockpile): a
    year's money split over grants, loans, offtake price floors and stockpile purchases, and stockpile
    releases."""

    INSTRUMENTS = ("grant", "loan", "offtake", "stockpile")

    def cost(self, choices: Choices) -> float:
        return sum(float(choices[f"{instrument}_musd"]) for instrument in self.INSTRUMENTS)

    def events(self, choices: Choices, window: Window) -> list[Event]:
        target = choices["target"]
        events: list[Event] = [
            {
                "type": "funding_programme",
                "name": f"game_r{window.round}_{instrument}",
                "agency": "US federal funders (game)",
                "instrument": instrument,
                "annual_budget_usd": float(choices[f"{instrument}_musd"]) * 1e6,
                "minerals": ALL if target == ALL else [target],
                "carryover": True,
                **_timed(window),
            }
            for instrument in self.INSTRUMENTS
            if float(choices[f"{instrument}_musd"]) > 0
        ]
        if choices["release_mineral"] != NONE and float(choices["release_t_per_yr"]) > 0:
            events.append(
                {
                    "type": "stockpile_release",
                    "minerals": [choices["release_mineral"]],
                    "t_per_yr": float(choices["release_t_per_yr"]),
                    **_timed(window),
                }
            )
        return events


class Processors(Team):
    """US processors (smelters and refiners): own capital into new capacity for one mineral,
    and an offtake contract with a friendly producer, paid for with a premium over the market."""

    def cost(self, choices: Choices) -> float:
        return float(choices["build_musd"]) + self.offtake_premium_musd(choices)

    def offtake_premium_musd(self, choices: Choices) -> float:
        mineral = choices["offtake_mineral"]
        if mineral == NONE or choices["offtake_country"] == NONE:
            return 0.0
        price = self.world.minerals[str(mineral)].price_usd_per_t
        return OFFTAKE_PREMIUM * price * float(choices["offtake_t_per_yr"]) / 1e6

    def check(self, choices: Choices) -> None:
        _check_deal(self.world, choices, "offtake", share=1.0)
        super().check(choices)

    def events(self, choices: Choices, window: Window) -> list[Event]:
        events: list[Event] = []
        if choices["build_mineral"] != NONE and float(choices["build_musd"]) > 0:
            events.append(
                {
                    "type": "funding_programme",
                    "name": f"game_r{window.round}_processors",
                    "agency": "US processors (own capital)",
                    "instrument": "grant",  # the whole capital cost, as a grant would pay it
                    "annual_budget_usd": float(choices["build_musd"]) * 1e6,
                    "minerals": [choices["build_mineral"]],
                    "carryover": True,
                    **_timed(window),
                }
            )
        events += _deal_events(choices, "offtake", window)
        return events


class Allies(Team):
    """Allied governments (FORGE partners: Australia, Japan, Canada, the EU): supply committed to the US,
    tariffs of their own on Chinese material, and export controls of their own towards China."""

    def check(self, choices: Choices) -> None:
        _check_deal(self.world, choices, "deal", share=MAX_DEAL_SHARE)
        super().check(choices)

    def events(self, choices: Choices, window: Window) -> list[Event]:
        events = _deal_events(choices, "deal", window)
        rate = float(choices["tariff_pct"]) / 100
        china_minerals = list(self.world.supply.get(CHINA, {}))
        if choices["tariff_region"] != NONE and rate > 0 and china_minerals:
            events.append(
                {
                    "type": "tariff",
                    "importer": choices["tariff_region"],
                    "exporters": [CHINA],
                    "minerals": china_minerals,
                    "rate": rate,
                    **_timed(window),
                }
            )
        mineral = choices["control_mineral"]
        if mineral != NONE:
            for country in producers(self.world, ("ally",)):
                row = self.world.supply[country].get(str(mineral))
                if row is not None and row.alignment == "ally" and row.capacity_t_per_yr > 0:
                    events.append(
                        {
                            "type": "export_restriction",
                            "exporter": country,
                            "minerals": [mineral],
                            "destinations": [CHINA],
                            "kind": "ban",
                            **_timed(window),
                        }
                    )
        return events


def _check_deal(world: World, choices: Choices, prefix: str, share: float) -> None:
    country, mineral = choices[f"{prefix}_country"], choices[f"{prefix}_mineral"]
    tonnes = float(choices[f"{prefix}_t_per_yr"])
    if country == NONE or mineral == NONE or tonnes <= 0:
        return
    most = capacity(world, str(country), str(mineral)) * share
    if most <= 0:
        raise DecisionError(f"{country} produces no {mineral} in the world data; choose another country or mineral")
    if tonnes > most:
        raise DecisionError(f"{country} can commit at most {most:,.0f} t/yr of {mineral} to the US, not {tonnes:,.0f}")


def _deal_events(choices: Choices, prefix: str, window: Window) -> list[Event]:
    country, mineral = choices[f"{prefix}_country"], choices[f"{prefix}_mineral"]
    tonnes = float(choices[f"{prefix}_t_per_yr"])
    if country == NONE or mineral == NONE or tonnes <= 0:
        return []
    return [
        {
            "type": "allied_supply",
            "country": country,
            "mineral": mineral,
            "t_per_yr": tonnes,
            "ramp_months": DEAL_RAMP_MONTHS,
            **_timed(window),
        }
    ]


MOFCOM_BRIEF = (
    "You are China's Ministry of Commerce. Since 2023 you have tightened exports step by step: licences for "
    "gallium and germanium (Announcement No. 23, in force 1 August 2023) and graphite (December 2023); a ban on "
    "gallium, germanium and antimony exports to the United States (Announcement No. 46, 3 December 2024); "
    "licences for tungsten (February 2025) and seven medium and heavy rare earths (April 2025). In November 2025, "
    "after the leaders met in Busan, you suspended the US ban for a year. Each round, per mineral, you leave the "
    "scenario's control unchanged, lift it for the year, or impose licensing "
    f"({LICENCE_REFUSED_SHARE:.0%} of applications refused, the rest wait two months), a quota "
    f"({QUOTA_SHARE:.0%} of the flow) or a ban, on the United States alone or on every destination; and you "
    "choose how hard customs police re-export through third countries (strict, normal or lax: "
    + ", ".join(f"{v:.0%}" for v in ENFORCEMENT_LEAKAGE.values())
    + " of the blocked flow leaks). Your aims are yours to set: leverage in trade talks, prices for Chinese "
    "processors, and not pushing buyers into building rivals."
)
FUNDERS_BRIEF = (
    "You are the US federal funders: DoD's Defense Production Act Title III fund, DOE's processing grants, DoD's "
    "Office of Strategic Capital (its first critical-minerals loan, USD 150 m, went to MP Materials in 2025) and "
    "DLA's National Defense Stockpile (USD 2 billion for purchases in the July 2025 budget law). In July 2025 DoD "
    "also set a ten-year floor of USD 110/kg under MP Materials' NdPr. The standing programmes keep running; you "
    f"add to them: each round you split up to USD {FUNDERS_BUDGET_MUSD:,.0f} m over grants (the whole capital "
    "cost of a new plant), loans (part of it), offtake price floors (processors paid up to a floor when prices "
    "fall) and stockpile purchases, for every mineral or one; and you may order a stockpile release of one "
    "mineral (t/yr, while stocks last). Money is committed only where the model sees a need (a shortfall, a "
    "capacity gap, a price premium), so money left unspent is a result too."
)
PROCESSORS_BRIEF = (
    "You are the US smelters and refiners: United States Antimony at Thompson Falls (expanding sixfold in 2025), "
    "MP Materials at Mountain Pass, Century Aluminum (Hawesville idle since June 2022, when its power cost more "
    "than tripled) and the few gallium, germanium and titanium plants. Idle plants restart by themselves when "
    f"prices cover their costs. Each round you may put up to USD {PROCESSORS_BUDGET_MUSD:,.0f} m of your own "
    "capital into new capacity for one mineral (built after that mineral's lead time, and only where the market "
    "shows a gap), and sign an offtake contract "
    f"for one mineral with a friendly producer abroad, paying {OFFTAKE_PREMIUM:.0%} over the baseline price "
    "(the premium counts against your budget; the contract reaches full rate after a quarter). Lynas, separating "
    "Australian ore in Malaysia and selling outside China, is the model for such supply."
)
ALLIES_BRIEF = (
    "You are the allied governments: Australia, Japan, Canada, the EU and the other partners of the February 2026 "
    "Critical Minerals Ministerial (FORGE), which paired supply commitments to the US with over USD 30 billion of "
    "project finance. Each round you may commit supply of one mineral from one allied producer to the US (at "
    f"most {MAX_DEAL_SHARE:.0%} of its capacity, at full rate after a quarter; its other buyers lose what the US "
    "gains), levy a tariff on Chinese minerals in one buyer region (the EU, say, or Japan and Korea), and stop "
    "exports of one mineral to China from every allied producer. You want to help the US without starving your "
    "own industry or inviting retaliation."
)


def deal_levers(prefix: str, what: str, countries: list[str], minerals: tuple[str, ...]) -> tuple[Lever, ...]:
    """A supply contract's levers: with which country, for which mineral, how many t/yr."""
    return (
        Lever(f"{prefix}_country", f"{what} from", NONE, (NONE, *countries), group=what, short="from"),
        Lever(f"{prefix}_mineral", f"{what} of", NONE, (NONE, *minerals), group=what, short="of"),
        Lever(
            f"{prefix}_t_per_yr", f"{what}, tonnage", 0.0, maximum=MAX_TONNES, unit="t/yr", group=what, short="tonnage"
        ),
    )


def build_teams(world: World) -> dict[str, Team]:
    """The four teams, with levers over this world's minerals, countries and regions."""
    minerals = tuple(world.minerals)
    china = tuple(m for m in minerals if capacity(world, CHINA, m) > 0)
    friendly = producers(world, ("ally", "neutral"))
    allies = producers(world, ("ally",))
    regions = tuple(r for r in world.regions if r not in (US, CHINA))
    mofcom = Mofcom(
        id="mofcom",
        name="China's Ministry of Commerce (MOFCOM)",
        role="export controls on China's minerals",
        brief=MOFCOM_BRIEF,
        levers=(
            *(
                Lever(f"control.{m}", f"Export control on {m}", UNCHANGED, CONTROLS, group=CONTROL_GROUP, short=m)
                for m in china
            ),
            Lever("destinations", "Controls apply to", US, (US, ALL), group="Their reach", short="apply to"),
            Lever(
                "enforcement",
                "Enforcement against re-export",
                "normal",
                tuple(ENFORCEMENT_LEAKAGE),
                group="Their reach",
                short="enforcement against re-export",
            ),
        ),
        world=world,
    )
    funders = Funders(
        id="funders",
        name="US federal funders (DoD, DOE, OSC, DLA)",
        role="grants, loans, offtake floors, the stockpile",
        brief=FUNDERS_BRIEF,
        budget_musd=FUNDERS_BUDGET_MUSD,
        levers=(
            *(
                Lever(
                    f"{i}_musd",
                    f"{i.capitalize()} budget",
                    0.0,
                    maximum=FUNDERS_BUDGET_MUSD,
                    unit="USD m",
                    group="Money this round",
                    short=i,
                )
                for i in Funders.INSTRUMENTS
            ),
            Lever("target", "Programmes may fund", ALL, (ALL, *minerals), group="Money this round", short="for"),
            Lever(
                "release_mineral",
                "Stockpile release of",
                NONE,
                (NONE, *minerals),
                group="Stockpile release",
                short="of",
            ),
            Lever(
                "release_t_per_yr",
                "Release rate",
                0.0,
                maximum=MAX_TONNES,
                unit="t/yr",
                group="Stockpile release",
                short="rate",
            ),
        ),
        world=world,
    )
    processors = Processors(
        id="processors",
        name="US processors (smelters and refiners)",
        role="own capital into capacity, offtake contracts abroad",
        brief=PROCESSORS_BRIEF,
        budget_musd=PROCESSORS_BUDGET_MUSD,
        levers=(
            Lever(
                "build_mineral", "Build new capacity for", NONE, (NONE, *minerals), group="New capacity", short="for"
            ),
            Lever(
                "build_musd",
                "Capital put in",
                0.0,
                maximum=PROCESSORS_BUDGET_MUSD,
                unit="USD m",
                group="New capacity",
                short="capital",
            ),
            *deal_levers("offtake", "Offtake contract", friendly, minerals),
        ),
        world=world,
    )
    ally_team = Allies(
        id="allies",
        name="Allied governments (FORGE partners)",
        role="supply deals, tariffs and controls of their own",
        brief=ALLIES_BRIEF,
        levers=(
            *deal_levers("deal", "Supply deal", allies, minerals),
            Lever(
                "tariff_region",
                "Tariff on Chinese minerals levied by",
                NONE,
                (NONE, *regions),
                group="Tariff on Chinese minerals",
                short="levied by",
            ),
            Lever(
                "tariff_pct",
                "Tariff rate",
                0.0,
                maximum=200,
                unit="%",
                group="Tariff on Chinese minerals",
                short="rate",
            ),
            Lever(
                "control_mineral",
                "Allies stop exports to China of",
                NONE,
                (NONE, *minerals),
                group="Export controls towards China",
                short="stop exports of",
            ),
        ),
        world=world,
    )
    return {team.id: team for team in (mofcom, funders, processors, ally_team)}
