# The two commands of the README: `make run` and `make test`. Each creates .venv and installs what it needs;
# a second run reinstalls nothing unless pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test e2e-repeat lint bench clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/incidents serve

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# tests/e2e $(E2E_RUNS) times in a row, stopping at the first failure: a flaky process-level test shows up here.
E2E_RUNS ?= 5
e2e-repeat: $(STAMP) browser
	@for n in $$(seq $(E2E_RUNS)); do \
	  echo "tests/e2e: run $$n of $(E2E_RUNS)"; \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e $(PYTEST_ARGS) \
	    || { echo "tests/e2e failed on run $$n of $(E2E_RUNS)"; exit 1; }; \
	done; echo "tests/e2e passed $(E2E_RUNS) of $(E2E_RUNS) runs"

# The sandbox's end-to-end test drives a real Chromium (Debian's package) with Playwright; install it when missing.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -x "$$CHROMIUM_PATH" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing chromium (apt-get) for the end-to-end test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	  echo "Installing chromium (sudo apt-get) for the end-to-end test"; \
	  sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "The end-to-end test needs Chromium and it could not be installed here: install it (Debian/Ubuntu:"; \
	  echo "  sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary, then run make test again."; \
	  exit 1; \
	fi

# What CI checks before the tests: the formatting (`ruff format` fixes it) and the lint rules of pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff format --check app incidents tests benchmarks
	$(BIN)/ruff check app incidents tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
