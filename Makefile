# lunadyn: `make demo` runs the default Moon, `make test` runs the test suite.
# Both create .venv (python3 -m venv) and install lunadyn with all extras on first use, and reinstall
# only when pyproject.toml changes (the stamp file .venv/.installed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := mpi,cluster,fit,inference,test

.PHONY: demo test bench warmup clean install lint-imports

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	touch $(STAMP)

# the main job: a sweep on a local dask cluster, compared with the measured record, and its figure; then
# the evidence of each dynamo hypothesis from a small inference on the same backend (its table is last)
demo: $(STAMP)
	$(BIN)/lunadyn sweep runs/examples/demo_sweep.toml -o out/demo.zarr
	$(BIN)/lunadyn compare out/demo.zarr
	$(BIN)/lunadyn plot out/demo.zarr --best 20 -o out/demo.png
	$(BIN)/lunadyn infer runs/examples/demo_infer.toml -o out/demo_infer.zarr > /dev/null
	$(BIN)/lunadyn plot out/demo_infer.zarr -o out/demo_infer.png
	$(BIN)/lunadyn infer runs/examples/demo_infer.toml -o out/demo_infer.zarr

# the import-linter layering contracts first (a wrong import fails here), then the suite; pytest runs
# as its own script so the repository root is not on sys.path (the tests use the installed package)
test: $(STAMP)
	$(BIN)/python tests/importlint.py
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint-imports: $(STAMP)
	$(BIN)/python tests/importlint.py

warmup: $(STAMP)
	$(BIN)/lunadyn warmup

# Outputs and caches (Numba's on-disk cache lives in __pycache__); keeps .venv.
# (Numba's on-disk cache lives in thermal/__pycache__/numba-<source hash>, see thermal/jit_cache.py)
clean:
	rm -rf out build .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +
