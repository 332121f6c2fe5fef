# Chirp: the commands people use. `make dev` then `make test` on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# The first interpreter that really is 3.12 (a pyenv shim on PATH may point at another version).
PYTHON ?= $(shell for p in "$$(command -v python3.12)" $$HOME/.pyenv/versions/3.12.*/bin/python3.12; do \
  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CLOUD := $(BIN)/python localstack/ministack_cloud.py
# `make dev REDIS=cluster`: Redis as a cluster of three masters (REDIS=single: one server; unset: as it runs).
ifdef REDIS
export CHIRP_REDIS := $(REDIS)
endif
PYTEST := $(BIN)/python -m pytest

.PHONY: help system-deps node-deps cloud-deps install dev down status deploy audit reindex degrade limits bench load test test-cluster chaos test-unit test-infra test-integration test-e2e lint format synth synth-aws openapi clean mutate

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# The system commands the targets need, as command:Debian package: the CDK CLI needs Node.js, the local cloud
# redis-server, a JDK (OpenSearch) and Maven (which fetches OpenSearch).
NODE_DEPS := node:nodejs npm:npm
CLOUD_DEPS := redis-server:redis-server java:openjdk-17-jre-headless mvn:maven
# Shell: prints the packages of the pairs in $(1) whose command is not on PATH, each after a space.
missing_packages = for pair in $(1); do command -v "$${pair%%:*}" >/dev/null || printf ' %s' "$${pair\#*:}"; done

system-deps: ## apt packages the local cloud needs (redis-server, a JDK, Maven, Node.js); needs root
	@# Only the missing ones: a Node.js from elsewhere (NodeSource, nvm) conflicts with Debian's npm package.
	@missing="$$($(call missing_packages,$(NODE_DEPS) $(CLOUD_DEPS)))"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	command -v apt-get >/dev/null || { echo "no apt-get here: install$$missing with your package manager" >&2; exit 1; }; \
	[ "$$(id -u)" = 0 ] || { echo "installing$$missing needs root: run \`sudo make system-deps\`" >&2; exit 1; }; \
	echo "installing:$$missing"; \
	DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

# Before a target that needs the commands of $(1): installs what `make system-deps` installs when it may (as
# root, or with sudo that asks no password), and otherwise stops, naming the one command to run.
define ensure_system_deps
@missing="$$($(call missing_packages,$(1)))"; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory -C "$(CURDIR)" system-deps; \
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
  sudo $(MAKE) --no-print-directory -C "$(CURDIR)" system-deps; \
else \
  echo "missing system packages:$$missing. Install them once with: sudo make system-deps" >&2; exit 1; \
fi
endef

node-deps:
	$(call ensure_system_deps,$(NODE_DEPS))

cloud-deps:
	$(call ensure_system_deps,$(CLOUD_DEPS))

$(BIN)/.installed: requirements-dev.txt $(wildcard layers/*/requirements.txt)
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: install it (pyenv install 3.12) or set PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json | node-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed ## the Python venv (3.12) and the CDK CLI

dev: cloud-deps install ## start the local cloud (MiniStack, redis-server, OpenSearch) and deploy Chirp into it (REDIS=cluster: 3 masters)
	$(CLOUD) up

down: ## stop every server `make dev` started (by PID)
	@$(if $(wildcard $(BIN)/python),$(CLOUD),python3 localstack/ministack_cloud.py) down

status: ## what the local cloud runs
	$(CLOUD) status

deploy: install ## redeploy the CDK app into the running local cloud
	$(CLOUD) deploy

test: install ## every test suite: unit, infra, integration, e2e, then the fault injection (needs `make dev`)
	$(PYTEST) tests --ignore=tests/chaos
	$(PYTEST) tests/chaos

test-cluster: install ## on a Redis Cluster: restarts Redis as 3 masters, redeploys, runs the integration tests, the fault injection, the auditor, a load run
	$(MAKE) --no-print-directory dev REDIS=cluster
	$(PYTEST) tests/integration
	$(PYTEST) tests/chaos
	$(MAKE) --no-print-directory audit
	$(MAKE) --no-print-directory load \
	  LOAD_ARGS="$(or $(LOAD_ARGS),--users 6 --seconds 30) --output $(or $(CHIRP_LOCAL_DIR),.local)/load_run_cluster.json"

chaos: install ## fault injection against the local cloud: Redis flushed and stopped, OpenSearch stopped, replays, poison
	$(PYTEST) tests/chaos

test-unit: install
	$(PYTEST) tests/unit

test-infra: install
	$(PYTEST) tests/infra

test-integration: install
	$(PYTEST) tests/integration

test-e2e: install
	$(PYTEST) tests/e2e

audit: install ## compare every live home timeline in the local cloud with DynamoDB (exit 1 on a difference)
	set -a && . $(or $(CHIRP_LOCAL_DIR),.local)/cloud.env && PYTHONPATH=shared $(BIN)/python -m chirp.cli audit

reindex: install ## index every tweet of DynamoDB again into the local cloud's OpenSearch
	set -a && . $(or $(CHIRP_LOCAL_DIR),.local)/cloud.env && PYTHONPATH=shared $(BIN)/python -m chirp.cli reindex

degrade: install ## set the degradation level: make degrade LEVEL=3 (0-4; LEVEL=auto hands back to the controller; no LEVEL: show it)
	set -a && . $(or $(CHIRP_LOCAL_DIR),.local)/cloud.env && PYTHONPATH=shared $(BIN)/python -m chirp.cli degrade $(LEVEL)

limits: install ## raise one user's rate limits: make limits ID=<user sub> SPEC="'*=100000/1h'" (CLEAR=1: back to the tiers)
	set -a && . $(or $(CHIRP_LOCAL_DIR),.local)/cloud.env && PYTHONPATH=shared $(BIN)/python -m chirp.cli limits $(ID) $(SPEC) $(if $(CLEAR),--clear)

bench: install ## every benchmark against the local cloud; results in bench/results/, table in the README
	$(BIN)/python bench/run_all.py

load: install ## a bounded load run through the API, audited at the end: make load LOAD_ARGS="--users 20 --seconds 120"
	$(BIN)/python bench/load_run.py $(LOAD_ARGS)

lint: install ## ruff lint + format check, cfn-lint on the synthesized templates
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install ## regenerate docs/openapi.json from the handlers (a test fails when it is stale)
	$(BIN)/python -m infra.openapi

synth: install ## synthesize the local stage (cdk-nag runs as a validation plugin)
	cdk synth -q

synth-aws: install ## synthesize an AWS stage and cfn-lint it: make synth-aws STAGE=prod
	cdk synth -q -c stage=$(or $(STAGE),prod)
	$(BIN)/cfn-lint cdk.out/Chirp-$(or $(STAGE),prod).template.json || test $$? -eq 4

clean: down
	rm -rf cdk.out .local

# Mutation testing of the domain rules against their unit tests (mutmut; a few minutes on 2 cores; not part of
# `make test`). mutmut names a mutant after its file's path, so it runs in a staging folder where the package
# is chirp/, a copy of shared/chirp (settings in pyproject.toml's [tool.mutmut]). MUTATE_JOBS=N workers.
MUTATE_DIR := $(or $(CHIRP_LOCAL_DIR),.local)/mutate
MUTATE_MIN ?= 85

mutate: $(BIN)/.installed ## mutation testing of the rules: prints the kill rate and survivors, fails under MUTATE_MIN %
	rm -rf $(MUTATE_DIR) && mkdir -p $(MUTATE_DIR)
	cp -R shared/chirp tests localstack bench pyproject.toml $(MUTATE_DIR)/
	cd $(MUTATE_DIR) && mutmut run --max-children $(or $(MUTATE_JOBS),2) >mutmut-run.log 2>&1 \
	  || { tail -c 3000 mutmut-run.log; echo; echo "mutmut failed: $(MUTATE_DIR)/mutmut-run.log"; exit 1; }
	@cd $(MUTATE_DIR) && tail -c 200 mutmut-run.log | tr '\r' '\n' | tail -n 2; echo
	@cd $(MUTATE_DIR) && mutmut export-cicd-stats >/dev/null && mutmut results
	@$(BIN)/python -c 'import json, sys; s = json.load(open(sys.argv[1])); killed = s["killed"] + s["timeout"]; \
	  rate = 100 * killed / s["total"]; \
	  print(f"kill rate: {rate:.1f}% ({killed} of {s["total"]} mutants killed, {s["survived"]} survived)"); \
	  sys.exit(rate < float(sys.argv[2]))' $(MUTATE_DIR)/mutants/mutmut-cicd-stats.json $(MUTATE_MIN)
