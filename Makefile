# Set-up and everyday commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench reports lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,train,dask]'
	touch $(STAMP)

## make run: install, then simulate 1.0-SqNxt-23 on the paper's 16x16 / 128 KB accelerator
run: $(STAMP)
	$(BIN)/accelsim run sqnxt23 --pe 16x16 --buffer 128KB

## make test: install, then run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench: print the benchmark figures quoted in the README
bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## make reports: regenerate everything under reports/
reports: $(STAMP)
	$(BIN)/accelsim report all

lint: $(STAMP)
	$(BIN)/ruff check accelsim networks tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
