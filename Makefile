# The first use of any target creates .venv and installs warroom into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test tools browser postgres bench bench-smoke clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# exec: no shell waits in between; warroom leaves by itself when its terminal goes away (hangup,
# end of input), whoever started it, and make then ends with it.
demo: $(STAMP)
	exec $(BIN)/warroom demo

# One worker per core (pytest-xdist): on 2 cores the suite takes about 0.6x as long as in one.
test: $(STAMP) tools postgres
	$(BIN)/python -m pytest -q -n auto

# Programs some tests drive for real: Debian's chromium (headless, tests/test_serve_browser.py
# against `warroom serve`) and zsh (tests/test_shell_hook.py). As root (CI, these machines) the
# missing ones are installed; anyone else is told how, and those tests skip, except under CI=true,
# where they fail.
TOOL_PACKAGES := chromium zsh
tools:
	@missing=""; for p in $(TOOL_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian$$missing for the tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "make: missing$$missing: those tests will skip (sudo apt-get install$$missing)"; fi; fi

browser: tools

# The PostgreSQL tests (and bench/bench_team.py) start a throwaway server of their own from Debian's
# postgresql binaries (initdb + pg_ctl in a temp dir, as the postgres user when run as root) and stop
# it afterwards; WARROOM_TEST_PG_URL names a server of your own instead. As root a missing package is
# installed; anyone else is told how, and those tests skip, except under CI=true, where they fail.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  [ -n "$$WARROOM_TEST_PG_URL" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian postgresql for the PostgreSQL tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "make: no PostgreSQL: its tests will skip (sudo apt-get install postgresql)"; fi; }

bench: $(STAMP) postgres
	$(BIN)/python -m bench

bench-smoke: $(STAMP) postgres
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) build dist *.egg-info
