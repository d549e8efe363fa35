"""Read YAML safely, keeping the line of every value so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError

PathKey = tuple[str | int, ...]


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse a YAML file with the safe loader; return the data and a map path -> line (1-based)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file ({exc.__class__.__name__}: {exc})", file=str(path)) from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, filename: str) -> tuple[Any, dict[PathKey, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        lines: dict[PathKey, int] = {}
        _index_lines(loader, node, (), lines, filename)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            problem = f"{context} (from line {context_mark.line + 1}): {problem}"
        raise ScenarioError(
            f"not valid YAML: {problem}",
            file=filename,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    finally:
        loader.dispose()
    return data, lines


def _index_lines(
    loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, lines: dict[PathKey, int], filename: str
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise ScenarioError("keys must be plain names", file=filename, line=key_node.start_mark.line + 1)
            if key in seen:
                raise ScenarioError(
                    f"'{key}' is given twice in the same block",
                    file=filename,
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key)
            _index_lines(loader, value_node, (*path, str(key)), lines, filename)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(loader, item, (*path, i), lines, filename)
