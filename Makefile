# RNN Lab: `make run` starts the app, `make test` runs lint and the quick tier of the tests
# (minutes), `make test-all` lint and every test (CI's). All create .venv on first use and are
# safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-all lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Ray for the cluster runner's tests (tests/test_ray_runner.py); the app runs without it
$(VENV)/.cluster: requirements-cluster.txt $(VENV)/.dev
	$(BIN)/python -m pip install --quiet -r requirements-cluster.txt
	touch $@

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The quick tier, the one place it is defined: every test but those starting Chromium
# (browser), a training child process, warm workers or a Streamlit server (process), Ray (ray),
# and the real-data or long ones (slow). tests/test_quick_tier.py fails on a test that starts
# one of those without its mark.
QUICK := not browser and not process and not ray and not slow
# The quick tier runs in this many pytest-xdist workers, each test module whole in one worker
# (--dist loadfile: a module's fixtures are built once); TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 2

test: lint
	$(BIN)/python -m pytest -q -m "$(QUICK)" -n $(TEST_WORKERS) --dist loadfile

# Every test: the quick tier first (a failure there ends it in minutes), then the rest.
# Chromium for the browser tests: found, or Debian's package installed when root with apt,
# or else those tests skip with one line saying how to enable them (a CI=true run fails then).
test-all: test $(VENV)/.cluster
	bash .ci/chromium
	$(BIN)/python -m pytest -q -m "not ($(QUICK))"

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
