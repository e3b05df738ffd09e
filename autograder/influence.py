"""Which test cells of a notebook each answer cell can influence, read from the code.

The catalogue (:mod:`autograder.catalogue`) grades wrong answers that cannot meet as one student;
this module says which cannot.  :func:`influence` reads a notebook as a student hands it in (the
instructor's notebook with the student's answer cells in it) and follows names through it,
statement by statement in notebook order.  A statement is influenced by an answer cell if it reads
a name the answer has influenced, or changes the object of one; then so are the names it binds and
the objects it changes.  A test cell is influenced by every answer one of its statements is.

What a statement does with names (:class:`Use`, read once per distinct piece of code):

* **reads**: names it loads, also in lambdas, comprehensions, default values and decorators; and,
  when it calls a function of the notebook, what that function's body reads when it runs (a
  function is summed up where it is defined: the global names its body reads, binds and changes,
  and what it calls; a class counts as a function, its methods in it);
* **binds**: a name bound from scratch at the top level of a statement (``x = ...``, ``def``,
  ``class``, ``import``) drops what it carried before; bound otherwise (in an ``if``, a loop,
  ``x += ...``, ``except ... as x``, a function's ``global``) it keeps it as well;
* **changes**: an attribute or item set (``x.a = ...``, ``x[0] = ...``), a method called
  (``x.append(...)``), a name passed to a function of the notebook, to a method, to anything
  else that is not a module's function (NumPy's, the builtins: these do not change what they
  are given, unless they are known to: ``shuffle``, ``next``, ``out=``...).  The object changes,
  and with it every name that may be bound to the same object: ``ys = xs``, ``w = params["w"]``,
  ``for layer in layers``;
* **global random state**: a call that may draw random numbers from a generator that every later
  draw shares (NumPy's global one, Python's ``random``, Keras and torch: a layer made, a model
  built, fitted or called; the course's helpers other than feedback, plots and data) reads and
  changes one stand-in name, :data:`RANDOM`, so an answer that draws more or fewer numbers
  influences whatever draws next.

Modules carry nothing else: ``np.exp(x)`` ties no cell to another.  A cell that cannot be read
(not Python, an IPython magic) is influenced by every answer before it and influences every cell
after it.  What this does not follow: a function that returns one of its arguments (``y = f(x)``
is a new object), a module's settings that a cell changes (``np.seterr``, ``plt.rcParams``), files
a cell writes and another reads.  The catalogue does not take the reading on trust: a pack whose
grades its answers do not explain is graded again answer by answer.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field

import nbformat

from autograder import cells

RANDOM = "<global random state>"
# calls into these may draw from (or set) random state that every later draw shares
RANDOM_MODULES = ("random", "numpy.random", "keras", "torch", "tensorflow", "jax", "course")
# ... except these: generators of one's own, and the course's helpers that draw nothing
OWN_GENERATORS = {"default_rng", "Generator", "RandomState", "SeedSequence", "BitGenerator", "PCG64", "PCG64DXSM",
                  "Philox", "SFC64", "MT19937"}
PURE_MODULES = ("course.feedback", "course.plots", "course.data")
# methods that build, fit or run a Keras model (building one draws its initial weights)
MODEL_METHODS = {"fit", "train_on_batch", "predict", "predict_on_batch", "evaluate", "test_on_batch", "build",
                 "__call__"}
# functions of modules and builtins that change what they are given
MUTATORS = {"shuffle", "fill", "copyto", "put", "place", "putmask", "sort", "next", "setattr", "delattr", "exec",
            "eval", "vars", "update"}
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Call:
    path: tuple[str, ...] | None   # ("np", "random", "rand"), ("model", "fit"); None: not names and attributes
    receiver: str | None           # x of x.f(...)
    passed: frozenset[str]         # names given to it
    out: bool                      # it has an out= argument


@dataclass
class Use:
    """What a top-level statement, or a function's body, does with global names."""
    reads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)
    fresh: set[str] = field(default_factory=set)          # bound from scratch (drops what the name carried)
    changes: set[str] = field(default_factory=set)        # attribute or item set
    calls: set[Call] = field(default_factory=set)
    aliases: set[tuple[str, str]] = field(default_factory=set)  # (name, name it may be the same object as)
    imports: dict[str, str] = field(default_factory=dict)       # name: what it imports ("numpy", "keras.layers")
    functions: dict[str, Use] = field(default_factory=dict)     # functions and classes it defines

    def merge(self, other: Use) -> None:
        self.reads |= other.reads
        self.binds |= other.binds
        self.changes |= other.changes
        self.calls |= other.calls
        self.aliases |= other.aliases


def _local_names(scope: ast.AST) -> set[str]:
    """The names local to a function, lambda, class body or comprehension."""
    if isinstance(scope, _COMPREHENSIONS):
        return {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    names = {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)} if isinstance(scope, _FUNCTIONS) else set()
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    inner = [n for b in body for n in ast.walk(b)]
    declared = {x for n in inner if isinstance(n, (ast.Global, ast.Nonlocal)) for x in n.names}
    names |= {n.id for n in inner if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in inner if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    names |= {n.name for n in inner if isinstance(n, ast.ExceptHandler) and n.name}
    names |= {(a.asname or a.name).split(".")[0] for n in inner if isinstance(n, (ast.Import, ast.ImportFrom))
              for a in n.names}
    return names - declared


def _root_name(node: ast.AST) -> str | None:
    """``x`` of ``x``, ``x.a``, ``x[0]``, ``x.f()``, ``*x``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _reference(node: ast.AST) -> str | None:
    """``x`` of ``x``, ``x.a``, ``x[0]`` (an object that already is), None for anything computed."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> tuple[str, ...] | None:
    """("np", "random", "rand") of ``np.random.rand``; None if it is not names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return (node.id, *reversed(parts))


class _Reader:
    """Fills a :class:`Use` from one top-level statement."""

    def statement(self, stmt: ast.stmt) -> Use:
        use = Use()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            use.fresh |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
        elif isinstance(stmt, ast.Assign):
            use.fresh |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            use.fresh |= {e.id for t in stmt.targets if isinstance(t, (ast.Tuple, ast.List))
                          for e in t.elts if isinstance(e, ast.Name)}
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
            use.fresh.add(stmt.target.id)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            use.fresh.add(stmt.name)
        self.visit(stmt, frozenset(), use)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda):  # f = lambda ...: a function too
            body = Use()
            self.visit(stmt.value.body, frozenset(_local_names(stmt.value)), body)
            use.functions.update((t.id, body) for t in stmt.targets if isinstance(t, ast.Name))
        return use

    def visit(self, node: ast.AST, local: frozenset, use: Use) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._definition(node, local, use)
            return
        if isinstance(node, ast.Lambda):
            for d in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.visit(d, local, use)
            self.visit(node.body, local | _local_names(node), use)  # as it is defined: it may run at once
            return
        if isinstance(node, _COMPREHENSIONS):
            self.visit(node.generators[0].iter, local, use)          # evaluated outside the comprehension
            inner = local | _local_names(node)
            for i, g in enumerate(node.generators):
                if i:
                    self.visit(g.iter, inner, use)
                for cond in g.ifs:
                    self.visit(cond, inner, use)
            for part in ((node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,)):
                self.visit(part, inner, use)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                name = (a.asname or a.name).split(".")[0]
                if name not in local:
                    whole = a.name if a.asname or isinstance(node, ast.ImportFrom) else name
                    use.imports[name] = f"{node.module or ''}.{whole}" if isinstance(node, ast.ImportFrom) else whole
                    use.binds.add(name)
        elif isinstance(node, ast.Name) and node.id not in local:
            (use.reads if isinstance(node.ctx, ast.Load) else use.binds).add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id not in local:
            use.reads.add(node.target.id)                             # x += 1 reads x, and keeps what it carried
        elif isinstance(node, ast.ExceptHandler) and node.name and node.name not in local:
            use.binds.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            use.reads.update(node.names)
            use.binds.update(node.names)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            use.changes.update({_root_name(node)} - local - {None})
        elif isinstance(node, ast.Call):
            receiver = _root_name(node.func.value) if isinstance(node.func, ast.Attribute) else None
            given = [*node.args, *(k.value for k in node.keywords)]
            passed = {_reference(x) for x in given} - local - {None}
            path = _dotted(node.func)
            use.calls.add(Call(path if path is None or path[0] not in local else None,
                               receiver if receiver not in local else None, frozenset(passed),
                               any(k.arg == "out" for k in node.keywords)))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            source = _reference(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if source is not None and source not in local:
                use.aliases |= {(_reference(t), source) for t in targets if _reference(t) not in local | {None}}
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            if isinstance(node, (ast.For, ast.AsyncFor)):
                pairs = [(node.target, node.iter)]
            else:
                pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars is not None]
            for target, source in pairs:      # for x in xs (xs.items(), enumerate(xs), ...): x is in xs
                sources = {n.id for n in ast.walk(source) if isinstance(n, ast.Name)} - local
                use.aliases |= {(t.id, s) for t in ast.walk(target) if isinstance(t, ast.Name)
                                and t.id not in local for s in sources}
        for child in ast.iter_child_nodes(node):
            self.visit(child, local, use)

    def _definition(self, node, local: frozenset, use: Use) -> None:
        """A function or class: its name is bound; decorators, defaults and bases are read here; its
        body is summed up in a Use of its own (a class body runs at once: it counts here too)."""
        if node.name not in local:
            use.binds.add(node.name)
        outside = [*node.decorator_list]
        if isinstance(node, ast.ClassDef):
            outside += [*node.bases, *(k.value for k in node.keywords)]
        else:
            outside += [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        for part in outside:
            self.visit(part, local, use)
        inner = local | _local_names(node)
        body = Use() if not local else use       # a function in a function: part of the outer one's body
        for stmt in node.body:
            self.visit(stmt, inner, body)
        if body is not use:
            use.functions[node.name] = body
            if isinstance(node, ast.ClassDef):
                use.merge(body)


@functools.lru_cache(maxsize=4096)
def _read_cell(source: str) -> tuple[Use, ...] | None:
    """The Use of each top-level statement of a code cell; None if it cannot be read."""
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return tuple(_Reader().statement(stmt) for stmt in tree.body)


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


class _Notebook:
    """What is known at one point of a notebook, as :func:`influence` reads it in order."""

    def __init__(self):
        self.carried: dict[str, set[str]] = {}   # name: the answers that influenced it
        self.same: dict[str, set[str]] = {}      # name: names that may be bound to the same object
        self.origins: dict[str, str] = {}        # name: the module (or module's member) it was imported as
        self.functions: dict[str, Use] = {}

    def module(self, call: Call) -> str | None:
        """The dotted name of what a call calls, if it is a module's (``numpy.random.rand``)."""
        if call.path is None or call.path[0] not in self.origins:
            return None
        return ".".join([self.origins[call.path[0]], *call.path[1:]])

    def draws_random(self, call: Call) -> bool:
        """Whether a call may draw from, or set, random state shared by later draws."""
        full = self.module(call)
        if full is not None:
            if _within(full, PURE_MODULES) or full.split(".")[-1] in OWN_GENERATORS:
                return False
            return _within(full, ("numpy.random",)) if _within(full, ("numpy",)) else _within(full, RANDOM_MODULES)
        if call.path is None:
            return False
        root, rest = call.path[0], call.path[1:]
        if (root in self.functions and not rest) or root not in self.carried:
            return False  # the notebook's own function (its body counts: see expanded), or a builtin
        return (rest[-1] if rest else "__call__") in MODEL_METHODS  # a model's fit, predict, build; a model called

    def changed_by(self, call: Call) -> set[str]:
        """The names whose objects a call may change."""
        out = {call.receiver} if call.receiver and call.receiver not in self.origins else set()
        full = self.module(call)
        builtin = call.path is not None and len(call.path) == 1 and call.path[0] not in self.carried
        if full is None and not builtin or call.out or self.draws_random(call) or \
                (call.path is not None and call.path[-1] in MUTATORS):
            out |= call.passed
        return out

    def expanded(self, use: Use) -> Use:
        """``use`` with the bodies of the notebook's functions it may call (read as a name) added."""
        out = Use(set(use.reads), set(use.binds), set(use.fresh), set(use.changes), set(use.calls), set(use.aliases))
        seen: set[str] = set()
        todo = [n for n in use.reads if n in self.functions]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                out.merge(self.functions[name])
                todo += [n for n in self.functions[name].reads if n in self.functions]
        return out

    def step(self, raw: Use, own: set[str]) -> set[str]:
        """Read one statement: the answers that influence it (``own``: the cell's, if it is an answer)."""
        use = self.expanded(raw)
        changes = set(use.changes)
        for call in use.calls:
            changes |= self.changed_by(call)
        if any(self.draws_random(call) for call in use.calls):
            use.reads.add(RANDOM)
            changes.add(RANDOM)
        for name in use.fresh:                   # a new object: no longer the same as any other
            for other in self.same.pop(name, set()) - {name}:
                self.same[other].discard(name)
        for name, source in use.aliases:
            group = self.same.get(name, {name}) | self.same.get(source, {source})
            for member in group:
                self.same[member] = group
        modules = set(self.origins) - use.fresh
        bound = set(self.carried) | use.binds | {RANDOM}
        changed = {m for n in changes - modules for m in self.same.get(n, {n}) if m in bound}
        by = set(own).union(*(self.carried.get(n, set()) for n in (use.reads - modules) | changed))
        for name in changed:
            self.carried[name] = self.carried.get(name, set()) | by
        for name in use.binds - set(raw.imports):
            self.carried[name] = (set() if name in use.fresh else self.carried.get(name, set())) | by
            if name in use.fresh:
                self.functions.pop(name, None)
            self.origins.pop(name, None)
        for name, origin in raw.imports.items():
            self.origins[name] = origin
            self.carried.pop(name, None)
            self.functions.pop(name, None)
        self.functions.update(raw.functions)
        return by


def influence(nb: nbformat.NotebookNode, answers: dict[str, str] | None = None) -> dict[str, set[str]]:
    """{answer cell: the test cells it can influence} of an instructor notebook, with the cells named
    in ``answers`` ({grade_id: code}) as a student wrote them."""
    answers = answers or {}
    out: dict[str, set[str]] = {}
    state = _Notebook()
    everything: set[str] = set()            # answers that reach every later cell (through one we cannot read)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        m = cells.meta(cell)
        grade_id = m.get("grade_id")
        own = {grade_id} if m.get("solution") else set()
        if own:
            out.setdefault(grade_id, set())
        statements = _read_cell(answers.get(grade_id, cell.source) if own else cell.source)
        if statements is None:
            everything |= own | set(out)
        reached = own | everything
        for raw in statements or ():
            reached |= state.step(raw, own | everything)
        if m.get("grade"):
            for answer in reached:
                out[answer].add(grade_id)
    return out
