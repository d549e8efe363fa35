"""What every chart shares: a fixed pixel layout, text of at least 14 px, one tick a year, the scenario's
events shaded, all-zero series folded into a note, and PNG bytes that depend only on what is drawn.

Figures are made at 72 dpi, so a font size in points is its size in pixels at the image's native width.
The layout is fixed (no tight_layout or bbox_inches='tight', which lay the text out twice) and figures
come from matplotlib.figure.Figure with the Agg canvas, not pyplot: a run's PNGs are a fixed cost of
`sim run`, and text layout is most of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import PIL.Image
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, MaxNLocator, ScalarFormatter
from matplotlib.transforms import Bbox, ScaledTranslation
from pydantic import BaseModel

from sim.scenario.schema import Scenario

DPI = 72  # 1 pt = 1 px
TEXT_PX = 14  # the smallest chart text, at the image's native size
WIDTH_PX = 1080  # fits the report's column and a 1280-px projector
STYLE = {
    "font.size": TEXT_PX,
    "axes.titlesize": 16,
    "axes.labelsize": TEXT_PX,
    "xtick.labelsize": TEXT_PX,
    "ytick.labelsize": TEXT_PX,
    "legend.fontsize": TEXT_PX,
    "figure.titlesize": 18,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Time charts draw their grid with a Scale (below); other charts ask for theirs (ax.grid). Tick marks
    # beside the labels would only repeat the grid (and cost a line drawn per tick).
    "axes.grid": False,
    "xtick.bottom": False,
    "ytick.left": False,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.5,
    "legend.frameon": False,
    "legend.handlelength": 1.5,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    # FreeType's outlines as they are: less time per label than autohinting, and as sharp at 14 px.
    "text.hinting": "no_hinting",
}
GRID = {"colors": "#b0b0b0", "linewidths": 0.8, "alpha": STYLE["grid.alpha"]}  # a Scale's gridlines
EVENT_SHADE = "#888888"
ZERO = 1e-6  # in the series' own unit: anything smaller is a rounding residue, drawn as nothing


@dataclass(frozen=True)
class Margins:
    """Space around the grid of axes, in pixels."""

    left: int = 90
    right: int = 30
    top: int = 50
    bottom: int = 50
    wspace: int = 60
    hspace: int = 60


def style() -> AbstractContextManager[None]:
    """The charts' look (text sizes, lines, grid) while a figure is made, drawn on and saved: matplotlib
    reads its settings when each piece is created, so everything drawn inside takes them."""
    return matplotlib.rc_context(STYLE)


def figure(
    rows: int, cols: int, panel_height: int, margins: Margins = Margins(), width: int = WIDTH_PX, sharex: bool = True
) -> tuple[Figure, list[Axes]]:
    """A figure `width` px wide of rows x cols axes, each `panel_height` px high, laid out once, in pixels
    (call it, and draw, inside `style()`)."""
    height = margins.top + margins.bottom + rows * panel_height + (rows - 1) * margins.hspace
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    panel_width = (width - margins.left - margins.right - (cols - 1) * margins.wspace) / cols
    grid = fig.add_gridspec(
        rows,
        cols,
        left=margins.left / width,
        right=1 - margins.right / width,
        top=1 - margins.top / height,
        bottom=margins.bottom / height,
        wspace=margins.wspace / panel_width,
        hspace=margins.hspace / panel_height,
    )
    axes = grid.subplots(sharex=sharex, squeeze=False)
    return fig, list(axes.flat)


def rendered(fig: Figure) -> PIL.Image.Image:
    """The figure drawn as it was laid out, as an RGBA image over the canvas' pixels: a view, not a copy,
    so write it (write_png) before the figure is drawn again."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)


def write_png(image: PIL.Image.Image, path: Path) -> None:
    """Write an RGB PNG at compression level 1 (the figures are opaque: an alpha channel would only add bytes
    to filter and compress; level 1 takes a third of the encoder's time for a file a little larger). No text
    chunks (no version stamp): the same figure gives the same bytes. Pillow lets go of the GIL while it
    encodes, so a second thread can write one PNG while the next figure is drawn."""
    image.convert("RGB").save(path, format="png", compress_level=1)


def save_png(fig: Figure, path: Path) -> None:
    write_png(rendered(fig), path)


def year_ticks(months: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Month positions of each January (or of the first month, if the horizon holds no January) and the year."""
    ticks = [i for i, month in enumerate(months) if month.endswith("-01")] or [0]
    return np.array(ticks), [months[i][:4] for i in ticks]


def time_axis(ax: Axes, months: Sequence[str], labels: bool = True, every: int = 1) -> None:
    """One gridline a year, labelled on every `every`-th (narrow panels), none labelled when `labels` is
    False; the value axis gets at most five gridlines (each label is drawn text, and text is most of a chart's
    cost). Both are drawn by a Scale (below), not by matplotlib's tick machinery; `ax.get_xticks()` still
    says where the years are, and `ax.yaxis`'s locator and formatter say where the values are. The axes'
    own axes are hidden, so a time chart has no axis labels (set_xlabel, set_ylabel): say the unit in the
    title."""
    ticks, years = year_ticks(months)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xlim(0, max(len(months) - 1, 1))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    shown = [year if labels and k % every == 0 else "" for k, year in enumerate(years)]
    for old in [artist for artist in ax.artists if isinstance(artist, Scale)]:
        old.remove()  # an axes drawn on again (the dashboard's) keeps one scale
    ax.add_artist(Scale(ax, list(ticks), shown))


class Scale(Artist):
    """An axes' gridlines and tick labels, drawn as two line collections and one text per label.

    What matplotlib's Axis draws with five artists a tick (two tick marks, a gridline and two labels), each
    built from the style and measured again for the title's place, and most of a chart's cost. The years are
    fixed; the values are read off the y axis' locator and formatter when drawn, once the limits are final,
    so the y scale (linear or log) and its formatter are the caller's, as with ticks. The axes' own x and y
    axes are hidden: the Scale stands for them."""

    def __init__(self, ax: Axes, x_ticks: list[float], x_labels: list[str]) -> None:
        super().__init__()
        self.axes = ax
        self.set_figure(ax.figure)
        self.set_zorder(1.5)  # under the lines, over the shaded events, as matplotlib's grid
        self.set_clip_on(False)  # its labels are outside the axes (its gridlines clip themselves)
        self.x_ticks, self.x_labels = x_ticks, x_labels
        # Tick labels sit the tick's length and pad away from the axes, as matplotlib places them.
        self.pad_pt = {axis: tick_pad(axis) for axis in "xy"}
        self.text_style = {axis: tick_text(axis) for axis in "xy"}
        self.grid_style = GRID  # the same faint lines wherever drawn (the dashboard has no STYLE)
        ax.xaxis.set_visible(False)
        ax.yaxis.set_visible(False)

    def value_ticks(self) -> tuple[list[float], list[str]]:
        """The y axis' ticks within its limits now, and their labels. A plain number formatter gives every
        label in full: the Scale draws no offset ("+1") or power of ten ("1e6") beside the axis, as
        matplotlib's hidden axis would."""
        axis = self.axes.yaxis
        low, high = sorted(axis.get_view_interval())
        slack = (high - low) * 1e-9
        locs = [float(v) for v in axis.get_major_locator()() if low - slack <= v <= high + slack]
        formatter = axis.get_major_formatter()
        if isinstance(formatter, ScalarFormatter):
            formatter.set_useOffset(False)
            formatter.set_scientific(False)
        return locs, formatter.format_ticks(locs)

    def get_children(self) -> list[Artist]:
        """The gridlines and labels for the limits as they stand (built afresh: the limits may have moved)."""
        ax, dpi_scale = self.axes, self.figure.dpi_scale_trans
        y_ticks, y_labels = self.value_ticks()
        below = ax.get_xaxis_transform() + ScaledTranslation(0, -self.pad_pt["x"] / 72, dpi_scale)
        left = ax.get_yaxis_transform() + ScaledTranslation(-self.pad_pt["y"] / 72, 0, dpi_scale)
        years = [[(x, 0), (x, 1)] for x in self.x_ticks]  # x in data, y in axes fraction
        values = [[(0, y), (1, y)] for y in y_ticks]
        grid = [
            LineCollection(years, transform=ax.get_xaxis_transform(), **self.grid_style),
            LineCollection(values, transform=ax.get_yaxis_transform(), **self.grid_style),
        ]
        texts = [
            Text(x, 0, label, ha="center", va="top", transform=below, **self.text_style["x"])
            for x, label in zip(self.x_ticks, self.x_labels, strict=True)
            if label
        ] + [
            Text(0, y, label, ha="right", va="center_baseline", transform=left, **self.text_style["y"])
            for y, label in zip(y_ticks, y_labels, strict=True)
            if label
        ]
        for artist in [*grid, *texts]:
            artist.set_figure(self.figure)
        for line in grid:
            line.set_clip_path(ax.patch)
        return [*grid, *texts]

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible():
            return
        for artist in self.get_children():
            artist.draw(renderer)
        self.stale = False

    def get_tightbbox(self, renderer: RendererBase | None = None) -> Bbox | None:
        """Where the labels are drawn (what savefig's bbox_inches="tight" must keep), as the hidden axes'
        tick labels would say."""
        boxes = [artist.get_window_extent(renderer) for artist in self.get_children() if isinstance(artist, Text)]
        return Bbox.union(boxes) if boxes else None


def tick_pad(axis: str) -> float:
    """Points from the axes to a tick label: the tick's length and its pad, as matplotlib places them."""
    rc = matplotlib.rcParams
    return rc[f"{axis}tick.major.size"] + rc[f"{axis}tick.major.pad"]


def tick_text(axis: str) -> dict[str, object]:
    """A tick label's size and colour under the style in force."""
    rc = matplotlib.rcParams
    colour = rc[f"{axis}tick.labelcolor"]
    if colour == "inherit":
        colour = rc[f"{axis}tick.color"]
    return {"fontsize": rc[f"{axis}tick.labelsize"], "color": colour}


@dataclass(frozen=True)
class EventWindow:
    first: int  # month index, inclusive
    end: int  # month index, exclusive
    label: str


# What an event is called on a chart, from its fields (the scenario schema's names).
EVENT_WORDS = {
    "export_restriction": "{exporter} {kind}",
    "tariff": "{importer} tariff",
    "supply_disruption": "{country} disruption",
    "power_price_shock": "power price x{multiplier:g}",
    "allied_supply": "{country} allied supply",
    "funding_programme": "{name} funding",
}


def event_label(event: BaseModel) -> str:
    """A few words for an event: who does what."""
    kind = str(getattr(event, "type", "event"))
    return EVENT_WORDS.get(kind, kind.replace("_", " ")).format(**event.model_dump())


def event_windows(scenario: Scenario, months: int) -> list[EventWindow]:
    """The months each of the scenario's events is in force, clipped to the `months` run (as the model's
    timeline takes them); the same window twice is one window with both labels."""
    windows: dict[tuple[int, int], list[str]] = {}
    for event in scenario.events:
        first, end = scenario.event_window(event)
        first, end = max(first, 0), min(end, months)
        if first < end:
            labels = windows.setdefault((first, end), [])
            if (label := event_label(event)) not in labels:
                labels.append(label)
    return [EventWindow(first, end, ", ".join(labels)) for (first, end), labels in windows.items()]


def shade_events(ax: Axes, windows: Iterable[EventWindow], labelled: bool = False) -> None:
    """Grey bands where events are in force (overlaps darker); with `labelled`, each named at its start,
    one line below the one before so that names of events starting close together do not overlap."""
    for row, window in enumerate(windows):
        ax.axvspan(window.first - 0.5, window.end - 0.5, color=EVENT_SHADE, alpha=0.12, lw=0, zorder=0)
        if labelled:
            ax.annotate(
                window.label,
                (window.first, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(4, -4 - row * (TEXT_PX + 4)),
                textcoords="offset points",
                va="top",
                color="#444444",
            )


CAP_LINE = {"color": "#777777", "lw": 1, "ls": (0, (6, 3))}  # the model's price cap, wherever drawn


def reaches_cap(values: np.ndarray, cap: float | None) -> bool:
    """Whether a price series (x baseline) sits at the price cap `cap` in some month (to rounding)."""
    return cap is not None and bool(np.nanmax(values, initial=0.0) >= cap * (1 - 1e-9))


def split_zero(series: dict[str, np.ndarray], tolerance: float = ZERO) -> tuple[list[str], list[str]]:
    """Names of the series with a value beyond `tolerance`, and of those that are zero throughout."""
    kept = [name for name, values in series.items() if np.nanmax(np.abs(values), initial=0.0) > tolerance]
    return kept, [name for name in series if name not in kept]


def label_ends(ax: Axes, ends: dict[str, tuple[float, str]], gap_px: float = TEXT_PX + 3) -> None:
    """Name each line right of the axes, in its colour, level with a value of it (`ends`: name -> (value,
    colour)), nudged apart so that no two names overlap (a name may hold several lines): cheaper than a
    legend, and read without looking back and forth. Call it once the y limits are set."""
    to_axes = ax.transScale + ax.transLimits  # data to axes fraction, on a linear or a log scale
    line = gap_px / (ax.get_position().height * ax.figure.bbox.height)  # one line of text, in axes fraction
    placed = sorted((float(to_axes.transform((0.0, value))[1]), name) for name, (value, _) in ends.items())
    half = [line * (name.count("\n") + 1) / 2 for _, name in placed]
    centres = [y for y, _ in placed]
    for k in range(1, len(centres)):  # push up what sits too close to the name below it
        centres[k] = max(centres[k], centres[k - 1] + half[k - 1] + half[k])
    if centres and centres[-1] + half[-1] > 1.0:  # then down again from the top, keeping the order
        centres[-1] = 1.0 - half[-1]
        for k in range(len(centres) - 2, -1, -1):
            centres[k] = min(centres[k], centres[k + 1] - half[k + 1] - half[k])
    for y, (_, name) in zip(centres, placed, strict=True):
        ax.text(1.01, y, name, transform=ax.transAxes, va="center", color=readable(ends[name][1]))


def readable(colour: str) -> str:
    """The colour, darkened as far as text on white needs (a pale line colour makes faint words)."""
    red, green, blue = to_rgb(colour)
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    if luminance <= 0.55:
        return colour
    k = 0.55 / luminance
    return to_hex((red * k, green * k, blue * k))
