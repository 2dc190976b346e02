#!/usr/bin/env bash
# The Celery compatibility suite again, against Celery 5.6.2's unmodified sources (shared/celery-5.6 beside the
# clone; Debian's python3 runs them), including what only Celery >= 5.5 writes (test/compat-modern).
set -euo pipefail
cd "$(dirname "$0")/../.."
path=${RG_TEST_CELERY_PATH:-../shared/celery-5.6/site}
[ -d "$path/celery" ] || { echo "no Celery sources at $path (set RG_TEST_CELERY_PATH)" >&2; exit 1; }
RG_TEST_CELERY_PATH=$path npm run test:celery
