"""Which test cells of a notebook each answer cell can influence, read from the code.

The catalogue (:mod:`autograder.catalogue`) grades wrong answers that cannot meet as one student;
this module says which cannot.  :func:`influence` reads a notebook as a student hands it in (the
instructor's notebook with the student's answer cells in it) and follows names through it,
statement by statement in notebook order.  A statement is influenced by an answer cell if it reads
a name the answer has influenced, or changes the object of one, or comes after such a statement in
its cell (it runs only if that one did not raise); then so are the names it binds and the objects
it changes.  A test cell is influenced by every answer one of its statements is.

What a statement does with names (:class:`Use`, read once per distinct piece of code):

* **reads**: names it loads, also in lambdas, comprehensions, default values and decorators (each
  scope's own names are its own: a class body's are not its methods'); and, when it calls a
  function of the notebook, what that function's body reads, binds and changes when it runs (a
  function is summed up where it is defined; a class counts as a function, its methods in it).
  Names that may hold a function are followed too: ``f = act``, ``{"a": act}``, an object of a
  class of the notebook (its methods run later), so calling them counts as calling the function;
* **binds**: a name bound from scratch at the top level of a statement (``x = ...``, ``def``,
  ``class``, ``import``) drops what it carried before; bound otherwise (in an ``if``, a loop,
  ``x += ...``, ``except ... as x``, a function's ``global``) it keeps it as well.  A name an
  import binds carries what influenced the import (an answer that imports ``tanh as sigmoid``);
  one that carries nothing is a module, and reading it ties nothing: ``np.exp(x)``;
* **changes**: an attribute or item set (``x.a = ...``, ``x[0] = ...``), ``x += ...``, a method
  called (``x.append(...)``), a name passed (also in a list, tuple or dict) to a function of the
  notebook, to a method, to anything else that is not a module's function (NumPy's, the
  builtins: these do not change what they are given, unless they are known to: ``shuffle``,
  ``next``, ``out=``...).  Known not to change anything: an array's ``min``, ``mean``, ``reshape``...
  (:data:`READ_ONLY_METHODS`); a model's ``fit``, ``predict``... (:data:`DATA_METHODS`) changes
  the model and all it is given but its data (unless a class of the notebook has a method of that
  name, or the data is an object of one).  A class statement runs its body and its methods'
  decorators and defaults, not their bodies (unless the body calls one).  The object changes, and
  with it every name that may be bound to the same object: ``ys = xs``, ``w = params["w"]``,
  ``{"W": W}``, ``a, b = pair``, ``for layer in layers``, also through a function's local names;
* **global random state**: a call that may draw random numbers from a generator that every later
  draw shares (NumPy's global one, Python's ``random``, Keras, torch, scikit-learn, SciPy's
  distributions: a layer made, a model built, fitted or called, also through a local name or an
  unknown callable; the course's helpers other than feedback, plots and data) reads and changes
  one stand-in name, :data:`RANDOM`, so an answer that draws more or fewer numbers influences
  whatever draws next, up to a statement that is only a call seeding all of it again
  (``course.reseed()``, with the seed an answer may have given ``course.setup()``;
  ``keras.utils.set_random_seed``: :data:`SEEDS`), which binds it afresh.

A cell that cannot be read (not Python, an IPython magic) is influenced by every answer before it
and influences every cell after it.  What this does not follow: a function that returns one of its
arguments (``y = f(x)`` is a new object), a module's settings that a cell changes (``np.seterr``,
``plt.rcParams``, Keras' ``keras.config`` settings, which a reseed does not reset), ``globals()``,
files a cell writes and another reads, a generator or iterator a model's ``fit`` consumes, a view
of an array (``reshape``) changed.  The catalogue does not take the reading on trust: a pack
whose grades its answers do not explain is graded again answer by answer.
"""
from __future__ import annotations

import ast
import builtins
import functools
from dataclasses import dataclass, field

import nbformat

from autograder import cells

RANDOM = "<global random state>"
# calls into these may draw from (or set) random state that every later draw shares
RANDOM_MODULES = ("random", "numpy.random", "keras", "torch", "tensorflow", "jax", "sklearn", "scipy.stats", "course")
# ... except these: generators of one's own, and the course's helpers that draw nothing
OWN_GENERATORS = {"default_rng", "Generator", "RandomState", "SeedSequence", "BitGenerator", "PCG64", "PCG64DXSM",
                  "Philox", "SFC64", "MT19937"}
PURE_MODULES = ("course.feedback", "course.plots", "course.data")
# calls that seed all of that state again (Python's, NumPy's global generator, torch, Keras), when a statement
# of their own (``course.reseed()``: with the seed course.setup() was given, which COURSE_SEED stands for)
SEEDS = {"keras.utils.set_random_seed", "course.reseed"}
COURSE_SEED = "<the seed of course.setup()>"
# methods that build, fit or run a Keras model (building one draws its initial weights)
# (and a pandas or SciPy sample drawn)
MODEL_METHODS = {"fit", "train_on_batch", "predict", "predict_on_batch", "evaluate", "test_on_batch", "build",
                 "__call__", "sample", "rvs"}
# functions of modules and builtins that change what they are given
MUTATORS = {"shuffle", "fill", "fill_diagonal", "copyto", "put", "place", "putmask", "at", "sort", "next", "setattr",
            "delattr", "exec", "eval", "vars", "update"}
# NumPy's array methods that change neither the array nor what they are given (some return a view of the array:
# changes through it are not followed, as for any result of a function); unless a class of the notebook has one
READ_ONLY_METHODS = {"min", "max", "mean", "std", "var", "sum", "prod", "argmin", "argmax", "ravel", "flatten",
                     "reshape", "astype", "copy", "tolist", "item", "any", "all", "round", "cumsum", "transpose",
                     "nonzero"}
# a model's methods that read the data they are given (Keras', the course's MLP's): the model changes, and all it
# is given but the data (the first two arguments, x, y, validation_data, sample_weight), unless a class of the
# notebook has one
DATA_METHODS = {"fit", "predict", "evaluate", "train_on_batch", "predict_on_batch", "test_on_batch", "train_epoch",
                "predict_proba"}
DATA_KEYWORDS = {"x", "y", "validation_data", "sample_weight"}
UNKNOWN = ""  # the root of a call path whose object is not a global name: a local, a call's result, an item
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Call:
    path: tuple[str, ...]          # ("np", "random", "rand"), ("model", "fit"), (UNKNOWN, "fit"), (UNKNOWN,)
    receivers: frozenset[str]      # the global names x.f(...) may change (x, or the globals a local x came from)
    passed: frozenset[str]         # the global names given to it (also in lists, tuples, dicts)
    out: bool                      # it has an out= argument
    data: frozenset[str] = frozenset()       # the global names given as its first two arguments, x=, y=, ...


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
    local_sources: dict[str, set[str]] = field(default_factory=dict)  # in a body: local -> globals it came from
    called: set[str] = field(default_factory=set)       # names it calls (f of f(...)): what they hold is not passed on
    classes: set[str] = field(default_factory=set)      # which of its functions are classes
    methods: set[str] = field(default_factory=set)      # names of the methods its classes define
    only_call: Call | None = None                       # the call a statement is, if it is only a call

    def merge(self, other: Use) -> None:
        self.reads |= other.reads
        self.binds |= other.binds
        self.changes |= other.changes
        self.calls |= other.calls
        self.aliases |= other.aliases


_SCOPES = (*_FUNCTIONS, ast.ClassDef, *_COMPREHENSIONS)


def _outside(scope: ast.AST) -> list[ast.AST]:
    """What a scope's definition evaluates in the scope around it: decorators, default values, bases,
    a comprehension's first iterable."""
    if isinstance(scope, _COMPREHENSIONS):
        return [scope.generators[0].iter]
    parts = list(getattr(scope, "decorator_list", []))
    if isinstance(scope, ast.ClassDef):
        return parts + [*scope.bases, *(k.value for k in scope.keywords)]
    return parts + [*scope.args.defaults, *(d for d in scope.args.kw_defaults if d is not None)]


def _own_nodes(body: list[ast.AST]):
    """The nodes of a scope's body, not those of the scopes nested in it (their names are theirs)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        yield node
        todo += _outside(node) if isinstance(node, _SCOPES) else list(ast.iter_child_nodes(node))


def _local_names(scope: ast.AST) -> set[str]:
    """The names local to a function, lambda, class body or comprehension (not those of the scopes in it)."""
    if isinstance(scope, _COMPREHENSIONS):
        return {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    names = {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)} if isinstance(scope, _FUNCTIONS) else set()
    inner = list(_own_nodes(scope.body if isinstance(scope.body, list) else [scope.body]))
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


def _references(node: ast.AST) -> set[str]:
    """The names of objects an expression is, or holds as they are: ``x``, ``x.a``, ``[x, y]``, ``{"k": x}``."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return set().union(*(_references(e) for e in node.elts))
    if isinstance(node, ast.Dict):
        return set().union(*(_references(v) for v in node.values))
    name = _reference(node)
    return {name} if name else set()


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

    def __init__(self):
        self.depth = 0   # in how many function or class bodies the node visited is

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
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and _dotted(stmt.value.func):
            use.only_call = next(c for c in use.calls if c.path == _dotted(stmt.value.func))
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda):  # f = lambda ...: a function too
            body = Use()
            self.visit(stmt.value.body, frozenset(_local_names(stmt.value)), body)
            use.functions.update((t.id, body) for t in stmt.targets if isinstance(t, ast.Name))
        return use

    @staticmethod
    def _globals(names, local: frozenset, use: Use) -> set[str]:
        """The global names behind some names: themselves, or for a local, the globals it came from."""
        out: set[str] = set()
        for name in names:
            if name is None:
                continue
            out |= use.local_sources.get(name, set()) if name in local else {name}
        return out

    def _bound_from(self, targets, sources: set[str], local: frozenset, use: Use) -> None:
        """Names in ``targets`` are bound to (parts of) the objects ``sources`` name."""
        behind = self._globals(sources, local, use)
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name) and behind:
                    if n.id in local:
                        use.local_sources[n.id] = use.local_sources.get(n.id, set()) | behind
                    else:
                        use.aliases |= {(n.id, b) for b in behind}

    def visit(self, node: ast.AST, local: frozenset, use: Use) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._definition(node, local, use)
            return
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            for part in _outside(node):
                self.visit(part, local, use)
        if isinstance(node, ast.Lambda):
            self.visit(node.body, local | _local_names(node), use)  # as it is defined: it may run at once
            return
        if isinstance(node, _COMPREHENSIONS):
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
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            if node.target.id not in local:
                use.reads.add(node.target.id)                         # x += 1 reads x, and keeps what it carried
            use.changes |= self._globals([node.target.id], local, use)  # and may change x's object in place
        elif isinstance(node, ast.ExceptHandler) and node.name and node.name not in local:
            use.binds.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            use.reads.update(node.names)
            use.binds.update(node.names)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            use.changes |= self._globals([_root_name(node)], local, use)
        elif isinstance(node, ast.Call):
            receiver = _root_name(node.func.value) if isinstance(node.func, ast.Attribute) else None
            given = [*node.args, *(k.value for k in node.keywords)]
            passed = self._globals(set().union(*(_references(x) for x in given)), local, use)
            path = _dotted(node.func)
            if isinstance(node.func, ast.Lambda):
                path = ("<lambda>",)  # its body is read where it stands
            elif path is None or path[0] in local:
                path = (UNKNOWN, node.func.attr) if isinstance(node.func, ast.Attribute) else (UNKNOWN,)
            data = [*node.args[:2], *(k.value for k in node.keywords if k.arg in DATA_KEYWORDS)]
            use.calls.add(Call(path, frozenset(self._globals([receiver], local, use)), frozenset(passed),
                               any(k.arg == "out" for k in node.keywords),
                               frozenset(self._globals(set().union(*(_references(x) for x in data)), local, use))))
            if isinstance(node.func, ast.Name) and node.func.id not in local:
                use.called.add(node.func.id)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            self._bound_from(targets, _references(node.value), local, use)
        elif isinstance(node, ast.NamedExpr):
            self._bound_from([node.target], _references(node.value), local, use)
        elif isinstance(node, (ast.For, ast.AsyncFor)):     # for x in xs (xs.items(), enumerate(xs), ...): x is in xs
            self._bound_from([node.target], {n.id for n in ast.walk(node.iter) if isinstance(n, ast.Name)}, local, use)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bound_from([item.optional_vars], {n.id for n in ast.walk(item.context_expr)
                                                            if isinstance(n, ast.Name)}, local, use)
        for child in ast.iter_child_nodes(node):
            self.visit(child, local, use)

    def _definition(self, node, local: frozenset, use: Use) -> None:
        """A function or class: its name is bound; decorators, defaults and bases are read here; its
        body is summed up in a Use of its own (a class body, but for its methods, runs at once: it counts
        here too).  The names of a class body are not its methods' (Python's scopes)."""
        if node.name not in local:
            use.binds.add(node.name)
        for part in _outside(node):
            self.visit(part, local, use)
        inner = local | _local_names(node)
        body = Use() if self.depth == 0 else use   # a function in a function: part of the outer one's body
        if body is not use:
            body.local_sources = {}
        # what a class statement runs at once: its body but its methods' bodies (their decorators and defaults
        # too); all of it if the body calls one of its own functions
        at_once = Use() if isinstance(node, ast.ClassDef) and body is not use else None
        own = {stmt.name for stmt in node.body if isinstance(node, ast.ClassDef)
               and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))}   # its methods, if a class
        self.depth += 1
        try:
            for stmt in node.body:
                method = getattr(stmt, "name", None) in own
                self.visit(stmt, local if method else inner, body)
                if at_once is not None:
                    for part in (_outside(stmt) if method else [stmt]):
                        self.visit(part, inner, at_once)
        finally:
            self.depth -= 1
        if body is not use:
            use.functions[node.name] = body
            if at_once is not None:
                use.classes.add(node.name)
                use.methods |= own | body.methods
                calls_own = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in own
                                for stmt in node.body if getattr(stmt, "name", None) not in own
                                for n in ast.walk(stmt))
                use.merge(body if calls_own else at_once)


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
        self.holds: dict[str, set[str]] = {}     # name: the notebook's functions and classes it may hold
        self.origins: dict[str, str] = {}        # name: the module (or module's member) it was imported as
        self.functions: dict[str, Use] = {}
        self.classes: set[str] = set()
        self.methods: set[str] = set()           # names of methods the notebook's classes define

    def held(self, names) -> set[str]:
        """The notebook's functions and classes these names may hold (a function's own name holds it)."""
        return set().union(*(self.holds.get(n, set()) for n in names))

    def builtin(self, name: str, use: Use) -> bool:
        return hasattr(builtins, name) and name not in self.carried and name not in use.binds

    def module(self, call: Call) -> str | None:
        """The dotted name of what a call calls, if it is a module's (``numpy.random.rand``)."""
        if call.path[0] not in self.origins:
            return None
        return ".".join([self.origins[call.path[0]], *call.path[1:]])

    def draws_random(self, call: Call, use: Use) -> bool:
        """Whether a call may draw from, or set, random state shared by later draws."""
        full = self.module(call)
        if full is not None:
            if _within(full, PURE_MODULES) or full.split(".")[-1] in OWN_GENERATORS:
                return False
            return _within(full, ("numpy.random",)) if _within(full, ("numpy",)) else _within(full, RANDOM_MODULES)
        root, rest = call.path[0], call.path[1:]
        if root == "<lambda>" or not rest and (self.held([root]) or self.builtin(root, use)):
            return False  # the notebook's own function (its body counts: see expanded), or a builtin
        return (rest[-1] if rest else "__call__") in MODEL_METHODS  # a model's fit, predict, build; a model called

    def changed_by(self, call: Call, use: Use) -> set[str]:
        """The names whose objects a call may change."""
        full = self.module(call)
        method = call.path[-1] if len(call.path) > 1 and full is None else None
        if method in self.methods:   # a method of the notebook's classes: nothing known of it
            method = None
        if method in READ_ONLY_METHODS and not call.out and not self.held(call.receivers):
            return set()
        out = set(call.receivers) - set(self.origins)
        for name in call.receivers:   # get().append(x): get may return a global it reads
            for f in self.held([name]) & set(self.functions):
                out |= {n for n in self.functions[f].reads if n not in self.functions}
        builtin = len(call.path) == 1 and self.builtin(call.path[0], use)
        if method in DATA_METHODS and not call.out:   # (data that is an object of the notebook's classes may change)
            out |= call.passed - {name for name in call.data if not self.held([name])}
        elif (full is None and not builtin) or call.out or self.draws_random(call, use) or call.path[-1] in MUTATORS:
            out |= call.passed
        return out

    def expanded(self, use: Use) -> Use:
        """``use`` with the bodies of the notebook's functions it may call added: those it reads by
        name, and those the names it reads may hold (an alias, a callback, an object of a class)."""
        out = Use(set(use.reads), set(use.binds), set(use.fresh), set(use.changes), set(use.calls), set(use.aliases))
        seen: set[str] = set()
        todo = list(self.held(use.reads))
        while todo:
            name = todo.pop()
            if name not in seen and name in self.functions:
                seen.add(name)
                out.merge(self.functions[name])
                todo += self.held(self.functions[name].reads)
        return out

    def step(self, raw: Use, influenced: set[str]) -> set[str]:
        """Read one statement: the answers that influence it (``influenced``: those that influence the
        cell up to it: its own answer, and what came before it in the cell, since it runs only if
        that did not raise)."""
        use = self.expanded(raw)
        changes = set(use.changes)
        for call in use.calls:
            changes |= self.changed_by(call, use)
        seed = raw.only_call if raw.only_call is not None and self.module(raw.only_call) in SEEDS else None
        seeds = {seed} if seed is not None else set()
        if any(self.draws_random(call, use) for call in use.calls - seeds):
            use.reads.add(RANDOM)
            changes.add(RANDOM)
        if any(self.module(call) == "course.setup" for call in use.calls):
            changes.add(COURSE_SEED)
        if seeds:  # all of the shared state seeded again: it carries what this statement carries, no more
            use.binds.add(RANDOM)
            use.fresh.add(RANDOM)
            if self.module(seed) == "course.reseed":
                use.reads.add(COURSE_SEED)
        for name in use.fresh:                   # a new object: no longer the same as any other
            for other in self.same.pop(name, set()) - {name}:
                self.same[other].discard(name)
        for name, source in use.aliases:        # (a module or a function is never an object changed)
            if {name, source} & (set(self.origins) | set(self.functions)):
                continue
            group = self.same.get(name, {name}) | self.same.get(source, {source})
            for member in group:
                self.same[member] = group
        modules = {n for n in self.origins if not self.carried.get(n)} - use.fresh  # what carries nothing
        bound = set(self.carried) | use.binds | {RANDOM, COURSE_SEED}
        changed = {m for n in changes - set(self.origins) for m in self.same.get(n, {n}) if m in bound}
        reads = use.reads - modules
        by = set(influenced).union(*(self.carried.get(n, set()) for n in reads | changed))
        # what the names bound here may hold: a function named without being called (f = act, callbacks=[f]),
        # or what a name held that is not called; an object of a class (its methods run later)
        named = raw.reads - set(self.origins)
        held = self.held(named - raw.called) | (self.held(named & raw.called) & self.classes)
        for name in changed:
            self.carried[name] = self.carried.get(name, set()) | by
            self.holds[name] = self.holds.get(name, set()) | held
        for name in use.binds - set(raw.imports):
            fresh = name in use.fresh
            self.carried[name] = (set() if fresh else self.carried.get(name, set())) | by
            self.holds[name] = (set() if fresh else self.holds.get(name, set())) | held
            if fresh:
                self.functions.pop(name, None)
            self.origins.pop(name, None)
        for name, origin in raw.imports.items():  # a module carries the influence of where it was imported
            self.origins[name] = origin
            self.carried[name] = set(by)
            self.holds.pop(name, None)
            self.functions.pop(name, None)
        for name, body in raw.functions.items():
            self.functions[name] = body
            self.holds[name] = {name}
        self.classes = (self.classes - use.fresh) | raw.classes
        self.methods |= raw.methods
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
            reached |= state.step(raw, reached)
        if m.get("grade"):
            for answer in reached:
                out[answer].add(grade_id)
    return out
