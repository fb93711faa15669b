# The two commands a newcomer needs: `make demo` and `make test`. Only Python 3.11+ and make required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "cisp-bot needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

demo: $(VENV)/.runtime
	$(BIN)/cisp-bot demo
	$(BIN)/cisp-bot chat --user demo --console

test: lint typecheck unit

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev
	$(BIN)/pytest -q

bench: $(VENV)/.dev
	$(BIN)/python bench/faq_quality.py
	$(BIN)/python bench/faq_speed.py
	$(BIN)/python bench/conversation.py
	$(BIN)/python bench/telegram_throughput.py
	$(BIN)/python bench/crash_window.py
	$(BIN)/python bench/reminder_fanout.py
	$(BIN)/python bench/console_pages.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
