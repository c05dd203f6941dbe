"""The bottom floor: pixmo_formats imports only the standard library (and itself)."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pixmo_formats"


def _imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            tops |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            tops.add((node.module or "").partition(".")[0])
    return tops


def test_every_import_in_the_source_is_stdlib():
    allowed = set(sys.stdlib_module_names) | {"pixmo_formats"}
    found = {str(p.relative_to(PACKAGE)): _imported_tops(p) - allowed for p in sorted(PACKAGE.rglob("*.py"))}
    assert found and all(not extra for extra in found.values()), found


def test_importing_it_loads_nothing_outside_the_stdlib():
    script = (
        "import sys; before = set(sys.modules)\n"
        "import pixmo_formats, pixmo_formats.points, pixmo_formats.coords, pixmo_formats.capqa\n"
        "new = {m.partition('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'pixmo_formats'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert out.stdout.strip() == "[]"
