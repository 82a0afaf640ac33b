"""The shape the refactor (issue 8) left the packages in, kept by a test so it does not drift back.

Long functions were where copies and hidden branches piled up (build_index at 98 lines, clean_segment at 79).
A function longer than MAX_LINES in a package needs a `# long: <why>` comment on its `def` line or the
line after it, so that a long one is a decision someone wrote down, not an accident.

No two modules import each other, even through others (issue 25): see "no import cycles" below.
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


# ---------------------------------------------------------------- no import cycles between modules
#
# The import-linter contract in pyproject.toml keeps the layers in order (core <- archive <- index <- qa <- ui,
# archive_qa) but says nothing about two modules of one layer importing each other. This check does: every
# `import` and `from ... import` statement of a module counts, wherever it stands. Type-only imports (under
# `if TYPE_CHECKING:`) count, as issue 25 asks: they still tie the two modules' meanings together, and turning
# one into a run-time import later must not be what reveals the cycle. Imports inside a function count too: a
# lazy import defers the cost of loading a module, not the dependency, and moving an import into a function is
# the usual way a cycle gets hidden rather than removed. Edges are between modules (qa.cues -> qa.question);
# importing a.b.c also runs the package a.b's __init__, so that is an edge too.

CYCLE_ROOTS = ((ROOT, PACKAGES), (ROOT / "scripts", ("benchmarks",)))  # the benchmark tool's package as well


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Module name -> file, for every .py under the packages (a package is named by its __init__.py)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _importer_package(name: str, path: Path) -> list[str]:
    parts = name.split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _targets(node: ast.Import | ast.ImportFrom, name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules one import statement loads: the named module, its parent packages, and for
    `from package import name` the submodule `name` when it is one."""
    if isinstance(node, ast.Import):
        bases, names = [alias.name for alias in node.names], []
    else:
        base = node.module or ""
        if node.level:
            package = _importer_package(name, path)
            package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            base = ".".join([*package, *([base] if base else [])])
        bases, names = [base], [alias.name for alias in node.names]
    found = set()
    for base in bases:
        parts = base.split(".")
        found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        found.update(f"{base}.{item}" for item in names)
    return {module for module in found if module in known and module != name}


def _import_lines_under(tree: ast.Module, holds) -> set[int]:
    """Line numbers of the import statements nested in a node for which `holds(node)` is true."""
    return {inner.lineno for node in ast.walk(tree) if holds(node) for statement in node.body
            for inner in ast.walk(statement) if isinstance(inner, ast.Import | ast.ImportFrom)}


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
                                         or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph(files: dict[str, Path], root: Path) -> dict[str, dict[str, str]]:
    """module -> {imported module: where its first import is, e.g. 'qa/cues.py:12 (type-only)'}."""
    known = set(files)
    graph: dict[str, dict[str, str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        type_only = _import_lines_under(tree, _is_type_checking_block)
        in_function = _import_lines_under(tree, lambda n: isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
        edges: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                kind = (" (type-only)" if node.lineno in type_only else "") + (
                    " (in a function)" if node.lineno in in_function else "")
                for target in _targets(node, name, path, known):
                    edges.setdefault(target, f"{path.relative_to(root)}:{node.lineno}{kind}")
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, str]]) -> list[set[str]]:
    """The groups of two or more modules that all reach each other through imports (Tarjan's algorithm)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the longest import chain: a few dozen
        order[node] = low[node] = len(order)
        stack.append(node)
        for target in sorted(graph.get(node, {})):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return groups


def shortest_cycle(graph: dict[str, dict[str, str]], group: set[str]) -> list[str]:
    """The shortest [a, b, ..., a] inside one strongly connected group (breadth-first from each member)."""
    best: list[str] = []
    for start in sorted(group):
        paths, frontier = {start: [start]}, [start]
        while frontier:
            following = []
            for node in frontier:
                for target in sorted(graph[node]):
                    if target == start and (not best or len(paths[node]) + 1 < len(best)):
                        best = [*paths[node], start]
                    elif target in group and target not in paths:
                        paths[target] = [*paths[node], target]
                        following.append(target)
            frontier = following
    return best


def import_cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    return sorted(shortest_cycle(graph, group) for group in strongly_connected(graph))


def describe_cycle(cycle: list[str], graph: dict[str, dict[str, str]]) -> str:
    """The cycle, then the import statement behind each of its steps."""
    steps = [f"    {a} -> {b}   ({graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_the_cycle_checker_counts_type_only_and_function_local_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package."""\n', encoding="utf-8")
    (package / "a.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                                  "    from pkg.b import B\n", encoding="utf-8")
    (package / "b.py").write_text("def f():\n    from . import c\n    return c\n", encoding="utf-8")
    (package / "c.py").write_text("import pkg.a\n", encoding="utf-8")
    (package / "d.py").write_text("from pkg import a\nimport os\n", encoding="utf-8")
    graph = import_graph(module_files(tmp_path, ("pkg",)), tmp_path)
    assert graph["pkg.d"] == {"pkg": "pkg/d.py:1", "pkg.a": "pkg/d.py:1"}  # importing a.b runs a's __init__ too
    assert graph["pkg.a"] == {"pkg": "pkg/a.py:4 (type-only)", "pkg.b": "pkg/a.py:4 (type-only)"}
    assert graph["pkg.b"] == {"pkg": "pkg/b.py:2 (in a function)", "pkg.c": "pkg/b.py:2 (in a function)"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (package / "b.py").write_text("X = 1\n", encoding="utf-8")
    assert import_cycles(import_graph(module_files(tmp_path, ("pkg",)), tmp_path)) == []


def test_no_import_cycle_between_the_project_modules() -> None:
    graph: dict[str, dict[str, str]] = {}
    for root, packages in CYCLE_ROOTS:
        graph.update(import_graph(module_files(root, packages), root))
    groups = strongly_connected(graph)
    report = []
    for group in sorted(groups, key=sorted):
        report.append(describe_cycle(shortest_cycle(graph, group), graph))
        if len(group) > len(shortest_cycle(graph, group)) - 1:  # more cycles hide behind the shortest one
            report.append(f"    (all of these import each other, directly or not: {', '.join(sorted(group))})")
    assert groups == [], "import cycles (every import counts, type-only and function-local ones too):\n" + "\n".join(
        report)
