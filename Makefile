# lunadyn: `make demo` runs the default Moon, `make test` runs the test suite.
# Both create .venv (python3 -m venv) and install lunadyn with all extras on first use, and reinstall
# only when pyproject.toml changes (the stamp file .venv/.installed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := mpi,cluster,fit,test

.PHONY: demo test bench warmup clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lunadyn run runs/examples/moon_default.toml -o out/moon_default.zarr

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

warmup: $(STAMP)
	$(BIN)/lunadyn warmup

# Outputs and caches (Numba's on-disk cache lives in __pycache__); keeps .venv.
clean:
	rm -rf out build .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +
