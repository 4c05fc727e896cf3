# lunadyn: `make demo` runs the default Moon, `make test` runs the test suite and builds the docs.
# Both create .venv (python3 -m venv) and install lunadyn with all extras on first use, and reinstall
# only when pyproject.toml changes (the stamp files .venv/.installed and .venv/.installed-docs).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
EXTRAS := mpi,cluster,fit,inference,test
# warnings are errors (a broken cross-reference, an unknown citation or registry name, a failing notebook
# cell); --keep-going reports all of them before failing; -j 2 reads (and executes notebooks) in two processes
SPHINXOPTS ?= -W --keep-going -j 2

.PHONY: demo test docs bench warmup clean install lint-imports

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e ".[$(EXTRAS),docs]"
	touch $(DOCS_STAMP)

# the main job: a sweep on a local dask cluster, compared with the measured record, and its figure; then
# the evidence of each dynamo hypothesis from a small inference on the same backend (its table is last)
demo: $(STAMP)
	$(BIN)/lunadyn sweep runs/examples/demo_sweep.toml -o out/demo.zarr
	$(BIN)/lunadyn compare out/demo.zarr
	$(BIN)/lunadyn plot out/demo.zarr --best 20 -o out/demo.png
	$(BIN)/lunadyn infer runs/examples/demo_infer.toml -o out/demo_infer.zarr > /dev/null
	$(BIN)/lunadyn plot out/demo_infer.zarr -o out/demo_infer.png
	$(BIN)/lunadyn infer runs/examples/demo_infer.toml -o out/demo_infer.zarr

# the import-linter layering contracts first (a wrong import fails here), then the suite, then the docs
# (a broken page or a failing notebook fails `make test`); pytest runs as its own script so the repository
# root is not on sys.path (the tests use the installed package)
test: $(DOCS_STAMP)
	$(BIN)/python tests/importlint.py
	$(BIN)/pytest
	$(MAKE) docs

# the documentation site: docs/ -> build/docs/index.html; notebooks and gallery scripts are executed
docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx $(SPHINXOPTS) -b html docs build/docs

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint-imports: $(STAMP)
	$(BIN)/python tests/importlint.py

warmup: $(STAMP)
	$(BIN)/lunadyn warmup

# Outputs and caches (Numba's on-disk cache lives in thermal/__pycache__/numba-<source hash>, see
# thermal/jit_cache.py); keeps .venv.
clean:
	rm -rf out build .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +
