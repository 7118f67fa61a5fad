"""The read side depends only on the database and the domain (issue #13): nothing under lib/queries or lib/analytics
imports lib.services, and the void checks both sides share read no database."""
import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "lib"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, `from lib import services` counted as lib.services."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", ["queries", "analytics"])
def test_the_read_side_never_imports_the_services(package):
    files = sorted((LIB / package).rglob("*.py"))
    assert files
    offenders = {f"{path.relative_to(LIB.parent)}: {module}" for path in files for module in imported_modules(path)
                 if _within(module, "lib.services")}
    assert not offenders, sorted(offenders)


def test_the_void_checks_are_pure():
    reads = {m for m in imported_modules(LIB / "void_checks.py")
             if any(_within(m, p) for p in ("lib.db", "lib.services", "lib.queries", "lib.analytics", "duckdb"))}
    assert not reads, sorted(reads)


def test_imports_are_found_in_every_form(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("import lib.services.voids\nfrom lib import services\nfrom lib.services.orders import bump\n"
                      "def f():\n    from lib.services import voids\n", encoding="utf-8")
    found = {m for m in imported_modules(source) if _within(m, "lib.services")}
    assert found == {"lib.services", "lib.services.voids", "lib.services.orders", "lib.services.orders.bump"}
