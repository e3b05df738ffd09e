"""What the commands of ``python -m autograder`` share.

Each command lives in its module, which exposes ``add_arguments(parser)`` and ``run(args) -> int``;
:mod:`autograder.__main__` makes them subcommands, and :func:`main` runs one module on its own
(``python -m autograder.release``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType


def description(module: ModuleType) -> str:
    return (module.__doc__ or "").split("\n\n")[0]


def add_course_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course-dir", type=Path, default=Path("."),
                        help="the course root: the folder with nbgrader_config.py and source/ (default: here)")


def main(module: ModuleType, argv: list[str] | None = None) -> int:
    """Run one command module with its own command line."""
    parser = argparse.ArgumentParser(prog=f"python -m {module.__name__}", description=description(module))
    module.add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from autograder import sandbox

    sandbox.anchor_data_dir()
    return module.run(args)
