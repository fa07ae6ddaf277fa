#!/usr/bin/env bash
# Third-party web apps the real-app tests record (tests/apps/), installed into the git-ignored .cache/:
#   .cache/apps/datasette/  a venv with Datasette (PyPI)
#   .cache/apps/wagtail/    a venv with Wagtail (PyPI); its Django never meets guidecast's .venv
#   .cache/apps/lrs/        a venv with Ralph (PyPI ralph-malph), the Learning Record Store the xAPI tests send to
#                           (it pins its own FastAPI, so it cannot share guidecast's .venv)
# The TodoMVC examples (npm `todomvc`, whose React example is served statically) go into .cache/node/ with
# scripts/node-deps.sh: npm prunes what one `install --no-save` did not name, so all npm packages the tests
# use are installed by that one script, in one command.
# Runs only when something is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
APPS=${GUIDECAST_APPS_DIR:-.cache/apps}
PYTHON=${PYTHON:-python3}
mkdir -p "$APPS"
[ -f .cache/.gitignore ] || echo '*' > .cache/.gitignore

# app venv-name, the command the venv must have, the pip requirement
python_app() {
  local name=$1 command=$2 requirement=$3
  local venv="$APPS/$name"
  if [ -x "$venv/bin/$command" ] && [ -f "$venv/.installed" ]; then
    return 0
  fi
  echo "guidecast: installing $requirement for the real-app tests into $venv (log: $venv.log)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  { "$venv/bin/python" -m pip install --upgrade pip && "$venv/bin/python" -m pip install "$requirement"; } \
    > "$venv.log" 2>&1 || { tail -30 "$venv.log"; exit 1; }
  touch "$venv/.installed"
}

python_app datasette datasette "datasette==0.65.5"
python_app wagtail wagtail "wagtail==7.4.4"
python_app lrs ralph "ralph-malph[cli,lrs,backend-ldp]==5.1.0"  # backend-ldp brings requests, which its API imports

