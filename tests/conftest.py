"""Shared fixtures: captures are the slow part (about a second each), so capture once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlplatform.capture import capture_stack
from mlplatform.graph import ResourceGraph

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT_ROOT / "examples" / "teams"


def pytest_collection_modifyitems(items) -> None:
    """Every test that runs the real checkov (it asks for ``checkov_exe``) is marked
    ``checkov``, so ``pytest -m "not checkov"`` runs the suite without building or starting
    checkov's own environment. Derived from the fixture, the mark cannot be forgotten."""
    for item in items:
        if "checkov_exe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.checkov)


@pytest.fixture(scope="session")
def checkov_exe() -> str:
    """checkov from its own virtual environment (``$MLP_CHECKOV``, else the cached one; a
    fresh machine builds it here, once)."""
    from mlplatform.checkov.environment import checkov_executable

    return checkov_executable(quiet=True)


@pytest.fixture(scope="module")
def moto_url():
    """A moto server on 127.0.0.1 (nothing leaves loopback), one per test module: the
    Lambda handlers' end-to-end tests point boto3 at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def dev_graph() -> ResourceGraph:
    return capture_stack("dev")


@pytest.fixture(scope="session")
def prod_graph() -> ResourceGraph:
    return capture_stack("prod")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose base commit holds the example specs (the ``mlp ci`` tests)."""
    from tests.helpers.ci_repo import make_repo

    return make_repo(tmp_path, EXAMPLES)


@pytest.fixture
def teams_copy(tmp_path: Path) -> Path:
    """A writable copy of the example teams, for tests that edit specs."""
    target = tmp_path / "teams"
    shutil.copytree(EXAMPLES, target)
    return target
