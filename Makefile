# The first use of any target creates .venv and installs warroom into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test browser bench bench-smoke clean

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
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto

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

bench: $(STAMP)
	$(BIN)/python -m bench

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) build dist *.egg-info
