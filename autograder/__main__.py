"""The instructor's commands: ``python -m autograder COMMAND`` (or ``course-grader COMMAND``).

    autograde ASSIGNMENT [ASSIGNMENT ...]
                           autograde every submission, several students at once, in the sandbox
    report                 class report from the gradebook: CSV, plots, index.html
    release                regenerate release/ from source/ with nbgrader
    catalogue ASSIGNMENT   autograde the catalogue of wrong answers, check each is graded as expected
    student-repo DIR       write the student edition (a standalone repository) into DIR
    feedback-service       grade each submission as it arrives in the exchange; release its feedback
    lifecycle              the nbgrader command for each step of the course

Every command works on a course root: the folder with nbgrader_config.py and source/.  Run it
there, or give --course-dir.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from autograder import cli, sandbox

LIFECYCLE = """\
The course, step by step, with nbgrader's commands (run in the course root, in the
course's environment; `nbgrader COMMAND --help` for options):

  1. write or edit        source/<assignment>/*.ipynb (JupyterLab, Create Assignment toolbar)
  2. student version      nbgrader generate_assignment ASSIGNMENT      (or: python -m autograder release)
  3. check the grading    python -m autograder catalogue ASSIGNMENT    (wrong answers lose points)
  4. release              nbgrader release_assignment ASSIGNMENT
  5. students             nbgrader fetch_assignment ASSIGNMENT --course intro-dl
                          nbgrader submit ASSIGNMENT --course intro-dl
  6. collect              nbgrader collect ASSIGNMENT
  7. autograde            python -m autograder autograde ASSIGNMENT --workers N
                          (nbgrader autograde ASSIGNMENT --student=ID --force per student, side by
                          side); nbgrader autograde ASSIGNMENT and the Formgrader's Autograde
                          button grade one student at a time.  Every path runs each kernel in
                          the sandbox (nbgrader_config.py), or refuses to grade without bubblewrap
  8. manual grading       nbgrader formgrader (JupyterLab's Formgrader tab): written answers, and
                          the submissions flagged by step 7
  9. feedback             nbgrader generate_feedback ASSIGNMENT
                          nbgrader release_feedback ASSIGNMENT
                          (students: nbgrader fetch_feedback ASSIGNMENT --course intro-dl)
 10. grades               nbgrader export                  (grades.csv, one row per student and assignment)
                          python -m autograder report      (scores per task, plots, index.html)
"""


# command -> (module with add_arguments(parser) and run(args), one line of help)
COMMANDS = {
    "autograde": ("autograder.batch", "autograde a whole class, several students at once, in the sandbox"),
    "report": ("autograder.report", "class report: scores per task (CSV), plots, index.html"),
    "release": ("autograder.release", "regenerate release/ from source/ with nbgrader"),
    "catalogue": ("autograder.catalogue", "autograde the catalogue of wrong answers of an assignment"),
    "student-repo": ("autograder.student_edition", "write the student edition into a folder"),
    "similarity": ("autograder.similarity", "pairs of students whose answers are suspiciously alike"),
    "feedback-service": ("autograder.feedback_service", "grade each submission as it arrives; release its feedback"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1] + "\n" + LIFECYCLE)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=cli.description(module))
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    sub.add_parser("lifecycle", help="the nbgrader command for each step of the course").set_defaults(
        run=lambda _: print(LIFECYCLE) or 0)

    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sandbox.anchor_data_dir()
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except FileNotFoundError as err:  # not a course root, no such assignment
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
