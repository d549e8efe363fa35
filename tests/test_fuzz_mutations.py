"""The shipped scenario files, mutated by the thousand as a careless or hostile user would: keys dropped,
types swapped, huge, infinite and NaN numbers, control characters, deep nesting, aliases, long names, bad
`extends`. Each file either runs or gets one ScenarioError line; never another exception, never a hang.

Mutations come from a seeded generator, one seed per file, so a failure names the case that reproduces
it (the test prints the file's text)."""

import copy
import random
import shutil
from pathlib import Path

import pytest
import yaml

from sim.api import simulate
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

from .helpers import SCENARIOS, no_hang

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
STRANGE_VALUES = [
    None,
    True,
    "",
    "x" * 5000,
    "2026-13",
    -1,
    0,
    10**400,
    -(10**30),
    1e308,
    -1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    [],
    {},
    [1, 2, 3],
    {"uniform": [0, 1]},
    {"uniform": [1, 0]},
    {"triangular": [0.2, 0.2, 0.2]},
    {"uniform": [0, float("inf")]},
    {"normal": [0, 1]},
    "all",
    "United States",
    "China",
    "antimony",
]
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\ufeff", "\u2028", "\r", "\t", "\ud800"]
BAD_EXTENDS = [".", "/", "..", "a" * 300, "sub/", "baseline.txt", "nowhere", "/dev/zero", "loop", "", 7, [1]]


def paths(data, prefix=()):
    """Every path into a parsed document."""
    yield prefix
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from paths(value, (*prefix, key))


def get(data, path):
    for part in path:
        data = data[part]
    return data


def structural(rng: random.Random, data: dict) -> dict:
    """Drop a key, swap a value for one of another type, wrap it deep, or add what no schema knows."""
    for _ in range(rng.randint(1, 3)):
        inside = [p for p in paths(data) if p]
        if not inside:
            break
        path = rng.choice(inside)
        parent, last = get(data, path[:-1]), path[-1]
        move = rng.random()
        if move < 0.3:
            del parent[last]
        elif move < 0.75:
            parent[last] = copy.deepcopy(rng.choice(STRANGE_VALUES))
        elif move < 0.85:
            value = parent[last]
            for _ in range(rng.choice([2, 10, 40])):
                value = [value]
            parent[last] = value
        elif move < 0.95 and isinstance(parent, dict):
            key = rng.choice(["surprise", "x" * 300, "minerals", "type", "1"])
            parent[key] = copy.deepcopy(rng.choice(STRANGE_VALUES))
        else:
            data["extends"] = rng.choice(BAD_EXTENDS)
    return data


def textual(rng: random.Random, text: str) -> str:
    """Edit the text itself: control characters, truncation, aliases, duplicated or shuffled lines."""
    move = rng.random()
    if move < 0.2:
        at = rng.randrange(len(text))
        return text[:at] + rng.choice(CONTROL) + text[at:]
    if move < 0.35:
        return text[: rng.randrange(len(text))]
    if move < 0.5:
        return text + rng.choice(
            [
                "loop: &w\n  foo: *w\n",
                "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
                + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9)),
                "world: " + "[" * 2000 + "]" * 2000 + "\n",
                "events: *nowhere\n",
                "? [a, b]\n: 1\n",
                "name: twice\n",
            ]
        )
    lines = text.splitlines(keepends=True)
    if move < 0.65 and lines:
        line = rng.choice(lines)
        return text + line * rng.choice([1, 2, 50])
    if move < 0.8 and len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    return text.replace(": ", ":", 1) if rng.random() < 0.5 else text.replace("  ", "\t", 1)


def mutated(seed: int, folder: Path) -> Path:
    """One mutated scenario file, written beside copies of the shipped ones (so `extends` resolves)."""
    rng = random.Random(seed)
    source = rng.choice(SHIPPED)
    text = source.read_text()
    if rng.random() < 0.6:
        data = structural(rng, yaml.safe_load(text))
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    if rng.random() < 0.5:
        text = textual(rng, text)
    path = folder / f"fuzz{seed}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    target = tmp_path_factory.mktemp("mutations")
    for path in SHIPPED:
        shutil.copy(path, target / path.name)
    (target / "loop.yaml").write_text("name: loop\nextends: loop\n")
    (target / "sub").mkdir()
    return target


def check(seed: int, folder: Path, tally: dict[str, int]) -> None:
    path = mutated(seed, folder)
    with no_hang(30):
        try:
            resolved = load_scenario(path)
        except ScenarioError as exc:
            message = str(exc)
            assert "\n" not in message and len(message) < 1000, (seed, message)
            tally["refused"] += 1
            return
        except Exception as exc:
            text = path.read_text(errors="replace")[:3000]
            raise AssertionError(f"seed {seed}: {exc.__class__.__name__}: {exc}\n--- file ---\n{text}") from exc
        try:
            result = simulate(resolved, months=min(resolved.scenario.horizon_months, 6))
        except ScenarioError as exc:  # drawn values that together break a rule
            assert "drawn values" in str(exc), (seed, str(exc))
            tally["refused"] += 1
            return
        assert result.summary
        tally["ran"] += 1


def run_cases(seeds: range, folder: Path) -> dict[str, int]:
    tally = {"ran": 0, "refused": 0}
    for seed in seeds:
        check(seed, folder, tally)
    assert tally["ran"] > len(seeds) // 20 and tally["refused"] > len(seeds) // 4, tally  # both kinds happen
    return tally


def test_two_hundred_mutated_shipped_scenarios_run_or_fail_clearly(folder):
    run_cases(range(200), folder)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(4))
def test_two_thousand_more_mutated_shipped_scenarios_run_or_fail_clearly(folder, block):
    run_cases(range(1000 + 500 * block, 1500 + 500 * block), folder)
