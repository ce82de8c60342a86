# Linli: every target bootstraps what it needs (.venv, npm assets, chromium for browser tests).
# `make run` serves the demo district; `make test` runs the whole suite (SQLite, then PostgreSQL
# when a server answers on localhost); `make bench` prints measured figures beside their targets.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt pyproject.toml | md5sum | cut -c1-8)
# The stamp names the copy recipe's version too (bump ASSETS_RECIPE when the copy below changes), so
# existing checkouts copy again. Copy everything a vendor file refers to: the manifest storage of
# `collectstatic` follows url(...) and sourceMappingURL and fails on a missing file.
ASSETS_RECIPE := 2
ASSETS := build/vendor/.stamp-r$(ASSETS_RECIPE)-$(shell cat package.json package-lock.json | md5sum | cut -c1-8)
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/linli
# `make run` starts the MQTT intake (manage.py sensing_mqtt) beside the server when a broker answers here.
MQTT_HOST ?= 127.0.0.1
MQTT_PORT ?= 1883
export LINLI_DEBUG ?= 1

# The days `make test-dates` runs the date-sensitive tests as of (pytest -m dates): a month end, the
# year's last and first day, a Monday after the New Year holiday, 29 February, the day after a
# February, the day issue 8 was found — at noon, Asia/Shanghai — and the first half hour of 2027 in
# Shanghai, when UTC still says 2026.
AS_OF_DATES ?= 2026-11-30 2026-12-31 2027-01-01 2027-01-04 2028-02-29 2026-06-30 2027-03-01 2027-01-01T00:30:00+08:00

.PHONY: run test test-sqlite test-dates test-postgres bench lint venv assets browser mosquitto wrk migrate demo clean messages help fuzz

help:
	@echo "make run    — install, migrate SQLite, load the demo district, serve http://$(HOST):$(PORT)"
	@echo "make test   — the whole suite on SQLite, the date-sensitive tests at several dates, and"
	@echo "              every database test on PostgreSQL if one answers on localhost — two lanes side by"
	@echo "              side, logs in build/test-logs/ (TEST_LANES=1: one after another)"
	@echo "make test-dates — only the date-sensitive tests (pytest -m dates), once per day in AS_OF_DATES"
	@echo "make bench  — measured figures beside their targets"
	@echo "make fuzz   — the full schemathesis run over the API schema (FUZZ_EXAMPLES per operation; docs/api.md)"
	@echo "make lint   — ruff + mypy + the import layers (lint-imports; docs/architecture.md)"

venv: $(STAMP)
$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Linli needs Python >= 3.11"' \
	  || { echo "需要 Python 3.11 或更新版本 / Python 3.11+ is required"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== installing pinned dependencies into $(VENV) =="
	@$(PIP) install --quiet --disable-pip-version-check -r requirements/dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

assets: $(ASSETS)
$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "npm (Node.js) is needed for the chart and map libraries / 需要 Node.js 的 npm 来安装图表和地图库"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's nodejs and npm …"; apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "Install it: sudo apt-get install nodejs npm"; exit 1; fi; }
	@echo "== installing chart and map libraries (npm ci) =="
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -rf build/vendor && mkdir -p build/vendor/echarts build/vendor/leaflet
	@cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE build/vendor/echarts/
	@cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css \
	  node_modules/leaflet/dist/images node_modules/leaflet/LICENSE build/vendor/leaflet/
	@touch $@

# axe-core, the accessibility checker tests/core/test_axe_browser.py runs on every page: the npm
# registry's tarball of a pinned version, checked against its sha256 (no CDN, nothing minified in git).
AXE_VERSION := 4.10.3
AXE_SHA256 := 0f2b4d7dcdf7d1219df8d1959ad68e565f51d14c3f0d88bb71cd59abeb956292
# (outside build/vendor, which `make assets` rebuilds)
AXE := build/axe-core/axe-$(AXE_VERSION).min.js

# Browser tests measure Chinese text at its real width: they need a Chinese font (fonts-noto-cjk, as
# on every real user's machine) and fail without one.
browser:
	@{ command -v chromium && command -v pdftotext && command -v nginx && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1 || { \
	  echo "== installing Debian's chromium (browser tests), poppler-utils (PDF text checks), fonts-noto-cjk (Chinese text at its real width) and nginx-light (the deploy/nginx example, tested) =="; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fontconfig fonts-noto-cjk nginx-light >/dev/null; \
	  else echo "browser, PDF and nginx tests need: sudo apt-get install chromium poppler-utils fontconfig fonts-noto-cjk nginx-light"; fi; }
	@test -s $(AXE) || { echo "== axe-core $(AXE_VERSION) (accessibility checks of the browser tests) from the npm registry =="; \
	  mkdir -p $(dir $(AXE)) && tmp=$$(mktemp) && curl -fsSL -o $$tmp https://registry.npmjs.org/axe-core/-/axe-core-$(AXE_VERSION).tgz \
	  && echo "$(AXE_SHA256)  $$tmp" | sha256sum -c --quiet - && tar -xzf $$tmp -O package/axe.min.js > $(AXE).part \
	  && mv $(AXE).part $(AXE); rc=$$?; rm -f $$tmp $(AXE).part; exit $$rc; }

# Mosquitto, the MQTT broker the sensing tests and the MQTT bench start on a port of their own
# (tests/mosquittod.py; issue 13): Debian's package, installed only when the binary is missing.
mosquitto:
	@test -x /usr/sbin/mosquitto || command -v mosquitto >/dev/null 2>&1 || { \
	  echo "== installing Debian's mosquitto (the MQTT broker of the sensing tests and bench) =="; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; \
	  else echo "the MQTT tests need: sudo apt-get install mosquitto"; fi; }

# wrk, the HTTP load generator of the Open311 bench (bench/bench_open311.py): Debian's package,
# installed only when missing. Without it the bench falls back to Python client processes, which
# take more of the two cores the server runs on.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "== installing Debian's wrk (the Open311 bench's load generator) =="; \
	  if [ "$$(id -u)" = 0 ]; then { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	    || echo "wrk could not be installed: the Open311 bench uses its Python clients"; \
	  else echo "the Open311 bench uses wrk when installed: sudo apt-get install wrk"; fi; }

migrate: venv assets
	@$(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py load_demo --if-empty
	@$(PY) manage.py load_demo_consent --if-empty
	@$(PY) manage.py load_demo_events --if-empty
	@$(PY) manage.py load_demo_sensing --if-empty
	@$(PY) manage.py load_demo_jobs --if-empty

run: demo
	@$(PY) manage.py demo_logins --url http://$(HOST):$(PORT)/
	@echo "== serving on http://$(HOST):$(PORT)/ with one background worker (Ctrl-C stops both) =="
	@$(PY) manage.py linli_worker --no-reload -v 0 & worker=$$!; mqtt=; \
	  if $(PY) -c "import socket; socket.create_connection(('$(MQTT_HOST)', $(MQTT_PORT)), 1).close()" 2>/dev/null; then \
	    echo "== an MQTT broker answers at $(MQTT_HOST):$(MQTT_PORT): sensing_mqtt takes in readings from it (docs/sensing.md) =="; \
	    $(PY) manage.py sensing_mqtt --host $(MQTT_HOST) --port $(MQTT_PORT) --stats-every 600 -v 0 & mqtt=$$!; fi; \
	  trap 'kill $$worker $$mqtt 2>/dev/null; wait $$worker $$mqtt 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

# Two lanes side by side, each pytest run with a test database of its own (tests/databases.py):
# the SQLite pass in one; the PostgreSQL pass, then the date-sensitive runs one day at a time, in
# the other. Each lane writes its log to $(TEST_LOGS)/; a minute-by-minute line says where each
# is; a lane that passed prints its summary, one that failed prints its whole log; make fails
# when any did. TEST_LANES=1 runs the three one after another, printing as they go.
TEST_LOGS ?= build/test-logs
# The slowest tests of each pass, at the end of its log: where the time goes, run after run.
DURATIONS ?= --durations=25 --durations-min=3
TEST_LANES ?= 2
# Byte-code is compiled once into build/pycache (not the source tree) even where the environment
# says PYTHONDONTWRITEBYTECODE: otherwise each of the ~40 Python processes of a run (the passes,
# the 8 dates, the servers and commands tests start) compiles all of linli/, its migrations and
# the tests again — about half of each start-up's CPU (2.3 s instead of 4.7 s a process here).
test test-sqlite test-dates test-postgres fuzz: export PYTHONDONTWRITEBYTECODE :=
test test-sqlite test-dates test-postgres fuzz: export PYTHONPYCACHEPREFIX := $(CURDIR)/build/pycache
test: venv assets browser mosquitto
	@if [ "$(TEST_LANES)" = 1 ]; then \
	  $(MAKE) --no-print-directory test-sqlite && $(MAKE) --no-print-directory test-dates \
	    && $(MAKE) --no-print-directory test-postgres; exit $$?; fi; \
	logs=$(TEST_LOGS); mkdir -p $$logs; rm -f $$logs/*.log $$logs/*.rc; t0=$$(date +%s); \
	echo "== make test: SQLite | PostgreSQL, then the dates — side by side; logs in $$logs/ =="; \
	lane() { local name=$$1; shift; local t=$$(date +%s); "$$@" > $$logs/$$name.log 2>&1; \
	  echo $$? > $$logs/$$name.rc; echo "$$(( $$(date +%s) - t ))" > $$logs/$$name.secs; }; \
	( lane sqlite $(MAKE) --no-print-directory test-sqlite ) & a=$$!; \
	( lane postgres $(MAKE) --no-print-directory test-postgres; \
	  lane dates $(MAKE) --no-print-directory test-dates DATES_JOBS=1 ) & b=$$!; \
	where() { [ -e $$logs/$$1.rc ] && { echo "$$1 done"; return; }; [ -e $$logs/$$1.log ] || { echo "$$1 waiting"; return; }; \
	  echo "$$1 $$(grep -o '\[ *[0-9]*%\]' $$logs/$$1.log | tail -n 1 | tr -d '[] ')"; }; \
	while kill -0 $$a 2>/dev/null || kill -0 $$b 2>/dev/null; do \
	  for _ in $$(seq 60); do { kill -0 $$a 2>/dev/null || kill -0 $$b 2>/dev/null; } || break; sleep 1; done; \
	  { kill -0 $$a 2>/dev/null || kill -0 $$b 2>/dev/null; } && \
	    echo "-- $$(( ($$(date +%s) - t0) / 60 )) min: $$(where sqlite) · $$(where postgres) · $$(where dates)"; \
	done; wait; failed=""; \
	for name in sqlite postgres dates; do \
	  if [ "$$(cat $$logs/$$name.rc 2>/dev/null)" = 0 ]; then \
	    echo "-- $$name passed in $$(cat $$logs/$$name.secs) s: $$(grep -v '^\s*$$' $$logs/$$name.log | tail -n 1)"; \
	  else failed="$$failed $$name"; echo "== $$name FAILED — its log ($$logs/$$name.log): =="; cat $$logs/$$name.log; fi; \
	done; \
	echo "== make test: $$(( ($$(date +%s) - t0) / 60 )) min $$(( ($$(date +%s) - t0) % 60 )) s =="; \
	if [ -n "$$failed" ]; then echo "== make test FAILED:$$failed =="; exit 1; fi

test-sqlite: venv assets
	@echo "== test suite on SQLite =="
	@$(PY) -m pytest -p no:cacheprovider $(DURATIONS) $(PYTEST_ARGS)

# The date-sensitive tests as if each day of AS_OF_DATES were today (linli.core.clock reads LINLI_AS_OF),
# on SQLite, two days at a time (each run makes its own test database); then the failing days are named.
DATES_JOBS ?= 2
test-dates: venv assets
	@echo "== date-sensitive tests (pytest -m dates) on SQLite as of: $(AS_OF_DATES) =="
	@files="$$(grep -rl 'pytest.mark.dates' tests --include='test_*.py' | sort)"; logs="$$(mktemp -d)"; failed=""; \
	run() { LINLI_AS_OF=$$1 $(PY) -m pytest -p no:cacheprovider -q --no-header -m dates $(DATES_ARGS) $$files \
	  > "$$logs/$$1.log" 2>&1 && echo "-- as of $$1: $$(tail -n 1 "$$logs/$$1.log")" \
	  || { echo "-- as of $$1: FAILED"; cat "$$logs/$$1.log"; touch "$$logs/$$1.failed"; }; }; \
	n=0; for day in $(AS_OF_DATES); do run $$day & n=$$((n + 1)); [ $$((n % $(DATES_JOBS))) -eq 0 ] && wait; done; wait; \
	for day in $(AS_OF_DATES); do [ -e "$$logs/$$day.failed" ] && failed="$$failed $$day"; done; rm -rf "$$logs"; \
	if [ -n "$$failed" ]; then echo "== date-sensitive tests FAILED as of:$$failed =="; exit 1; fi

# The browser tests run in the SQLite pass only: what a browser shows does not depend on the
# database, and the same pages and queries are covered on PostgreSQL by the page and API tests.
# So do the tests that use no database at all (pure modules, the house rules: --database-only,
# tests/conftest.py): they give the same answer on every database.
test-postgres: venv assets
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL ($(PG_URL)) =="; \
	  DATABASE_URL=$(PG_URL) $(PY) -m pytest -p no:cacheprovider -m "not browser" --database-only $(DURATIONS) $(PYTEST_ARGS); \
	else \
	  echo "== PostgreSQL: SKIPPED — no server answers at $(PG_URL) (set PG_URL to test against one) =="; \
	fi

# The schema check of tests/core/test_api_schema.py with a larger budget: more examples per operation
# and the stateful phase, on SQLite (and on PostgreSQL with DATABASE_URL=...). docs/api.md.
FUZZ_EXAMPLES ?= 50
fuzz: venv assets
	@echo "== schemathesis over /api/v1/ with $(FUZZ_EXAMPLES) examples per operation =="
	@LINLI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider -q tests/core/test_api_schema.py $(PYTEST_ARGS)

bench: venv assets mosquitto wrk
	@$(PY) -m bench

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check linli tests bench
	@$(VENV)/bin/mypy linli
	@$(VENV)/bin/lint-imports --no-cache --no-logo

messages: venv
	@command -v xgettext >/dev/null || { echo "makemessages needs GNU gettext: apt-get install gettext"; exit 1; }
	@$(PY) manage.py makemessages -l zh_Hans --no-location --ignore=.venv --ignore=node_modules --ignore=build --ignore=tests --ignore=bench
	@$(PY) manage.py translations

clean:
	rm -rf $(VENV) build node_modules var/static
