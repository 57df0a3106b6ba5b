# The two commands: `make run` starts the whole platform, `make test` runs every test.
# Both install whatever is missing first (scripts/install.sh).
SHELL := /bin/bash
BIN := .venv/bin

.PHONY: install run test bench stop clean

install:
	@scripts/install.sh

run: install
	@$(BIN)/tickflow run

test: install
	@$(BIN)/python -m pytest

bench: install
	@for b in bench/candles.py bench/backtest.py bench/live.py bench/api.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

stop:
	@$(BIN)/tickflow services down

clean: stop
	rm -rf var .venv
