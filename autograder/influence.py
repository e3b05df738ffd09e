"""Which test cells of a notebook each answer cell can influence, read from the code."""
from __future__ import annotations

import ast

import nbformat

from autograder import cells


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


def _local_names(scope: ast.AST) -> set[str]:
    """The names local to a function, lambda or comprehension (its parameters, what it assigns)."""
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    names = {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)}
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    inner = [n for b in body for n in ast.walk(b)]
    declared = {x for n in inner if isinstance(n, (ast.Global, ast.Nonlocal)) for x in n.names}
    names |= {n.id for n in inner if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in inner if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return names - declared


def _root_name(node: ast.AST) -> str | None:
    """``x`` of ``x``, ``x.a``, ``x[0]``, ``x.f()``, ``*x``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _statement_names(stmt: ast.stmt) -> tuple[set[str], set[str], set[str]]:
    """The global names a top-level statement reads, binds, and may change the object of (an attribute
    or item set, a method called, an argument passed), leaving out names local to its functions."""
    reads: set[str] = set()
    binds: set[str] = set()
    changes: set[str] = set()

    def visit(node: ast.AST, local: frozenset) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name not in local:
            binds.add(node.name)
        if isinstance(node, _SCOPES):
            local = local | _local_names(node)
        if isinstance(node, ast.Name) and node.id not in local:
            (reads if isinstance(node.ctx, ast.Load) else binds).add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            reads.update(node.names)
            binds.update(node.names)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            changes.update({_root_name(node)} - local)
        elif isinstance(node, ast.Call):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            changes.update({_root_name(x) for x in [receiver, *node.args, *(k.value for k in node.keywords)]
                            if x is not None} - local)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(stmt, frozenset())
    changes = {n for n in changes if n}
    return reads, binds, changes


def influence(nb: nbformat.NotebookNode) -> dict[str, set[str]]:
    """{answer cell: the test cells it can influence} of an instructor notebook.

    Read from the code, statement by statement in notebook order: a statement that reads, or changes
    the object of, a name an answer cell has influenced is influenced by that answer too, and so are
    the names it binds or changes; a test cell is influenced by every answer one of its statements
    is.  Modules (names bound by an import) carry no influence, so ``np`` does not tie every cell to
    every other; a name rebound from scratch drops what it carried.  A cell that is not Python
    (a cell magic) is influenced by every answer before it, and influences every cell after it."""
    out: dict[str, set[str]] = {}
    carried: dict[str, set[str]] = {}
    modules: set[str] = set()
    everything: set[str] = set()  # answers that reach every later cell (through a cell we cannot read)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        m = cells.meta(cell)
        own = {m["grade_id"]} if m.get("solution") else set()
        if own:
            out.setdefault(m["grade_id"], set())
        code = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                         for line in cell.source.splitlines())
        try:
            statements = ast.parse(code).body
        except SyntaxError:
            everything |= own | set(out)
            statements = []
        reached = own | everything
        for stmt in statements:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                modules.update((a.asname or a.name).split(".")[0] for a in stmt.names)
            reads, binds, changes = _statement_names(stmt)
            changes -= modules
            by = own | everything | set().union(*(carried.get(n, set()) for n in reads | changes))
            reached |= by
            for name in binds - modules:
                carried[name] = set(by)
            for name in changes:
                carried[name] = carried.get(name, set()) | by
        if m.get("grade"):
            for answer in reached:
                out[answer].add(m["grade_id"])
    return out
