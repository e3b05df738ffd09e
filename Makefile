# The course's commands.  `make lab` for students, `make test` for everyone.
# Both create the virtual environment .venv on first use and update it when
# pyproject.toml or requirements.lock change.  Every install takes its versions from
# requirements.lock (`make lock` writes it): students, Binder, CI and the autograder alike.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab
# PyTorch's CPU-only wheels on Linux: PyPI's Linux torch is the CUDA build, several GB of
# NVIDIA libraries that this course never uses (elsewhere PyPI's build is the CPU one).  For
# an NVIDIA GPU: `make lab TORCH_INDEX=` (PyPI's build), or PyTorch's index for your CUDA.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu)
# The Python the lock is resolved for, and up: requires-python's lower bound (tested).
LOCK_PYTHON := 3.11
# The student edition: a standalone repository for students (see README.md).
OUT ?=
export KERAS_BACKEND := torch
# Notebooks run in their own folders: a relative COURSE_DATA_DIR (the README's ../shared/data)
# is made absolute here, from the folder make runs in.
ifneq ($(strip $(COURSE_DATA_DIR)),)
export COURSE_DATA_DIR := $(abspath $(COURSE_DATA_DIR))
endif
# Jupyter refuses to run as root (containers, CI) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# Debian packages the tests need: bubblewrap (the grading sandbox), Chromium and its
# driver (the browser tests, driven by Playwright: no browser download).
SYSTEM_PACKAGES := bubblewrap chromium chromium-driver

.PHONY: help venv system lab test test-fast release lock student-repo benchmark catalogue clean

help:
	@echo "make lab        set up .venv and open JupyterLab on the student notebooks (release/)"
	@echo "make test       set up .venv (and the system packages: $(SYSTEM_PACKAGES)) and run every test"
	@echo "make test-fast  the unit tests: every test not marked slow (no notebook run, no server)"
	@echo "make release    regenerate release/ from source/ with nbgrader"
	@echo "make lock       pin every dependency, transitive ones too, in $(LOCK) (UPGRADE=1: newest)"
	@echo "make student-repo OUT=DIR  write the student edition (a standalone repository) into DIR"
	@echo "make catalogue  autograde the catalogue of wrong answers and print a table"
	@echo "make benchmark  time the notebooks (and peak memory), the widgets, copy detection, feedback on submission"

# torch first, from TORCH_INDEX (the CPU build) as well as PyPI, at the lock's version; then
# the course under the lock's pins; then a check that the lock is in step with pyproject.toml.
define install
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c $(LOCK) $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch
	$(PY) -m pip install -c $(LOCK) -e '$(1)'
	$(PY) -m autograder.lockfile --check
endef

# the instructor's and the test suite's environment: the course, the grader, the test tools
$(STAMP): pyproject.toml $(LOCK)
	$(call install,.[test])
	@touch $(STAMP) $(LAB_STAMP)

# what a student needs, no more (no pytest, playwright, jupyterhub or dask)
$(LAB_STAMP): pyproject.toml $(LOCK)
	$(call install,.)
	@touch $(LAB_STAMP)

venv: $(STAMP)

# Installs the missing system packages with apt-get when run as root (CI, containers);
# otherwise says which to install.
system:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing system packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "make test needs the system packages:$$missing"; \
			echo "install them with: sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=release $(ALLOW_ROOT)

test: system $(STAMP)
	$(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder --nbmake tests source

test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 -m "not slow" tests

release: $(STAMP)
	$(PY) -m autograder release

# requirements.lock for every platform and every Python from LOCK_PYTHON up, with uv; the pins
# already in the lock are kept unless UPGRADE=1.
# (no $(STAMP) here: that checks the lock, which is what this target is there to fix; and uv alone
# at the lock's pin, not the course with its extras, which cannot install under a lock that
# pyproject.toml's ranges have just left behind)
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c $(LOCK) uv
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --universal --python-version $(LOCK_PYTHON) \
		--custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(PY) -m autograder.lockfile --check

student-repo: $(STAMP)
	@test -n "$(OUT)" || { echo "usage: make student-repo OUT=DIR (a new folder, or an earlier student edition)"; exit 2; }
	$(PY) -m autograder student-repo "$(OUT)"

catalogue: $(STAMP)
	@for a in $$(ls source); do $(PY) -m autograder catalogue $$a || exit 1; done

benchmark: $(STAMP)
	$(PY) benchmarks/notebooks.py
	$(PY) benchmarks/playground.py
	$(PY) benchmarks/descent.py
	$(PY) benchmarks/mnist.py
	$(PY) benchmarks/similarity.py
	$(PY) benchmarks/feedback_latency.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts *.egg-info gradebook.db
	find . -name __pycache__ -prune -exec rm -rf {} +
