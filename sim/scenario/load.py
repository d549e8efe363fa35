"""Load a scenario: YAML with `extends`, `--set` overrides, distributions, validation against the world.

Merge rule for `extends`: mappings merge key by key (the child wins), `events` and `sources` append to
the parent's, any other list replaces the parent's; `name` and `description` are never inherited.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ValidationError

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Event, FundingProgramme, Scenario, SupplyDisruption, TimedEvent, month_index
from sim.scenario.yaml_lines import PathKey, parse_value, parse_yaml, read_yaml
from sim.world.coherent import make_coherent
from sim.world.load import default_world_dict
from sim.world.schema import REST, US, World

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"  # the scenario files that come with sim
DISTRIBUTIONS = {"uniform": 2, "triangular": 3}
APPENDED_LISTS = ("events", "sources")
NOT_INHERITED = ("name", "description")
MAX_EXTENDS_DEPTH = 20
MAX_EVENTS = 1_000  # the shipped scenarios have at most a dozen
MAX_NAME = 255  # a file name's limit on most file systems
NOT_DRAWN = {
    "horizon_months": "every run of a scenario shares one calendar; compare horizons with "
    "sim sweep --vary horizon_months=60,120",
    "start": "every run of a scenario shares one calendar",
    "seed": "each run's seed comes from --seed and the run number",
}


@dataclass
class Origin:
    file: str
    line: int | None


@dataclass
class ResolvedScenario:
    """A scenario after `extends`, overrides and validation, with its world; distributions not drawn."""

    scenario: Scenario
    world: World
    raw: dict[str, Any]
    files: list[str]
    distributions: dict[PathKey, tuple[str, list[float]]] = field(default_factory=dict)
    origins: dict[PathKey, Origin] = field(default_factory=dict, repr=False, compare=False)
    # world paths drawn from the data's ranges (--uncertain): rescaled with their group after a draw
    coherent: frozenset[PathKey] = frozenset()
    _shared: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def shared(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """What every run of this scenario builds alike when nothing is drawn (the model's policy arrays):
        built on first use, then shared by the runs in this process. Never pickled: an ensemble's
        workers each build their own. A resolved scenario is not changed once loaded (to change one,
        validate_raw a new one): what was shared would be stale."""
        if key not in self._shared:
            self._shared[key] = build()
        return self._shared[key]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_shared": {}}

    @property
    def hash(self) -> str:
        text = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def sample(self, rng: np.random.Generator) -> tuple[Scenario, World, dict[str, float]]:
        """Draw every distribution (in a fixed order) from `rng`; return concrete scenario and world."""
        if not self.distributions:
            return self.scenario, self.world, {}
        values: dict[PathKey, float] = {}
        for path in sorted(self.distributions, key=path_text):
            kind, params = self.distributions[path]
            value = float(rng.uniform(*params) if kind == "uniform" else rng.triangular(*params))
            values[path] = round(value) if is_integer_field(path) else value
        _, scenario, world = self._concrete(values, self.coherent & set(values))
        return scenario, world, {path_text(p): v for p, v in values.items()}

    def fixed(self, values: dict[PathKey, float]) -> ResolvedScenario:
        """This scenario with some inputs set to given values (one future of a sampled design); what is set
        is no longer drawn. World figures set here are made coherent like drawn ones (sim.world.coherent)."""
        world_paths = {p for p in values if p[:1] == ("world",)}
        raw, scenario, world = self._concrete(values, world_paths)
        left = {p: d for p, d in self.distributions.items() if p not in values}
        return ResolvedScenario(scenario, world, raw, self.files, left, self.origins, self.coherent - set(values))

    def _concrete(self, values: dict[PathKey, float], coherent: set[PathKey]) -> tuple[dict[str, Any], Scenario, World]:
        raw = copy.deepcopy(self.raw)
        for path, value in values.items():
            _set(raw, path, value, create=True)
        draws = {path_text(p): v for p, v in values.items()}
        try:
            scenario = Scenario.model_validate(raw)
            default = default_world_dict()
            world_data = _merge(default, scenario.world, [])
            if coherent:
                make_coherent(world_data, {p[1:] for p in coherent}, default)
            world = World.model_validate(world_data)
        except ValidationError as exc:  # each end was valid, together some values break a rule
            prefix: PathKey = ("world",) if exc.title == World.__name__ else ()
            error = _from_validation(exc, raw, self.origins, prefix=prefix, model=World if prefix else Scenario)
            raise _draw_error(error, draws) from None
        return raw, scenario, world


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ResolvedScenario:
    """Read, merge, override and validate a scenario file. Raises ScenarioError on any bad input."""
    path = Path(path)
    raw, origins, files = _load_chain(path, [])
    for text in overrides:
        key_path, value = _parse_override(text)
        if key_path[0] == "extends":
            raise ScenarioError(
                "'extends' cannot be changed with --set; write a scenario file that extends", field="--set"
            )
        _set(raw, key_path, value, create=True)
        for n in range(1, len(key_path) + 1):  # errors inside what --set created point at --set
            origins.setdefault(key_path[:n], Origin("--set", None))
        origins[key_path] = Origin("--set", None)
    return validate_raw(raw, origins, files)


def with_horizon(overrides: list[str] | tuple[str, ...] | None, months: int | None) -> list[str]:
    """The overrides, with `months` (the command line's --months) as a horizon override, so that events
    beyond it are reported, not silently dropped."""
    return [*(overrides or []), *([f"horizon_months={months}"] if months else [])]


def load_scenario_text(text: str, filename: str = "<text>") -> ResolvedScenario:
    """Validate a scenario given as YAML text (no `extends` across files)."""
    data, lines = parse_yaml(text, filename)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file must be a mapping of fields (name:, events:, ...)", file=filename)
    origins = {p: Origin(filename, n) for p, n in lines.items()}
    return validate_raw(data, origins, [filename])


def validate_raw(raw: dict[str, Any], origins: dict[PathKey, Origin], files: list[str]) -> ResolvedScenario:
    raw.pop("extends", None)
    if files:  # errors with no more precise place point at the file itself
        origins.setdefault((), Origin(files[-1], None))
    _check_event_count(raw, origins)
    distributions = _find_distributions(raw, (), origins)
    for path, (_, params) in list(distributions.items()):
        _check_drawable(path, origins)
        if params[0] == params[-1]:  # a degenerate distribution is its constant
            _set(raw, path, next(iter(_get(raw, path).values()))[0])
            del distributions[path]
    scenario = _validate_scenario(raw, distributions, origins)
    world = _validate_world(raw, distributions, origins)
    _check_names(scenario, world, raw, origins)
    return ResolvedScenario(scenario, world, raw, files, distributions, origins)


# --- files and merging ------------------------------------------------------------------------------


def _load_chain(path: Path, chain: list[Path]) -> tuple[dict[str, Any], dict[PathKey, Origin], list[str]]:
    resolved = path.resolve()
    if resolved in chain:
        loop = " -> ".join(p.name for p in [*chain, resolved])
        raise ScenarioError(f"'extends' makes a loop: {loop}", file=str(path), field="extends")
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError("'extends' chain is too deep", file=str(path), field="extends")
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file must be a mapping of fields (name:, events:, ...)", file=str(path), line=1)
    origins = {p: Origin(str(path), n) for p, n in lines.items()}
    _check_event_count(data, origins)
    parent_name = data.get("extends")
    if parent_name is None:
        return data, origins, [str(path)]
    parent_path = _parent_path(path, parent_name, lines.get(("extends",)))
    parent, parent_origins, files = _load_chain(parent_path, [*chain, resolved])
    for own in NOT_INHERITED:  # a child is its own scenario: it does not take the parent's name
        parent.pop(own, None)
        parent_origins.pop((own,), None)
    merged_origins: dict[PathKey, Origin] = dict(parent_origins)
    merged = _merge(parent, data, [], origins=origins, merged_origins=merged_origins)
    _check_event_count(merged, origins)  # pointing at this file: the one that went past the limit
    return merged, merged_origins, [*files, str(path)]


def _parent_path(path: Path, name: Any, line: int | None) -> Path:
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(
            "'extends' must name another scenario file",
            file=str(path),
            line=line,
            field="extends",
            allowed="a scenario name like baseline, or a relative path ending in .yaml",
        )
    candidate = Path(name)
    if candidate.name in ("", ".", "..") or len(name) > MAX_NAME or "\x00" in name:
        raise ScenarioError(
            f"'{name[:60]}' is not a scenario file name",
            file=str(path),
            line=line,
            field="extends",
            allowed="a scenario name like baseline, or a relative path ending in .yaml",
        )
    if candidate.suffix == "":
        candidate = candidate.with_suffix(".yaml")
    if candidate.suffix not in {".yaml", ".yml"}:
        raise ScenarioError(
            f"'extends: {name}' is not a scenario file",
            file=str(path),
            line=line,
            field="extends",
            allowed="a .yaml or .yml scenario file",
        )
    parent = candidate if candidate.is_absolute() else path.parent / candidate
    try:
        found = parent.is_file()
    except OSError as exc:  # e.g. a component longer than the file system allows
        raise ScenarioError(
            f"parent scenario '{name[:60]}' cannot be looked up ({exc.strerror or exc})",
            file=str(path),
            line=line,
            field="extends",
        ) from None
    if not found:
        raise ScenarioError(
            f"parent scenario '{name}' not found (looked for {parent})",
            file=str(path),
            line=line,
            field="extends",
            allowed=f"a scenario file's path, relative to {path.parent} or absolute; sim's own are in {SHIPPED}",
        )
    return parent


def _merge(
    base: Any,
    top: Any,
    path: list[str | int],
    origins: dict[PathKey, Origin] | None = None,
    merged_origins: dict[PathKey, Origin] | None = None,
    below: dict[PathKey, list[PathKey]] | None = None,
) -> Any:
    """Deep-merge `top` over `base`, recording where each merged value came from (`below` indexes the
    origins by their ancestors, so recording is linear in the size of the file)."""
    if origins is not None and below is None:
        below = {}
        for p in origins:
            for n in range(len(p) + 1):
                below.setdefault(p[:n], []).append(p)

    def note(src: PathKey, dst: PathKey) -> None:
        if origins is not None and merged_origins is not None and below is not None:
            for p in below.get(src, ()):
                merged_origins[dst + p[len(src) :]] = origins[p]

    if isinstance(base, dict) and isinstance(top, dict):
        out = dict(base)
        for key, value in top.items():
            here = [*path, key]
            if len(path) == 0 and key in APPENDED_LISTS and isinstance(value, list):
                old = out.get(key) or []
                old = old if isinstance(old, list) else []
                known = {_identity(v) for v in old} if key == "sources" else set()
                out[key] = [*old, *[v for v in value if _identity(v) not in known]]
                for i in range(len(value)):
                    note((key, i), (key, len(old) + i))
            elif key in out:
                both_blocks = isinstance(out[key], dict) and isinstance(value, dict)
                out[key] = _merge(out[key], value, here, origins, merged_origins, below)
                if not both_blocks:
                    note(tuple(here), tuple(here))
            else:
                out[key] = copy.deepcopy(value)
                note(tuple(here), tuple(here))
        if origins is not None and merged_origins is not None and tuple(path) in origins:
            merged_origins.setdefault(tuple(path), origins[tuple(path)])
        return out
    return copy.deepcopy(top)


def _identity(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _check_event_count(data: dict[str, Any], origins: dict[PathKey, Origin]) -> None:
    events = data.get("events")
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        raise _error_at(
            ("events",),
            origins,
            f"{len(events):,} events; a scenario holds at most {MAX_EVENTS:,} "
            "(split the question into several scenarios)",
            None,
        )


# --- overrides and distributions ---------------------------------------------------------------------

_KEY = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PATH = re.compile(r"[^.\[\]]+(?:\.[^.\[\]]+|\[\d+\])*")  # names joined by dots, list items as [0]


def _parse_override(text: str) -> tuple[PathKey, Any]:
    if "=" not in text:
        raise ScenarioError(
            f"--set '{text}' is not path=value",
            field="--set",
            allowed="e.g. --set horizon_months=60 or --set events[0].leakage=0.2",
        )
    path_text, value_text = text.split("=", 1)
    if path_text.strip() and not _PATH.fullmatch(path_text.strip()):
        raise ScenarioError(
            f"--set '{text}': the path '{path_text.strip()}' is not names joined by dots with list items as [N]",
            field="--set",
            allowed="e.g. events[0].leakage or world.minerals.antimony.stockpile_t",
        )
    parts: list[str | int] = []
    for name, index in _KEY.findall(path_text.strip()):
        parts.append(int(index) if index else name)
    if not parts or "".join(str(p) for p in parts) == "":
        raise ScenarioError(f"--set '{text}' has an empty path", field="--set")
    value = parse_value(value_text, "--set")
    return tuple(parts), value


def _find_distributions(
    data: Any, path: PathKey, origins: dict[PathKey, Origin]
) -> dict[PathKey, tuple[str, list[float]]]:
    found: dict[PathKey, tuple[str, list[float]]] = {}
    if isinstance(data, dict):
        named = [k for k in data if k in DISTRIBUTIONS]
        if named and len(data) > 1:
            raise _error_at(
                path,
                origins,
                f"a distribution is written alone, e.g. {{{named[0]}: [...]}}; "
                f"found other keys: {', '.join(str(k) for k in data if k not in DISTRIBUTIONS)}",
                None,
            )
        if len(data) == 1 and _looks_like_distribution(*next(iter(data.items()))):
            raise _error_at(path, origins, f"unknown distribution '{next(iter(data))}'", ", ".join(DISTRIBUTIONS))
        if len(data) == 1 and next(iter(data)) in DISTRIBUTIONS:
            kind, params = next(iter(data.items()))
            n = DISTRIBUTIONS[kind]
            ok = (
                isinstance(params, list)
                and len(params) == n
                and all(isinstance(p, int | float) and not isinstance(p, bool) for p in params)
            )
            if ok:
                ok = all(math.isfinite(p) for p in params) and math.isfinite(params[-1] - params[0])
            if ok and kind == "uniform":
                ok = params[0] <= params[1]
            if ok and kind == "triangular":
                ok = params[0] <= params[1] <= params[2]
            if not ok:
                shape = "[low, high]" if kind == "uniform" else "[low, mode, high]"
                raise _error_at(path, origins, f"{kind} needs {n} finite numbers {shape} in order", None)
            found[path] = (kind, [float(p) for p in params])
            return found
        for key, value in data.items():
            found.update(_find_distributions(value, (*path, key), origins))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.update(_find_distributions(value, (*path, i), origins))
    return found


def _check_drawable(path: PathKey, origins: dict[PathKey, Origin]) -> None:
    """Only a number field can be drawn, and not the calendar or the seed."""
    if len(path) == 1 and path[0] in NOT_DRAWN:
        raise _error_at(path, origins, f"cannot be drawn from a distribution: {NOT_DRAWN[str(path[0])]}", None)
    options = _options(_annotation_at(path))
    if not options or Any in options or any(o in (int, float) for o in options):
        return  # a number, or a field the validation will name
    kinds = " or ".join(sorted({getattr(o, "__name__", str(o)) for o in options if o is not NoneType}))
    raise _error_at(path, origins, f"a distribution stands for a number, and this field is {kinds}", None)


def _annotation_at(path: PathKey) -> Any:
    """The schema's type of the field at `path` (None when there is no such field)."""
    current: Any = World if path[:1] == ("world",) else Scenario
    for part in path[1:] if current is World else path:
        current = next((inner for o in _options(current) if (inner := _inside(o, part)) is not None), None)
        if current is None:
            return None
    return current


def _inside(annotation: Any, part: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        info = annotation.model_fields.get(part) if isinstance(part, str) else None
        return info.annotation if info else None
    args = get_args(annotation)
    if get_origin(annotation) is dict and isinstance(part, str):
        return args[1]
    if get_origin(annotation) is list and isinstance(part, int):
        return args[0]
    return None


def _options(annotation: Any) -> list[Any]:
    """The members of a union (X | None, an Annotated union of events), flattened."""
    if annotation is None:
        return []
    origin = get_origin(annotation)
    if origin is Annotated:
        return _options(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [o for arg in get_args(annotation) for o in _options(arg)]
    return [annotation]


def _draw_error(error: ScenarioError, draws: dict[str, float]) -> ScenarioError:
    """A rule broken by drawn values together: name the draws near the field, so the user sees which."""
    near = [k for k in draws if error.field and k.startswith(error.field.rsplit(".", 1)[0])] or list(draws)
    shown = ", ".join(f"{k}={draws[k]:.6g}" for k in near[:4]) + (" ..." if len(near) > 4 else "")
    error.message = f"drawn values break a rule ({shown}): {error.message}"
    return error


def _looks_like_distribution(key: Any, value: Any) -> bool:
    """A single key over a list of numbers ({normal: [1, 2]}) that is no field name is a distribution
    we do not know."""
    numbers = (
        isinstance(value, list) and value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
    return bool(numbers) and key not in DISTRIBUTIONS and key not in _field_names()


@cache
def _field_names() -> frozenset[str]:
    """Every field name of the scenario and world schemas."""
    names: set[str] = set()
    todo: list[type[BaseModel]] = [Scenario, World, *Event.__origin__.__args__]  # type: ignore[attr-defined]
    seen: set[type] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in (info.annotation, *getattr(info.annotation, "__args__", ())):
                inner = [arg, *getattr(arg, "__args__", ())]
                todo += [a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)]
    return frozenset(names)


def _with_draws(raw: dict[str, Any], distributions: dict[PathKey, tuple[str, list[float]]], end: int) -> dict:
    """A copy of raw with every distribution replaced by its low (end=0) or high (end=-1) value."""
    out = copy.deepcopy(raw)
    for path, (_, params) in distributions.items():
        _set(out, path, params[end])
    return out


# --- validation --------------------------------------------------------------------------------------


def _validate_scenario(
    raw: dict[str, Any], distributions: dict[PathKey, tuple[str, list[float]]], origins: dict[PathKey, Origin]
) -> Scenario:
    """Validate with every distribution at its low end, then at its high end; the low-end scenario is
    kept as the typed stand-in (draws happen per run)."""
    validated = []
    for end in (0, -1) if distributions else (0,):
        try:
            validated.append(Scenario.model_validate(_with_draws(raw, distributions, end)))
        except ValidationError as exc:
            raise _from_validation(exc, raw, origins, prefix=()) from None
    return validated[0]


def _validate_world(
    raw: dict[str, Any], distributions: dict[PathKey, tuple[str, list[float]]], origins: dict[PathKey, Origin]
) -> World:
    overrides = raw.get("world") or {}
    default = default_world_dict()
    if isinstance(overrides, dict):
        known = sorted(default["minerals"])
        for table in ("minerals", "sectors"):
            block = overrides.get(table)
            for name in block if isinstance(block, dict) else []:
                if name not in default["minerals"]:
                    raise _error_at(("world", table, name), origins, f"unknown mineral '{name}'", ", ".join(known))
        plants = overrides.get("plants")
        countries = {"United States", *default["supply"], *(p["feedstock_country"] for p in default["plants"].values())}
        countries |= set(overrides.get("supply") or {}) if isinstance(overrides.get("supply"), dict) else set()
        for name, plant in plants.items() if isinstance(plants, dict) else []:
            feed = plant.get("feedstock_country") if isinstance(plant, dict) else None
            if feed is not None and feed not in countries:
                raise _error_at(
                    ("world", "plants", name, "feedstock_country"),
                    origins,
                    f"unknown country {feed!r}",
                    ", ".join(sorted(countries)),
                )
    validated = []
    for end in (0, -1) if distributions else (0,):  # as for the scenario: both ends, keep the low one
        overrides = _with_draws(raw, distributions, end).get("world") or {}
        try:
            validated.append(World.model_validate(_merge(default_world_dict(), overrides, [])))
        except ValidationError as exc:
            raise _from_validation(exc, raw, origins, prefix=("world",), model=World) from None
    return validated[0]


def _from_validation(
    exc: ValidationError, raw: Any, origins: dict[PathKey, Origin], prefix: PathKey, model: type = Scenario
) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = _clean_loc(err["loc"])
    path = (*prefix, *loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    allowed = None
    if kind == "extra_forbidden":
        message = f"unknown field '{loc[-1]}'"
        allowed = _allowed_fields(model, loc[:-1], _get(raw, prefix) if prefix else raw, str(loc[-1]))
    elif kind == "literal_error":
        message = f"{err['input']!r} is not allowed"
        allowed = ctx.get("expected")
    elif kind == "union_tag_invalid":
        message = f"unknown event type {ctx.get('tag')!r}"
        allowed = ctx.get("expected_tags")
    elif kind == "union_tag_not_found":
        message = "an event needs a 'type'"
        allowed = _event_types()
    elif kind == "missing":
        message = "is required but missing"
    else:
        message = err["msg"].removeprefix("Value error, ")
        if "input" in err and not isinstance(err["input"], dict | list):
            message = f"{err['input']!r}: {message}"
    return _error_at(path, origins, message, allowed)


def _clean_loc(loc: tuple) -> PathKey:
    """Drop the discriminator tags pydantic puts into union locations."""
    tags = set(_event_types().split(", "))
    return tuple(p for p in loc if not (isinstance(p, str) and (p in tags or p.startswith("function-"))))


def _event_types() -> str:
    union = Event.__origin__  # type: ignore[attr-defined]
    return ", ".join(cls.model_fields["type"].annotation.__args__[0] for cls in union.__args__)


def _allowed_fields(model: type, loc: PathKey, data: Any, wrong: str = "") -> str | None:
    """Field names allowed at `loc` inside `model` (walking events by their type); of a long list, those
    closest to the `wrong` name given."""
    current: Any = model
    node = data
    for part in loc:
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
        if current is _EventList:
            current = _event_class(node.get("type")) if isinstance(node, dict) else None
        elif isinstance(current, _DictOf):
            current = current.inner
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            annotation = current.model_fields[part].annotation
            if part == "events":
                current = _EventList
            elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                current = annotation
            else:
                current = _model_in(annotation)
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return _field_list(list(current.model_fields), wrong)
    return None


def _field_list(fields: list[str], wrong: str, most: int = 16) -> str:
    """The allowed field names, or for a long list the closest to the wrong one and a pointer to the rest."""
    if len(fields) <= most:
        return ", ".join(fields)
    import difflib

    close = difflib.get_close_matches(wrong, fields, n=5, cutoff=0.3)
    shown = close or fields[:5]
    return f"{', '.join(shown)}, ... ({len(fields)} fields in all; `sim schema` lists them)"


class _EventList:  # marker while walking a location
    pass


def _model_in(annotation: Any) -> _DictOf | None:
    """The pydantic model inside dict[str, Model] / dict[str, dict[str, Model]] annotations."""
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return _DictOf(arg)
        inner = _model_in(arg)
        if inner is not None:
            return _DictOf(inner)
    return None


class _DictOf:
    def __init__(self, inner: Any) -> None:
        self.inner = inner


def _event_class(name: Any) -> type | None:
    union = Event.__origin__  # type: ignore[attr-defined]
    for cls in union.__args__:
        if cls.model_fields["type"].annotation.__args__[0] == name:
            return cls
    return None


def _check_byproduct_event(event: Any, i: int, world: World, origins: dict[PathKey, Origin]) -> None:
    """A host-stage disruption must name by-products the country recovers, and hosts it has; a recovery
    programme needs a US host for at least one of its minerals."""
    if isinstance(event, SupplyDisruption):
        if "host" not in event.stages:
            if event.hosts is not None:
                raise _error_at(("events", i, "hosts"), origins, "hosts apply to the host stage only", "stages: [host]")
            return
        for mineral in event.minerals:
            hosts = world.byproducts.get(mineral, {}).get(event.country, {})
            if not hosts:
                recovered = sorted(f"{m} in {c}" for m, rows in world.byproducts.items() for c in rows if c != US)
                message = f"{event.country} recovers no {mineral} as a by-product in the world data"
                raise _error_at(("events", i, "minerals"), origins, message, ", ".join(recovered))
            for host in event.hosts or []:
                if host not in hosts:
                    message = f"unknown host {host!r} of {mineral} in {event.country}"
                    raise _error_at(("events", i, "hosts"), origins, message, ", ".join(sorted(hosts)))
    elif isinstance(event, FundingProgramme) and event.builds != "processing":
        if event.instrument not in ("grant", "loan"):
            raise _error_at(("events", i, "builds"), origins, "only a grant or loan builds", "processing")
        listed = world.minerals if event.minerals == "all" else event.minerals
        if event.builds == "mine" and not any(m in world.mines for m in listed):
            message = "no mineral of this programme has a mine stage in the world data (world.mines)"
            raise _error_at(("events", i, "minerals"), origins, message, ", ".join(sorted(world.mines)))
        if event.builds != "recovery":
            return
        us_hosts = [m for m in listed if world.byproducts.get(m, {}).get(US)]
        if not us_hosts:
            with_hosts = sorted(m for m, rows in world.byproducts.items() if US in rows)
            message = "no mineral of this programme has a US host to recover it from (world.byproducts)"
            raise _error_at(("events", i, "minerals"), origins, message, ", ".join(with_hosts))


def _check_names(scenario: Scenario, world: World, raw: dict, origins: dict[PathKey, Origin]) -> None:
    """Names in events must exist in the world; timed events must start within the horizon."""
    minerals = sorted(world.minerals)
    countries = sorted(world.supply)
    for i, event in enumerate(scenario.events):

        def bad(field_name: str, value: Any, allowed: list[str], i: int = i) -> ScenarioError:
            return _error_at(
                ("events", i, field_name), origins, f"unknown {field_name.rstrip('s')} {value!r}", ", ".join(allowed)
            )

        listed = getattr(event, "minerals", None)
        for name in listed if isinstance(listed, list) else []:
            if name != "all" and name not in world.minerals:
                raise bad("minerals", name, minerals)
        if hasattr(event, "mineral") and event.mineral not in world.minerals:
            raise bad("mineral", event.mineral, minerals)
        mine_countries = {c for rows in world.mines.values() for c in rows} - {US}
        for attr in ("exporter", "country"):
            value = getattr(event, attr, None)
            if value is not None and value not in world.supply and value not in mine_countries:
                raise bad(attr, value, sorted({*countries, *mine_countries}))
        exporters = getattr(event, "exporters", None)
        for value in exporters if isinstance(exporters, list) else []:
            if value not in world.supply:
                raise bad("exporters", value, countries)
        regions = sorted(world.regions)
        for value in getattr(event, "destinations", None) or []:
            if value != "all" and value not in world.regions:
                raise _error_at(
                    ("events", i, "destinations"), origins, f"unknown region {value!r}", ", ".join(["all", *regions])
                )
        destinations = getattr(event, "destinations", None) or []
        if destinations and "all" not in destinations:
            home = next((n for n, region in world.regions.items() if event.exporter in region.countries), REST)
            if set(destinations) == {home}:
                raise _error_at(
                    ("events", i, "destinations"),
                    origins,
                    f"{home} is {event.exporter}'s own region: sales there are not exports, so the restriction "
                    "covers nothing",
                    ", ".join(["all", *(r for r in regions if r != home)]),
                )
        importer = getattr(event, "importer", None)
        if importer is not None and importer not in world.regions:
            raise _error_at(("events", i, "importer"), origins, f"unknown region {importer!r}", ", ".join(regions))
        if getattr(event, "sectors", None):
            for mineral in event.minerals:
                known = sorted(world.sectors[mineral])
                for sector in event.sectors:
                    if sector not in world.sectors[mineral]:
                        raise _error_at(
                            ("events", i, "sectors"),
                            origins,
                            f"unknown sector {sector!r} for {mineral}",
                            ", ".join(known),
                        )
        stages = getattr(event, "stages", ["processing"])
        for attr in ("exporter", "country"):
            country = getattr(event, attr, None)
            produced = [m for m in (listed if isinstance(listed, list) else [getattr(event, "mineral", None)]) if m]
            for mineral in produced if country else []:
                if "mine" in stages and country not in world.mines.get(mineral, {}):
                    raise _error_at(
                        ("events", i, attr),
                        origins,
                        f"{country} mines no {mineral} in the world data (stage mine)",
                        ", ".join(sorted(c for c in world.mines.get(mineral, {}) if c != US)) or "none: no mine stage",
                    )
                if "processing" in stages and mineral not in world.supply.get(country, {}):
                    raise _error_at(
                        ("events", i, attr),
                        origins,
                        f"{country} produces no {mineral} in the world data",
                        ", ".join(c for c, rows in sorted(world.supply.items()) if mineral in rows),
                    )
        _check_byproduct_event(event, i, world, origins)
        if isinstance(event, TimedEvent):
            first = month_index(event.start, scenario.start)
            if event.months is not None and first + event.months <= 0:
                raise _error_at(
                    ("events", i, "start"),
                    origins,
                    f"the event ends before the scenario starts ({scenario.start}), so it does nothing",
                    None,
                )
            if first >= scenario.horizon_months:
                raise _error_at(
                    ("events", i, "start"),
                    origins,
                    f"{event.start} is after the horizon ({scenario.horizon_months} months from {scenario.start})",
                    None,
                )


def _error_at(path: PathKey, origins: dict[PathKey, Origin], message: str, allowed: Any) -> ScenarioError:
    origin = None
    for n in range(len(path), -1, -1):
        origin = origins.get(tuple(path[:n]))
        if origin is not None:
            break
    if isinstance(allowed, list | tuple):
        allowed = ", ".join(str(a) for a in allowed)
    return ScenarioError(
        message,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        field=path_text(path) or None,
        allowed=allowed,
    )


# --- small path helpers ------------------------------------------------------------------------------


def path_text(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _get(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: PathKey, value: Any, create: bool = False) -> None:
    node = data
    for i, part in enumerate(path[:-1]):
        if not _has(node, part):
            if isinstance(node, list):
                raise ScenarioError(f"no such item '{path_text(path[: i + 1])}' (there are {len(node)})", field="--set")
            if not create or not isinstance(node, dict):
                raise ScenarioError(f"no such field '{path_text(path[: i + 1])}'", field="--set")
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list) and not _has(node, last):
        raise ScenarioError(
            f"no such item '{path_text(path)}' (there are {len(node)})",
            field="--set",
            allowed=f"indices 0 to {len(node) - 1}" if node else None,
        )
    if not isinstance(node, dict | list):
        raise ScenarioError(f"'{path_text(path[:-1])}' is not a block of fields", field="--set")
    node[last] = value


def is_integer_field(path: PathKey) -> bool:
    """True when the field at `path` is an integer in the schema (drawn values are rounded for it)."""
    return str(path[-1]) in INTEGER_FIELDS


def _pydantic_models(annotation: Any, seen: set[type]) -> list[type[BaseModel]]:
    """Every pydantic model an annotation leads to (through lists, dicts, unions and Annotated), once."""
    if get_origin(annotation) is not None:
        return [m for arg in get_args(annotation) for m in _pydantic_models(arg, seen)]
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or annotation in seen:
        return []
    seen.add(annotation)
    fields = annotation.model_fields.values()
    return [annotation, *(m for field in fields for m in _pydantic_models(field.annotation, seen))]


def _is_int(annotation: Any) -> bool:
    """int, int | None or Annotated[int, ...]."""
    if get_origin(annotation) is Annotated:
        return _is_int(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return len(args) == 1 and _is_int(args[0])
    return annotation is int


# Names of the integer fields of scenarios and of the world, read off their schemas (a field name means the
# same type wherever it stands: a test checks that no name is an integer in one model and not in another).
INTEGER_FIELDS = frozenset(
    name
    for model in _pydantic_models(Scenario, set()) + _pydantic_models(World, set())
    for name, field in model.model_fields.items()
    if _is_int(field.annotation)
)
