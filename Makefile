# make demo: set up .venv, build the sample index, answer a sample question.
# make test: set up .venv, run ruff, mypy and pytest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INDEX := .newsbot/index
QUESTION ?= What did Liu Zhenli say about Taiwan?
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint typecheck unit index clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: anything looser pulls gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Rebuilt when the corpus, the config or the indexing code changes.
$(INDEX)/current: $(STAMP) $(wildcard corpus/*) config/newsbot.toml $(wildcard index/*.py)
	$(BIN)/newsbot index --corpus corpus --index-dir $(INDEX)

index: $(INDEX)/current

demo: $(INDEX)/current
	$(BIN)/newsbot ask --index-dir $(INDEX) "$(QUESTION)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

clean:
	rm -rf .newsbot .mypy_cache .ruff_cache .pytest_cache
