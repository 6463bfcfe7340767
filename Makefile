# The first use of any target creates .venv and installs warroom into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test browser postgres bench bench-smoke clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# exec: no shell waits in between; warroom leaves by itself when its terminal goes away (hangup,
# end of input), whoever started it, and make then ends with it.
demo: $(STAMP)
	exec $(BIN)/warroom demo

test: $(STAMP) browser postgres
	$(BIN)/python -m pytest -q

# tests/test_serve_browser.py drives Debian's chromium (headless) against `warroom serve`.
# As root (CI, these machines) a missing chromium is installed; anyone else is told how, and the
# test skips, except under CI=true, where it fails.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make: no chromium: the browser test will skip (sudo apt-get install chromium)"; fi; }

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
