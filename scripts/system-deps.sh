#!/usr/bin/env bash
# Install the Debian packages guidecast needs, only when something is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# PostgreSQL's server programs (the scale-out database; tests start a private cluster, server/services.py)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "guidecast: installing system packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: missing ${need[*]} and not root; install them with apt-get, then rerun." >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
