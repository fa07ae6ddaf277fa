#!/usr/bin/env bash
# npm packages the tests need (a real SCORM 1.2 runtime), installed into .cache/node/ (git-ignored).
# Runs only when something is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_DIR=.cache/node
PACKAGES=(scorm-again@3.4.3)
mkdir -p "$NODE_DIR"
[ -f .cache/.gitignore ] || echo '*' > .cache/.gitignore
if [ -f "$NODE_DIR/node_modules/scorm-again/dist/scorm12.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is missing; run \`make system-deps\` (installs nodejs and npm)" >&2
  exit 1
fi
echo "guidecast: installing npm packages for the tests into $NODE_DIR: ${PACKAGES[*]}"
npm install --prefix "$NODE_DIR" --no-audit --no-fund --no-save --silent "${PACKAGES[@]}"
