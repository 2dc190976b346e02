#!/bin/sh
# result-gateway from a shell, with curl (and jq to read answers):
# store -> wait -> fetch -> 409 on re-store -> 404 -> forget.
#   RG_URL=http://127.0.0.1:8080 RG_TOKEN=... sh store-wait-fetch.sh [task-id]
set -eu
base=${RG_URL:-http://127.0.0.1:8080}
task=${1:-sh-$$-$(date +%s)}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# call METHOD PATH [JSON]: prints the status; the body is left in $out.
call () {
  if [ $# -gt 2 ]; then
    curl -sS -o "$out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $RG_TOKEN" \
      -H 'Content-Type: application/json' --data "$3" "$base$2"
  else
    curl -sS -o "$out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $RG_TOKEN" "$base$2"
  fi
}
expect () { # expect WHAT GOT WANT
  [ "$2" = "$3" ] || { echo "$1: expected $3, got $2: $(cat "$out")" >&2; exit 1; }
  echo "$1: $2"
}

expect store "$(call PUT "/v1/results/$task" '{"state": "SUCCESS", "result": {"sum": 42}}')" 200
expect wait "$(call GET "/v1/results/$task/wait?timeoutSeconds=5")" 200
[ "$(jq -r '.state + " " + (.timedOut | tostring)' "$out")" = "SUCCESS false" ]
expect fetch "$(call GET "/v1/results/$task")" 200
[ "$(jq -c .result "$out")" = '{"sum":42}' ]
expect re-store "$(call PUT "/v1/results/$task" '{"state": "FAILURE", "error": {"type": "ValueError", "message": "late"}}')" 409
[ "$(jq -r .code "$out")" = RG_RESULT_FINAL ]
expect "unknown task" "$(call GET "/v1/results/$task-never-stored")" 404
[ "$(jq -r .code "$out")" = RG_RESULT_NOT_FOUND ]
expect forget "$(call DELETE "/v1/results/$task")" 204
echo ok
