# Every target that needs Python sets up .venv itself, so `make demo` and `make test`
# work on a fresh machine that has only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "catalyst-ibkr needs Python 3.11 or newer (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# `make demo` trades through the simulator's Client Portal Web API (HTTPS, IBKR pacing);
# `make demo BACKEND=tws` runs the same morning through its TWS socket view.
BACKEND ?= webapi

demo: install
	$(BIN)/catalyst-ibkr demo --backend $(BACKEND)

# wrk (load for (5) and (6)) and strace (fsyncs in (4)'s floor) are Debian packages: installed
# when missing and we are root; otherwise those rows say "not measured" and why.
BENCH_TOOLS := wrk strace

bench: install
	@missing=""; for tool in $(BENCH_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make bench: installing$$missing (Debian packages)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q$$missing >/dev/null \
	      || echo "make bench: could not install$$missing; the benchmarks that need them say so"; \
	  else \
	    echo "make bench:$$missing not installed (apt-get install$$missing as root); the benchmarks that need them say so"; \
	  fi; \
	fi
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .hypothesis
