"""The shape the refactor (issue 8) left the packages in, kept by a test so it does not drift back.

Long functions were where copies and hidden branches piled up (build_index at 98 lines, clean_segment at 79).
A function longer than MAX_LINES in a package needs a `# long: <why>` comment on its `def` line or the
line after it, so that a long one is a decision someone wrote down, not an accident.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "archive", "index", "qa", "ui", "archive_qa")
MAX_LINES = 50


def long_functions(source: str, path: str) -> list[str]:
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        header = " ".join(lines[node.lineno - 1 : node.lineno + 1])
        if length > MAX_LINES and "# long:" not in header:
            found.append(f"{path}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_the_checker_finds_a_long_function_and_accepts_a_marked_one() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES + 1))
    assert long_functions(f"def big():\n{body}", "m.py") == [f"m.py:1 big ({MAX_LINES + 2} lines)"]
    assert long_functions(f"def big():  # long: a table\n{body}", "m.py") == []
    assert long_functions("def small():\n    return 1\n", "m.py") == []


def test_no_package_function_is_longer_than_the_limit_unless_marked() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == [], "split these or mark them '# long: <why>':\n" + "\n".join(found)
