# Set-up is automatic: the first target you run makes .venv and installs the package into it.
# TORCH pins the CPU wheel that installs fast here; elsewhere pick your build, e.g.
#   make test TORCH="torch"            (whatever pip chooses, CUDA builds included)
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: headline lottery test clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

headline: lottery

lottery: $(VENV)/.installed
	$(BIN)/python sims/views_per_seed.py $(ARGS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
