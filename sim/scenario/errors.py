"""The one error type users see for bad scenario input."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LONGEST_WORD = 80  # a value echoed back is shortened past this (a 5,000-character name helps nobody)


@dataclass
class ScenarioError(Exception):
    """Bad scenario input: where it is (file, line, field), what is wrong and what is allowed."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    allowed: str | None = None

    def __reduce__(self) -> tuple:  # raised in ensemble workers, so it must survive pickling
        return (type(self), (self.message, self.file, self.line, self.field, self.allowed))

    def __str__(self) -> str:
        text = ""
        if self.file:  # the user's own path, never shortened
            text = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        said = f"{self.field}: " if self.field else ""
        said += self.message
        if self.allowed:
            said += f" (allowed: {self.allowed})"
        return one_line(text, shorten=False) + one_line(said)


def one_line(text: str, shorten: bool = True) -> str:
    """The message as one printable line: control characters (newlines too) escaped, long words cut."""
    printable = "".join(
        c if c == " " or not unicodedata.category(c).startswith(("C", "Z")) else ascii(c)[1:-1] for c in text
    )
    if not shorten:
        return printable
    return re.sub(
        rf"\S{{{LONGEST_WORD + 1},}}", lambda m: f"{m[0][:50]}...{m[0][-20:]} ({len(m[0]):,} characters)", printable
    )
