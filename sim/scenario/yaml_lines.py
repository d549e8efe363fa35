"""Read YAML safely, keeping the line of every value so errors can point at it.

Scenario files are short texts; what is not (megabytes, thousands of nested brackets, aliases that expand
to billions of values, or refer to themselves) is refused with a ScenarioError before it can exhaust the
stack, the memory or the user's patience.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError

PathKey = tuple[str | int, ...]

MAX_BYTES = 256 * 1024  # the longest shipped scenario is under 3 KB
MAX_DEPTH = 32  # blocks within blocks; a scenario needs about six
MAX_VALUES = 100_000  # values once aliases are expanded


class TooLarge(ScenarioError):
    """YAML past one of the limits above: refused, never read as text instead."""


def read_yaml(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Parse a YAML file with the safe loader; return the data and a map path -> line (1-based)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise ScenarioError("is a directory, not a scenario file", file=str(path)) from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ScenarioError(f"cannot read the file ({reason})", file=str(path)) from None
    if len(data) > MAX_BYTES:
        raise TooLarge(
            f"is larger than {MAX_BYTES // 1024} KiB; a scenario file is a short text (shipped ones are under 3 KB)",
            file=str(path),
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"is not UTF-8 text (byte {exc.start})", file=str(path)) from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, filename: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML text; return the data and a map path -> line (1-based). Raises ScenarioError."""
    if len(text) > MAX_BYTES:
        raise TooLarge(f"is longer than {MAX_BYTES // 1024} KiB; a scenario is a short text", file=filename)
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, filename)
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        lines: dict[PathKey, int] = {}
        _index_lines(loader, node, (), lines, filename, set())
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ScenarioError(
            f"not valid YAML: character #x{code:04x} is not allowed (no control characters in a scenario)",
            file=filename,
            line=line,
        ) from None
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
        if loader is not None:
            loader.dispose()
    return data, lines


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing blocks nested deeper than MAX_DEPTH while composing (PyYAML composes
    recursively, so depth would otherwise end in a RecursionError)."""

    def __init__(self, stream: str, filename: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._filename = filename

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TooLarge(
                    f"blocks are nested more than {MAX_DEPTH} deep",
                    file=self._filename,
                    line=self.peek_event().start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _index_lines(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: PathKey,
    lines: dict[PathKey, int],
    filename: str,
    open_nodes: set[int],
) -> None:
    """Record the line of every value; walking aliases as the data will expand them, so a self-reference,
    excessive depth or an expansion past MAX_VALUES is caught here, before anything copies the data."""
    if id(node) in open_nodes:
        raise TooLarge(
            "an alias refers to a block that contains it (a recursive structure)",
            file=filename,
            line=node.start_mark.line + 1,
        )
    if len(path) > MAX_DEPTH:
        line = node.start_mark.line + 1
        message = f"blocks are nested more than {MAX_DEPTH} deep (aliases included)"
        raise TooLarge(message, file=filename, line=line)
    if len(lines) >= MAX_VALUES:
        raise TooLarge(
            f"more than {MAX_VALUES:,} values once aliases are expanded; a scenario is a short text",
            file=filename,
            line=node.start_mark.line + 1,
        )
    lines[path] = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        return
    open_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ScenarioError("keys must be plain names", file=filename, line=key_node.start_mark.line + 1)
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
            _index_lines(loader, value_node, (*path, str(key)), lines, filename, open_nodes)
    else:
        for i, item in enumerate(node.value):
            _index_lines(loader, item, (*path, i), lines, filename, open_nodes)
    open_nodes.discard(id(node))


def parse_value(text: str, where: str) -> Any:
    """A value given on the command line (`--set path=VALUE`, `--vary path=a,b`): YAML when it parses,
    else the text itself; YAML past the limits (a recursive or exploding alias) is refused."""
    if not text.strip():
        return ""
    try:
        data, _ = parse_yaml(text, where)
    except TooLarge:
        raise
    except ScenarioError:
        return text
    return data
