# The two commands of README.md: `make run` serves the catalogue, `make test` runs every test.
# Each creates what it needs: a virtual environment in .venv and an embedded PostgreSQL in .data.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The pinned versions (with hashes) that the image (requirements.lock) and .venv
# (requirements-dev.lock: also the dev and local extras) install; `make lock` regenerates both.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# One lock for every Python the project supports (3.10+): uv resolves it universally, with markers.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.10 --generate-hashes \
	$(if $(UPGRADE),--upgrade)
PORT ?= 8000
CHROMIUM := /usr/bin/chromium

.PHONY: run test screenshots chromium redis wrk lint format bench backup restore release lock clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Pin pyproject.toml's dependencies anew (keeping today's pins that still fit; UPGRADE=1 takes
# the newest releases), then `make test` and commit both files.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) --output-file $(LOCK) pyproject.toml
	$(UV_COMPILE) --extra dev --extra local --constraint $(LOCK) --output-file $(DEV_LOCK) pyproject.toml

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python manage.py serve

# Browser tests drive Debian's Chromium; install it where this machine allows (root and apt).
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser tests will be skipped"; \
	else echo "chromium is not installed and cannot be (needs root and apt): the browser tests will be skipped"; fi

# The tests of a deployment share Debian's Redis server between gunicorn instances; install it
# where this machine allows (root and apt), as chromium.
redis:
	@if command -v redis-server >/dev/null || command -v valkey-server >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's redis-server for the tests of a deployment"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null) \
		|| echo "could not install redis-server: the tests that need it will be skipped"; \
	else echo "redis-server is not installed and cannot be (needs root and apt): the tests that need it will be skipped"; fi

# Python writes its bytecode caches here even where PYTHONDONTWRITEBYTECODE is set: the suite
# starts some sixty Python processes, which would each compile the project (and pytest rewrite
# the tests) anew, 4 s of CPU for each worker's collection alone.
test: $(STAMP) chromium redis
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

# The browser tests, saving screenshots of the pages they visit in artifacts/screenshots/.
screenshots: $(STAMP) chromium
	SCREENSHOTS=1 $(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

# The benchmark drives gunicorn with Debian's wrk; install it where this machine allows.
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's wrk for the benchmark"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
		|| { echo "could not install wrk: install it (apt-get install wrk) to run the benchmark"; exit 1; }; \
	else echo "wrk is not installed and cannot be (needs root and apt): install it to run the benchmark"; exit 1; fi

# Synthetic catalogues of 1,000, 10,000 and 100,000 products in .data/bench-postgres (never the
# data of make run); BENCH_SIZES=1000,10000 shortens the run. Results in artifacts/bench/.
bench: $(STAMP) wrk redis
	$(BIN)/python -m bench.run

# pg_dump of the catalogue (custom format) into backups/, or FILE=...; restore one with FILE=...
backup: $(STAMP)
	$(BIN)/python manage.py backup $(if $(FILE),--output "$(FILE)")

restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<file>.dump"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)"

# A new release of the open data into RELEASES_DIR (default .data/releases; README, "Open data").
release: $(STAMP)
	$(BIN)/python manage.py release

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
