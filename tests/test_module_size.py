"""No module of the product over 600 lines (issue 15, "one hop to a capability").

A module that long holds more than one job, and a newcomer has to read all of it to change
one. The limit covers the code that ships and runs: ``mlplatform/`` (core, runtime,
estate, tools), ``components/`` and the policy pack ``policies/``. Tests and benchmarks are
not held to it.
"""

from __future__ import annotations

from pathlib import Path

from mlplatform.stackconfig import PROJECT_ROOT

LIMIT = 600
PACKAGES = ("mlplatform", "components", "policies")


def line_count(path: Path) -> int:
    """Lines as ``wc -l`` counts them for a file ending in a newline."""
    return len(path.read_text(encoding="utf-8").splitlines())


def oversized(root: Path, packages: tuple[str, ...] = PACKAGES, limit: int = LIMIT) -> dict[str, int]:
    """Every Python module under ``packages`` longer than ``limit`` lines, with its length."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            lines = line_count(path)
            if lines > limit:
                found[path.relative_to(root).as_posix()] = lines
    return found


def test_no_module_of_the_product_is_over_600_lines():
    assert all((PROJECT_ROOT / package).is_dir() for package in PACKAGES)
    too_long = oversized(PROJECT_ROOT)
    assert not too_long, "split these modules (lines over the 600-line limit): " + ", ".join(
        f"{name} ({lines})" for name, lines in too_long.items())


def test_the_check_finds_a_long_module_in_a_subpackage(tmp_path):
    deep = tmp_path / "components" / "sub"
    deep.mkdir(parents=True)
    (deep / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "components" / "fits.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    assert oversized(tmp_path, ("components", "elsewhere"), LIMIT) == {
        "components/sub/long.py": LIMIT + 1, "elsewhere/long.py": LIMIT + 1}
    assert oversized(tmp_path, ("components",), LIMIT) == {"components/sub/long.py": LIMIT + 1}
