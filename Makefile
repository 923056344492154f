# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv, install the CPU torch wheel (pinned so pip never pulls a CUDA
# build), install nerfgen with its dependencies, and build the cuda_ext extension.
# For a CUDA torch instead: make TORCH_SPEC='torch==<version>' after installing a CUDA
# build yourself, or pip install it into .venv before running make (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
MAX_JOBS ?= 2
EXT_SOURCES := setup.py $(shell find cuda_ext -type f 2>/dev/null)

LINTED := nerfgen tests benchmarks examples

.PHONY: install ext test lint demo bench clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q "$(TORCH_SPEC)" ninja
	NERFGEN_SKIP_EXT=1 $(PIP) install -q --no-build-isolation -e ".[test]"
	touch $@

$(VENV)/.ext: $(VENV)/.installed $(EXT_SOURCES)
	MAX_JOBS=$(MAX_JOBS) $(PY) setup.py -q build_ext --inplace
	touch $@

install: $(VENV)/.ext

ext: $(VENV)/.ext

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check $(LINTED)

test: $(VENV)/.ext lint
	$(PY) -m pytest -q

demo: $(VENV)/.ext
	$(VENV)/bin/nerfgen demo --out demo_out --overwrite

bench: $(VENV)/.ext
	$(PY) benchmarks/kernels.py

clean:
	rm -rf build $(VENV) nerfgen/_C*.so *.egg-info
