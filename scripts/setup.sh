#!/bin/sh
# Brings a machine to what `npm start` (setup.sh run), `npm test` (setup.sh test) or `npm run bench` (setup.sh bench)
# needs, saying what it does:
#  1. system packages from scripts/packages/<what>.txt, installed with apt-get from the distribution's own
#     registry (as root, or through sudo); elsewhere it names them and stops;
#  2. node_modules from package-lock.json (npm ci) when missing or older than the lock file (never through a
#     node_modules symlink: that install is shared, and npm ci would empty it for everyone).
# Runs as npm's prestart/pretest/prebench hook, so the README's two commands (and the bench) work on a bare
# Debian/Ubuntu machine.
# RG_SETUP_SKIP_PACKAGES=1 skips step 1 (for a machine whose packages are managed elsewhere).
set -eu
cd "$(dirname "$0")/.."
what=${1:-test}
list="scripts/packages/$what.txt"
[ -f "$list" ] || { echo "setup.sh: usage: setup.sh run|test|bench" >&2; exit 2; }
say () { echo "result-gateway setup: $*" >&2; }

packages=$(sed -e 's/#.*//' "$list" | awk 'NF { print $1 }')
# npm start needs a local redis-server only when no Redis is configured (then it starts a throwaway one).
if [ "$what" = run ] && [ -n "${RG_REDIS_URL:-}${RG_REDIS_URL_FILE:-}${REDIS_HOST:-}${RG_REDIS_SENTINELS:-}${RG_REDIS_CLUSTER_NODES:-}" ]; then
  packages=""
fi
if [ "${RG_SETUP_SKIP_PACKAGES:-0}" != 1 ]; then
  if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for pkg in $packages; do
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
      if [ "$(id -u)" = 0 ]; then sudo=""
      elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
      else
        say "missing Debian packages:$missing"
        say "install them as root: apt-get install -y$missing"
        exit 1
      fi
      say "installing Debian packages:$missing (apt-get, from your distribution's registry)"
      # Packaged services (redis-server on :6379) are not started: everything here runs its own processes.
      export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
      $sudo apt-get update -qq
      # shellcheck disable=SC2086
      $sudo apt-get install -y -qq --no-install-recommends $missing
    fi
  else
    absent=""
    for cmd in $( [ -n "$packages" ] && echo redis-server ); do command -v "$cmd" >/dev/null 2>&1 || absent="$absent $cmd"; done
    if [ -n "$absent" ]; then
      say "not a Debian/Ubuntu machine and missing:$absent"
      say "install the equivalents of:$(echo $packages) (README: Other platforms)"
      exit 1
    fi
  fi
fi

if [ -L node_modules ]; then
  # A shared install (a git worktree linking another checkout's node_modules): npm ci would empty the folder the
  # link points to, under every checkout using it, before reinstalling here. The checkout that owns it updates it.
  if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json "$(dirname "$(readlink -f node_modules)")/package-lock.json"; then
    say "node_modules links to $(readlink -f node_modules), installed for another package-lock.json: not reinstalling it here (run npm ci in the checkout that owns it)"
  fi
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
