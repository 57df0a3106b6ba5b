# The two commands: `make run` starts the whole platform, `make test` runs every test.
# Both install whatever is missing first (scripts/install.sh) and build the web UI when its sources changed.
SHELL := /bin/bash
BIN := .venv/bin
UI_BUILD := frontend/.next/BUILD_ID
UI_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/package-lock.json frontend/next.config.ts frontend/tsconfig.json frontend/postcss.config.mjs

.PHONY: install ui run test bench stop clean

install:
	@scripts/install.sh

$(UI_BUILD): $(UI_SOURCES)
	@echo "ui: next build (under a minute)"
	@mkdir -p var && cd frontend && npm run build >../var/ui-build.log 2>&1 || { tail -n 40 ../var/ui-build.log; exit 1; }

ui: install $(UI_BUILD)

run: ui
	@$(BIN)/tickflow run

test: ui
	@cd frontend && npx vitest run --reporter=dot
	@$(BIN)/python -m pytest

bench: ui
	@for b in bench/candles.py bench/backtest.py bench/live.py bench/api.py bench/ui.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

stop:
	@$(BIN)/tickflow services down

clean: stop
	rm -rf var .venv frontend/node_modules frontend/.next
