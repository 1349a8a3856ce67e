# lambda_local_runner: the front door. `make help` lists the targets.
# Every target installs what it needs on first use (virtualenv, packages, MinIO, Graphviz).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COUNT ?= 5000

.DEFAULT_GOAL := help
.PHONY: help venv sandbox down purge status test test-slow test-fast check lint types bench bench-full docs minio graphviz clean fuzz lint-template package

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the project with its dev dependencies

minio: $(STAMP) ## Find or build (go install) the pinned MinIO binary into the cache
	$(PY) -m sandbox ensure-minio

graphviz: ## Install Graphviz (dot) when it is missing
	@command -v dot >/dev/null || { echo "installing graphviz (apt-get)"; \
	  (apt-get install -y -qq graphviz >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null)); }

sandbox: $(STAMP) ## The main job: start S3, seed PDFs, invoke the function once, check it
	$(PY) -m sandbox run --count $(COUNT)

status: $(STAMP) ## Show the running sandbox
	$(PY) -m sandbox status

down: $(STAMP) ## Stop the sandbox; data and credentials kept for the next `up`
	$(PY) -m sandbox down

purge: $(STAMP) ## Stop the sandbox and remove its data, credentials and (docker) volume
	$(PY) -m sandbox down --purge

test: $(STAMP) graphviz lint-template ## Lint the template; unit + integration tests, slow ones left to test-slow
	-$(PY) -m sandbox ensure-minio
	$(PY) -m pytest -m "not slow" --s3-backend minio,seaweedfs

test-slow: $(STAMP) graphviz ## The slow tier: Docker backend, fault matrix, crash recovery, outside project, ...
	-$(PY) -m sandbox ensure-minio
	# Docker: an engine that answers is used as is; under CI=true (or SANDBOX_PRIVATE_DOCKER=1)
	# as root a private dockerd is installed if needed, started, used and torn down.
	$(PY) -m sandbox.docker_engine run -- $(PY) -m pytest -m slow --s3-backend minio,seaweedfs

test-fast: $(STAMP) ## Unit tests only (no servers)
	$(PY) -m pytest tests/unit

lint-template: $(STAMP) ## cfn-lint template.yaml and statemachine/*.asl.json (offline)
	$(PY) -m deploy.lint

ARCH ?= arm64
package: $(STAMP) ## Build dist/lambda.zip for Lambda (ARCH=arm64|x86_64, Python 3.12)
	$(PY) -m deploy.package --arch $(ARCH)

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP) ## mypy
	$(VENV)/bin/mypy

check: lint types test test-slow fuzz ## Lint, types, both test tiers and the long fuzzing runs

fuzz: $(STAMP) ## Fuzz the handler (2,000 examples) and the service's HTTP front (500 each), fixed seeds
	-$(PY) -m sandbox ensure-minio
	FUZZ_EXAMPLES=2000 $(PY) -m pytest tests/integration/test_fuzz_events.py -q
	FUZZ_EXAMPLES=500 $(PY) -m pytest tests/integration/service/test_http_fuzz.py -q

bench: $(STAMP) graphviz ## Benchmarks (default grid, ~10 min) and the report under docs/bench
	-$(PY) -m sandbox ensure-minio
	$(PY) -m pytest bench --benchmark-only -p no:cacheprovider --benchmark-json=.benchmarks/bench.json
	$(PY) -m bench.report .benchmarks/bench.json

bench-full: $(STAMP) graphviz ## Benchmarks over the full grid (long)
	-$(PY) -m sandbox ensure-minio
	$(PY) -m pytest bench --benchmark-only --full -p no:cacheprovider --benchmark-json=.benchmarks/bench.json
	$(PY) -m bench.report .benchmarks/bench.json

docs: $(STAMP) graphviz ## Render docs/graphs/*.dot to SVG
	$(PY) docs/graphs/render.py

clean: ## Remove the virtualenv and caches (not the MinIO build cache)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
