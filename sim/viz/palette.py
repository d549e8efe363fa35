"""One colour per mineral, the same in every plot, report and dashboard chart.

Colours are tied to the mineral's name, not its position, so a mineral keeps its colour in a run
that leaves others out. Paul Tol's "bright" and "muted" qualitative schemes (colour-blind safe),
extended with a few distinct tones for the rare-earth products.
"""

from __future__ import annotations

MINERAL_COLOURS: dict[str, str] = {
    # The minerals China's controls move most take the most distinct colours: no two of them alike.
    "antimony": "#4477aa",
    "tungsten": "#ee6677",
    "rare_earths": "#228833",
    "ndpr": "#228833",
    "dytb": "#ee7733",
    "ndfeb_magnets": "#332288",
    "gallium": "#ccbb44",
    "germanium": "#66ccee",
    "graphite": "#aa3377",
    # The others, which seldom move in the shipped scenarios. None is grey: grey is for the reference, the
    # price cap and the event bands.
    "aluminium": "#997700",
    "copper": "#44aa99",
    "magnesium": "#999933",
    "titanium": "#882255",
}
FALLBACK = ("#ddcc77", "#aa4499", "#117733", "#ee8866", "#bbcc33", "#77aadd")  # none a listed mineral's
ROUTE_COLOURS = {"direct": "#4477aa", "licensed": "#66ccee", "leaked": "#ee6677", "allied": "#228833"}
# US sectors, by name (shortfall by sector); defence keeps the strongest colour.
SECTOR_COLOURS: dict[str, str] = {
    "defence": "#000000",
    "energy": "#ee7733",
    "electronics": "#0077bb",
    "optoelectronics": "#33bbee",
    "telecom": "#009988",
    "industry": "#777777",
    "metallurgy": "#aa3377",
    "chemicals": "#cc3311",
    "construction": "#997700",
    "transport": "#ee3377",
    "medical": "#117733",
    "research": "#882255",
    "other": "#aaaaaa",
}


def mineral_colour(mineral: str) -> str:
    """The mineral's colour; a mineral not listed gets a fixed colour from its name."""
    return _by_name(MINERAL_COLOURS, mineral)


def sector_colour(sector: str) -> str:
    """The US sector's colour; a sector not listed gets a fixed colour from its name."""
    return _by_name(SECTOR_COLOURS, sector)


def _by_name(colours: dict[str, str], name: str) -> str:
    if name in colours:
        return colours[name]
    return FALLBACK[sum(map(ord, name)) % len(FALLBACK)]
