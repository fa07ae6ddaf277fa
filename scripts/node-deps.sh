#!/usr/bin/env bash
# npm packages the tests need, installed into .cache/node/ (git-ignored; NODE_DIR=... elsewhere): a real
# SCORM 1.2 runtime (scorm-again), the TodoMVC examples (todomvc; tests/apps/ serve its React example
# statically) and eslint for the browser extension's JavaScript (eslint, @eslint/js, globals).
# All in one `npm install`: npm prunes the packages an install with --no-save did not name.
# Runs only when something is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_DIR=${NODE_DIR:-.cache/node}
PACKAGES=(scorm-again@3.4.3 todomvc@0.1.1 eslint@10.15.0 @eslint/js@10.0.1 globals@17.14.0)
mkdir -p "$NODE_DIR"
[ -f .cache/.gitignore ] || echo '*' > .cache/.gitignore
if [ -f "$NODE_DIR/node_modules/scorm-again/dist/scorm12.js" ] && \
   [ -f "$NODE_DIR/node_modules/todomvc/examples/react/index.html" ] && \
   [ -x "$NODE_DIR/node_modules/.bin/eslint" ] && [ -d "$NODE_DIR/node_modules/@eslint/js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is missing; run \`make system-deps\` (installs nodejs and npm)" >&2
  exit 1
fi
echo "guidecast: installing npm packages for the tests into $NODE_DIR: ${PACKAGES[*]}"
npm install --prefix "$NODE_DIR" --no-audit --no-fund --no-save --silent "${PACKAGES[@]}"
