# The README's commands. Every target installs what it needs from the lock files.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime

.PHONY: help install run serve test test-postgres test-sqlite test-pgbouncer fuzz lint format docs bench lock \
        vendor chromium pgbouncer redis docker-build docker-up docker-down clean

help:
	@echo "make run      start the service with demo data on http://localhost:8000"
	@echo "make test     the whole suite on PostgreSQL, the API tests on SQLite and through PgBouncer"
	@echo "make fuzz     only the hostile requests: schemathesis, hostile shapes, the real server"
	@echo "make lint     ruff, mypy, hadolint, lock check, make docs"
	@echo "make vendor   refresh the dashboard's chart library from the npm registry (needs npm)"
	@echo "make docs     build the manual (docs/, mkdocs.yml) into var/site, failing on a broken link;"
	@echo "              check docs/openapi.yaml: valid OpenAPI 3.1, in step with the code, served"
	@echo "make bench    load benchmarks (PostgreSQL, wrk); results in bench/results/"
	@echo "              e.g. make bench BENCH_ARGS='--sizes demo,1m --duration 5'"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements/runtime.txt requirements/build.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/runtime.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/build.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(STAMP): requirements/dev.txt $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.txt
	touch $@

install: $(STAMP)

run: $(RUNTIME_STAMP)
	$(BIN)/marketing-op migrate --no-input -v 0
	$(BIN)/marketing-op collectstatic --no-input --clear -v 0
	$(BIN)/marketing-op load-demo --if-empty
	$(BIN)/marketing-op serve

# The tests run in a random order (pytest-randomly), one seed for the three passes, printed
# first: `make test SEED=N` runs them again in the order of that run.
test: $(STAMP) chromium pgbouncer redis
	@seed=$(SEED); seed=$${seed:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "make test: the tests in random order, seed $$seed (make test SEED=$$seed repeats it)"; \
	PYTEST_ADDOPTS="$$PYTEST_ADDOPTS --randomly-seed=$$seed" TEST_REDIS_SERVER=$(REDIS_SERVER) \
	$(BIN)/python scripts/test_database.py -- \
		$(MAKE) --no-print-directory test-postgres test-sqlite test-pgbouncer

test-postgres: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

test-sqlite: $(STAMP)
	DATABASE_URL=sqlite:///:memory: $(BIN)/pytest -n 2 --dist loadfile -m api 

# The API tests once more, through PgBouncer in transaction mode in front of DATABASE_URL's server.
test-pgbouncer: $(STAMP) pgbouncer
	$(BIN)/python scripts/test_pgbouncer.py -- $(BIN)/pytest -n 2 --dist loadfile -m api --reuse-db

# Also part of `make test`; alone, for a quick answer after touching what a client can send.
fuzz: $(STAMP)
	$(BIN)/python scripts/test_database.py -- $(BIN)/pytest -n 2 --dist loadfile \
		tests/test_fuzz.py tests/core/test_fuzz_regressions.py tests/core/test_serve.py \
		tests/core/test_heavy_reports.py tests/measurements/test_import_cut_off.py

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/uv lock --check --quiet
	$(BIN)/python scripts/check_requirements.py
	$(MAKE) --no-print-directory docs

format: $(STAMP)
	$(BIN)/ruff check --fix src tests scripts
	$(BIN)/ruff format src tests scripts

# The manual as a site in var/site: --strict fails on a broken link or anchor and on a page
# missing from the nav (never --quiet: under it MkDocs counts no warning). Then the checks of
# the OpenAPI document and of the pages that list it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	$(BIN)/pytest -q tests/test_openapi_document.py tests/test_docs.py

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lock: $(STAMP)
	$(BIN)/uv lock
	$(BIN)/uv export --quiet --frozen --no-dev --no-emit-project -o requirements/runtime.txt
	$(BIN)/uv export --quiet --frozen --all-groups --no-emit-project -o requirements/dev.txt
	$(BIN)/uv export --quiet --frozen --only-group build --no-emit-project -o requirements/build.txt

docker-build:
	docker build -t marketing-op .

docker-up:
	docker compose up --build -d

docker-down:
	docker compose down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The dashboard's chart library, vendored with its licence and checksums (a test checks them).
CHARTJS_VERSION := 4.6.1
CHARTJS_DIR := src/marketing_op/dashboard/static/dashboard/vendor/chartjs
vendor:
	rm -rf var/vendor && mkdir -p var/vendor
	cd var/vendor && npm pack --silent chart.js@$(CHARTJS_VERSION) >/dev/null \
		&& tar xzf chart.js-$(CHARTJS_VERSION).tgz
	cp var/vendor/package/dist/chart.umd.min.js var/vendor/package/LICENSE.md $(CHARTJS_DIR)/
	echo "chart.js $(CHARTJS_VERSION)" > $(CHARTJS_DIR)/VERSION
	cd $(CHARTJS_DIR) && sha256sum chart.umd.min.js LICENSE.md > SHA256SUMS
	rm -rf var/vendor

# A Debian package that tests need, installed with apt-get when its program is missing:
# $(1) the program, $(2) the package, $(3) what needs it, $(4) the variable naming the program.
define debian_package
	@test -x $(1) || { \
		echo "$(2) is missing at $(1): installing Debian's $(2) package for $(3)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		{ $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); } \
		|| { echo "Could not install $(2) with apt-get: install it (apt-get install $(2)) or set $(4)=/path/to/$(2); $(3) fail without it."; exit 1; }; \
	}
endef

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
CHROMIUM ?= /usr/bin/chromium
chromium:
	$(call debian_package,$(CHROMIUM),chromium,the browser tests,CHROMIUM)

# Debian's PgBouncer for the tests of the service behind it in transaction mode.
PGBOUNCER ?= /usr/sbin/pgbouncer
pgbouncer:
	$(call debian_package,$(PGBOUNCER),pgbouncer,the PgBouncer tests,PGBOUNCER)

# Debian's Redis, from which make test starts a throwaway server where none answers at
# 127.0.0.1:6379 (the tests of several servers share one).
REDIS_SERVER ?= /usr/bin/redis-server
redis:
	$(call debian_package,$(REDIS_SERVER),redis-server,the tests of several servers,REDIS_SERVER)
