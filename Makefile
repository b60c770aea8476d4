# Two commands on a fresh machine:  `make run` (set up, then the web chat on corpus/)
# and `make test` (set up, then every test tier). Python 3.11+ is the only prerequisite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 7860

.PHONY: setup browser fonts postgres run test test-fast wheel-check lint fix bench clean mcp-inspect

setup: $(VENV)/.installed

# CPU torch is installed first and on its own: letting pip resolve torch through
# sentence-transformers would pull several GB of CUDA wheels. -qq on the project itself:
# setuptools warns, once per folder, that the corpus folders shipped as package data of
# rag.shipped "look like packages" (dozens of lines a newcomer need not read); errors
# still show.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install -qq -e '.[dev]'
	touch $@

# Debian's Chromium for the real-browser tests (Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi; }

# Debian's WenQuanYi Micro Hei: the CJK font the PDF tests typeset their test files with.
FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
fonts:
	@test -f $(FONT) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	  else echo "install Debian's fonts-wqy-microhei (sudo apt-get install fonts-wqy-microhei) for the PDF tests"; exit 1; fi; }

# Debian's PostgreSQL server binaries: the feedback-store tests start a throwaway cluster
# (initdb + pg_ctl on a free port, tests/postgres.py); nothing is left running.
PG_BIN_GLOB := /usr/lib/postgresql/*/bin/initdb
postgres:
	@ls $(PG_BIN_GLOB) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else echo "install Debian's postgresql (sudo apt-get install postgresql) for the feedback-store tests"; exit 1; fi; }

run: setup
	$(VENV)/bin/rag serve --port $(PORT)

test: setup browser fonts postgres
	$(PY) -m pytest -q

# a wheel in a fresh venv serves the chat from an empty folder (CI runs this too)
wheel-check:
	.ci/wheel_check

test-fast: setup fonts postgres
	$(PY) -m pytest -q -m "not integration and not browser and not scale"

# `rag mcp` checked by the MCP inspector's CLI (needs Node.js and npm; uses $$RAG_HOME's index)
mcp-inspect: setup
	$(PY) benchmarks/mcp_inspector.py

lint: setup
	$(VENV)/bin/ruff check rag ui tests benchmarks corpus
	$(VENV)/bin/mypy

fix: setup
	$(VENV)/bin/ruff check --fix rag ui tests benchmarks

clean:
	rm -rf $(VENV) embeddings/index embeddings/models
