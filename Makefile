# The two entry points on a fresh machine (see README.md):
#   make run    set up .venv, install sparsa, run `sparsa demo`
#   make test   set up .venv, install sparsa with its dev tools, run the whole suite
# and the slow RTL tests (Verilator 16x16 benches, Verilator lint, Yosys synthesis):
#   make test-slow
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sparsa-installed
OUT    ?= out/demo

SLOW_STAMP := $(VENV)/.sparsa-hdl-slow-installed

.PHONY: run test test-slow

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sparsa needs Python >= 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/sparsa demo --out $(OUT)

test: $(STAMP)
	@sh .ci/ensure-iverilog
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 -m "not slow"

$(SLOW_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,hdl-slow]'
	@touch $(SLOW_STAMP)

test-slow: $(SLOW_STAMP)
	@sh .ci/ensure-iverilog
	$(BIN)/python -m pytest -n 2 -m slow
