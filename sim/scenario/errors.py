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

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text
