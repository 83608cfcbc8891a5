#!/usr/bin/env bash
# Sets up everything mamcrawler needs on a fresh Debian machine: system packages (when
# missing and we are root), a virtual environment in .venv and the package with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
for bin_pkg in qbittorrent-nox:qbittorrent-nox opentracker:opentracker ffmpeg:ffmpeg \
               espeak-ng:espeak-ng sox:sox gcc:gcc chromium:chromium; do
  bin=${bin_pkg%%:*}; pkg=${bin_pkg##*:}
  command -v "$bin" >/dev/null 2>&1 || need_pkgs+=("$pkg")
done
# PostgreSQL server binaries for the store's PostgreSQL tests (Debian keeps them off PATH).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_pkgs+=(postgresql)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "missing system packages: ${need_pkgs[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "mamcrawler needs Python 3.11 or 3.12 (durable-rules does not import on 3.13)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,audio]'

# The real Audiobookshelf server for the library tests: built once per machine into a cache
# outside the clone (~5 min the first time; a no-op afterwards), here rather than inside a
# test so the build never counts against a test's timeout. Its vendored copy sits beside
# the clone (../shared/vendor/audiobookshelf) unless MAMCRAWLER_ABS_VENDOR says otherwise.
abs_vendor=${MAMCRAWLER_ABS_VENDOR:-}
if [ -z "$abs_vendor" ]; then  # shared/vendor beside the clone or beside one of its parents
  dir=$(cd .. && pwd)
  while [ -n "$dir" ]; do
    [ -f "$dir/shared/vendor/audiobookshelf/install.sh" ] && { abs_vendor="$dir/shared/vendor/audiobookshelf"; break; }
    [ "$dir" = / ] && break
    dir=$(dirname "$dir")
  done
  abs_vendor=${abs_vendor:-../shared/vendor/audiobookshelf}
fi
abs_dir=${MAMCRAWLER_ABS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mamcrawler/abs-2.36.0}
if [ "${1:-}" != "--tests" ]; then
  :  # the run command does not need it
elif [ -f "$abs_vendor/install.sh" ] && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  mkdir -p "$(dirname "$abs_dir")"
  bash "$abs_vendor/install.sh" "$abs_dir"
elif [ "${MAMCRAWLER_REQUIRE_ALL_TESTS:-}" = 1 ]; then
  echo "the Audiobookshelf tests need node, npm and $abs_vendor/install.sh" >&2
  exit 1
fi
