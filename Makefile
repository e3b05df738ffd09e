# The course's commands.  `make lab` for students, `make test` for everyone.
# Both create the virtual environment .venv on first use and update it when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
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

.PHONY: help venv system lab test test-fast release benchmark catalogue clean

help:
	@echo "make lab        set up .venv and open JupyterLab on the student notebooks (release/)"
	@echo "make test       set up .venv (and the system packages: $(SYSTEM_PACKAGES)) and run every test"
	@echo "make test-fast  the unit tests only (seconds)"
	@echo "make release    regenerate release/ from source/ with nbgrader"
	@echo "make catalogue  autograde the catalogue of wrong answers and print a table"
	@echo "make benchmark  time the notebooks (and peak memory) and the widgets"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned to the CPU build: an unpinned torch pulls CUDA (several GB)
	$(PY) -m pip install -c constraints.txt torch==2.13.0
	$(PY) -m pip install -c constraints.txt -e '.[test]'
	@touch $(STAMP)

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

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=release $(ALLOW_ROOT)

test: system $(STAMP)
	$(PY) -m pytest -n 2 --dist loadscope --nbmake tests source

test-fast: $(STAMP)
	$(PY) -m pytest -q tests/test_data.py tests/test_feedback.py tests/test_setup.py tests/test_plots.py \
		tests/test_model_checks.py tests/test_descent.py tests/test_playground.py

release: $(STAMP)
	$(PY) -m autograder.release

catalogue: $(STAMP)
	@for a in $$(ls source); do $(PY) -m autograder.catalogue $$a || exit 1; done

benchmark: $(STAMP)
	$(PY) benchmarks/notebooks.py
	$(PY) benchmarks/playground.py
	$(PY) benchmarks/descent.py
	$(PY) benchmarks/mnist.py

clean:
	rm -rf $(VENV) .pytest_cache artifacts *.egg-info gradebook.db
	find . -name __pycache__ -prune -exec rm -rf {} +
