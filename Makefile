# Each target creates .venv when missing; a fresh machine needs only python3, pip, make and node.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := lakescout catalog_ingest agent api mcp_server evals prompts sample

.PHONY: demo test bench eval serve vsix e2e clean

# compileall: an editable install leaves the sources uncompiled, and where PYTHONDONTWRITEBYTECODE is set every
# command would compile them again (about 0.1 CPU-s of a cold `lakescout ask`, 0.2 of `lakescout serve`).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m compileall -q $(PACKAGES)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lakescout demo-lake
	$(BIN)/lakescout ingest
	$(BIN)/lakescout ask "which table has refunds by region?"
	@echo "lakescout is installed in $(VENV): run '. $(BIN)/activate' to put it on your PATH (or call $(BIN)/lakescout)"

test: $(STAMP) vscode/node_modules/.installed
	$(BIN)/python -m pytest -q
	cd vscode && npm test

vscode/node_modules/.installed: vscode/package-lock.json
	cd vscode && npm ci --no-audit --no-fund
	touch $@

vsix: vscode/node_modules/.installed
	cd vscode && npm run build && npx vsce package

# The extension in a real VS Code (code-server + Chromium); installs are cached under .cache/e2e.
e2e: $(STAMP) vscode/node_modules/.installed
	bash vscode/test/e2e/install.sh
	cd vscode && npm run e2e

eval: $(STAMP)
	$(BIN)/lakescout eval

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .lakescout
