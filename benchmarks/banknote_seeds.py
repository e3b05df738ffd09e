"""Week 1b's teaching point across seeds: the notebook's own training, run with 5 seeds.

    python benchmarks/banknote_seeds.py [--seeds 5]

Runs the code cells of ``source/week1_banknote_fcnn/02_banknote_fcnn.ipynb`` (the
instructor's solution) up to the test-accuracy exercise, once per seed: ``course.setup()``
gets the seed, everything else is the notebook's code, plots drawn off screen.  Prints
per seed the test accuracy of the logistic regression and of the fcNN, the epoch whose
weights the fcNN kept, and the seconds each training cell took; then checks the text's
claims: logistic regression at about 0.70-0.76, the fcNN at 0.85 or more.
Run it with COURSE_DATA_DIR set (or online).
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

from autograder import cells as nbcells  # noqa: E402
from autograder.course_root import source_notebook  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT, NOTEBOOK = "week1_banknote_fcnn", "02_banknote_fcnn"
LAST = "evaluate"  # the answer cell that measures both test accuracies
LOGISTIC_RANGE, FCNN_MIN = (0.70, 0.76), 0.85


def run(seed: int) -> dict:
    import matplotlib.pyplot as plt

    import course

    cells = [c for c in source_notebook(ASSIGNMENT, NOTEBOOK, REPO).cells if c.cell_type == "code"]
    setup = course.setup
    course.setup = functools.partial(setup, seed, quiet=True)
    ns: dict = {"__name__": "__main__"}
    seconds = {}
    try:
        for cell in cells:
            start = time.perf_counter()
            exec(compile(cell.source, "<cell>", "exec"), ns)  # noqa: S102 (the course's own notebook)
            for name in ("history_log", "history_fcnn"):
                if f"{name} = " in cell.source:
                    seconds[name] = time.perf_counter() - start
            plt.close("all")
            if nbcells.meta(cell).get("grade_id") == LAST:
                break
    finally:
        course.setup = setup
    return {"logistic": float(ns["test_acc_logistic"]), "fcnn": float(ns["test_acc_fcnn"]),
            "kept": int(np.argmin(ns["history_fcnn"].history["val_loss"])) + 1,
            "epochs": len(ns["history_fcnn"].history["val_loss"]), **seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'seed':>4} {'logistic':>9} {'fcNN':>6} {'kept epoch':>11} {'train log s':>12} {'train fcNN s':>13}")
    rows = []
    for seed in range(args.seeds):
        r = run(seed)
        rows.append(r)
        print(f"{seed:4d} {r['logistic']:9.3f} {r['fcnn']:6.3f} {r['kept']:5d}/{r['epochs']:<5d} "
              f"{r.get('history_log', float('nan')):12.2f} {r.get('history_fcnn', float('nan')):13.2f}", flush=True)
    log = [r["logistic"] for r in rows]
    fcnn = [r["fcnn"] for r in rows]
    ok_log = all(LOGISTIC_RANGE[0] - 0.005 <= a <= LOGISTIC_RANGE[1] + 0.005 for a in log)
    ok_fcnn = min(fcnn) >= FCNN_MIN
    print(f"logistic regression: {min(log):.3f}-{max(log):.3f} (text: about {LOGISTIC_RANGE[0]}-{LOGISTIC_RANGE[1]}): "
          f"{'ok' if ok_log else 'NOT MET'}")
    print(f"fcNN: {min(fcnn):.3f}-{max(fcnn):.3f} (text: at least {FCNN_MIN}): {'ok' if ok_fcnn else 'NOT MET'}")
    return 0 if ok_log and ok_fcnn else 1


if __name__ == "__main__":
    sys.exit(main())
