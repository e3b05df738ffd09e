"""The instructor package's layout rules: no import circles, and no module reaching for another
module's private names."""
from __future__ import annotations

import ast

from tests.helpers import REPO


def _module(path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """{module: [(imported module, names taken from it)]} of every module of autograder/ (top level
    and in functions alike)."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for path in sorted((REPO / "autograder").rglob("*.py")):
        name, found = _module(path), []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names if a.name.startswith("autograder")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder"):
                for a in node.names:  # `from autograder import sandbox` imports a module
                    sub = f"{node.module}.{a.name}"
                    where = REPO / sub.replace(".", "/")
                    is_module = where.is_dir() or where.with_suffix(".py").exists()
                    found.append((sub, []) if is_module else (node.module, [a.name]))
        out[name] = found
    return out


def test_no_import_circles():
    graph = {m: {target for target, _ in deps if target != m} for m, deps in _imports().items()}
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, f"import circles: {cycles}"


def test_no_module_takes_a_private_name_from_another():
    taken = [f"{m} takes {target}.{n}" for m, deps in _imports().items() for target, names in deps
             for n in names if n.startswith("_") and target != m]
    assert not taken, taken
