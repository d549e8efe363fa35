"""Shared fixtures."""

import pytest

from .helpers import SCENARIOS


@pytest.fixture
def write_scenario(tmp_path):
    """Write a YAML scenario into tmp_path (beside a copy of baseline.yaml) and return its path."""
    (tmp_path / "baseline.yaml").write_text((SCENARIOS / "baseline.yaml").read_text())

    def write(text: str, name: str = "s.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
