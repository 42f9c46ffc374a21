# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint docs update-golden benchmark clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/netgen render inventories/example.yaml -o out/
	@echo "rendered into out/:"; find out -type f | sort

lint: $(INSTALLED)
	$(BIN)/ruff check generator tests benchmarks integrations
	$(BIN)/ruff format --check generator tests benchmarks integrations
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

docs: $(INSTALLED)
	$(BIN)/python -c "from netgen.codes import markdown; print(markdown(), end='')" > docs/diagnostics.md
	$(BIN)/python -c "from netgen.targets import markdown; print(markdown(), end='')" > docs/targets.md

benchmark: $(INSTALLED)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/stages.py

update-golden: $(INSTALLED)
	$(BIN)/pytest tests/test_golden.py --update-golden

clean:
	rm -rf $(VENV) out
