"""The one error type users see for bad scenario input."""

from __future__ import annotations

from dataclasses import dataclass


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
        if self.file:
            text = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text
