"""The shapes of what `sim` stores, checked whenever it is read back.

A stored folder is trusted only as far as these models say: readers never index raw JSON. Each model
accepts exactly what the writers in sim/results/store.py and sim/results/studies.py write (extra fields are kept, so a
newer sim's folders still read), and file names listed in a folder must be plain names inside it.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def plain_name(name: str) -> str:
    """A file name inside the folder it is listed in: relative, no '..', no drive or backslash tricks."""
    parts = PurePosixPath(name).parts
    if not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor or "\\" in name:
        raise ValueError(f"'{name}' is not a file name inside the folder (an absolute path)")
    if ".." in parts or name.strip() in ("", "."):
        raise ValueError(f"'{name}' is not a file name inside the folder ('..' or empty)")
    return name


StoredName = Annotated[str, Field(strict=True), AfterValidator(plain_name)]

# Indicators every stored summary row carries, and that `sim show` and `sim runs` read.
REQUIRED_INDICATORS = (
    "cumulative_shortfall_share",
    "peak_shortfall_share",
    "months_in_shortfall",
    "defence_shortfall_share",
    "capacity_gap_t_per_yr_peak",
    "capacity_gap_share_peak",
    "price_outside_peak_ratio",
    "price_inside_min_ratio",
    "import_reliance_end",
    "funding_committed_usd",
    "capacity_built_t_per_yr",
)
# Keys that are not numbers (or null) when present: the month a shortfall first appears.
TEXT_KEYS = frozenset({"first_shortfall_month"})


class Stored(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class MineralRow(Stored):
    """One mineral's indicators: the required ones are finite numbers; every other one is a finite
    number or null (an indicator that does not apply, e.g. months to recover when never short)."""

    @model_validator(mode="before")
    @classmethod
    def _values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"a mineral's row is {json_type(data)}, not an object of indicators")
        for key in REQUIRED_INDICATORS:
            if key not in data:
                raise ValueError(f"'{key}' is missing")
        for key, value in data.items():
            required = key in REQUIRED_INDICATORS
            if (value is None and not required) or (key in TEXT_KEYS and isinstance(value, str)):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                allowed = "a finite number" if required else "a finite number or null"
                raise ValueError(f"'{key}' is {json.dumps(value)}; {allowed} is allowed")
        return data


class Summary(Stored):
    """summary.json of a run or an ensemble (medians in `minerals`)."""

    minerals: Annotated[dict[str, MineralRow], Field(min_length=1)]
    start: str | None = None
    price_cap_ratio: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None  # a single run's cap


class RunManifest(Stored):
    """manifest.json of a single run or an ensemble."""

    kind: Literal["run", "ensemble"] = "run"
    run_id: Annotated[str, Field(min_length=1)]
    label: Annotated[str, Field(max_length=80)] = ""
    overrides: list[str] = []  # the --set texts, as given (absent from runs stored before sim recorded them)
    scenario_name: str
    scenario_hash: str
    seed: int
    months: int
    created_utc: str = ""
    package_version: str = ""
    runs: Annotated[int, Field(ge=1)] | None = None
    scenario_files: list[str] = []
    scenario_resolved: dict[str, Any] = {}
    files: list[StoredName] = []

    @model_validator(mode="after")
    def _ensemble_has_runs(self) -> RunManifest:
        if self.kind == "ensemble" and self.runs is None:
            raise ValueError("an ensemble's manifest lacks 'runs' (how many runs it summarises)")
        return self


class OtherManifest(Stored):
    """manifest.json of a sweep, a sensitivity analysis, a scenario discovery, a robust-decision study or
    a role-play game's debrief (listed by `sim runs`, not a run)."""

    kind: Literal["sweep", "sensitivity", "discover", "robust", "game"]
    run_id: Annotated[str, Field(min_length=1)]
    scenario_name: str
    files: list[StoredName] = []
    runs: int | None = None  # sensitivity and discover: the runs it made
    futures: int | None = None  # robust: futures per policy
    target: str = ""  # discover
    metric: str = ""  # robust
    method: str = ""  # sensitivity
    rounds: int | None = None  # game

    @property
    def detail(self) -> str:
        """What distinguishes one such result from another of its kind, in a few words."""
        parts = {
            "discover": [self.target, f"{self.runs} futures" if self.runs else ""],
            "robust": [self.metric, f"{self.futures} futures" if self.futures else ""],
            "sensitivity": [self.method, f"{self.runs} runs" if self.runs else ""],
            "game": [f"{self.rounds} rounds" if self.rounds else ""],
        }.get(self.kind, [])
        return ", ".join(p for p in parts if p)


class ComparedRun(Stored):
    label: str
    source: str
    scenario: str
    scenario_hash: str
    seed: int
    months: int
    first_month: str = ""  # the months the run covers (not in compare.json written before they were)
    last_month: str = ""


class Comparison(Stored):
    """compare.json of a `sim compare` folder."""

    runs: Annotated[list[ComparedRun], Field(min_length=2)]
    plots: list[StoredName] = []
    created_utc: str = ""
    package_version: str = ""


def json_type(value: Any) -> str:
    """What a JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def problem(exc: ValidationError) -> str:
    """The first thing wrong, as 'where: what' (e.g. "minerals.gallium: 'seed' is missing")."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        message = f"'{error['loc'][-1]}' is missing"
        where = ".".join(str(part) for part in error["loc"][:-1])
    elif error["type"] in ("model_type", "dict_type"):
        message = f"should be an object, got {json_type(error['input'])}"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"
