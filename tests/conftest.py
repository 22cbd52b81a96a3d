"""Shared fixtures: captures are the slow part (about a second each), so capture once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlplatform.capture import capture_stack
from mlplatform.graph import ResourceGraph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "examples" / "teams"


@pytest.fixture(scope="session")
def dev_graph() -> ResourceGraph:
    return capture_stack("dev")


@pytest.fixture(scope="session")
def prod_graph() -> ResourceGraph:
    return capture_stack("prod")


@pytest.fixture
def teams_copy(tmp_path: Path) -> Path:
    """A writable copy of the example teams, for tests that edit specs."""
    target = tmp_path / "teams"
    shutil.copytree(EXAMPLES, target)
    return target
