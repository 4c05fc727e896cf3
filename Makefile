# lunadyn: `make demo` runs the default Moon, `make test` runs the test suite.
# Both create .venv (python3 -m venv) and install lunadyn with all extras on first use, and reinstall
# only when pyproject.toml changes (the stamp file .venv/.installed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := mpi,cluster,fit,inference,test

.PHONY: demo test bench warmup clean install

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
