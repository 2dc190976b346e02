#!/usr/bin/env python3
"""result-gateway from Python, standard library only: store -> wait -> fetch -> 409 on re-store -> 404 -> forget.

    RG_URL=http://127.0.0.1:8080 RG_TOKEN=... python3 store_wait_fetch.py [task-id]
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

BASE = os.environ.get("RG_URL", "http://127.0.0.1:8080").rstrip("/")
TOKEN = os.environ["RG_TOKEN"]


def call(method, path, body=None):
    """One request; returns (status, parsed JSON or None). 4xx/5xx come back as problem+json, not exceptions."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def expect(what, status, want):
    if status != want:
        sys.exit(f"{what}: expected {want}, got {status}")
    print(f"{what}: {status}")


def main():
    task_id = sys.argv[1] if len(sys.argv) > 1 else f"py-{uuid.uuid4()}"
    path = f"/v1/results/{task_id}"

    status, _ = call("PUT", path, {"state": "SUCCESS", "result": {"sum": 42}})
    expect("store", status, 200)

    status, waited = call("GET", path + "/wait?timeoutSeconds=5")
    expect("wait", status, 200)
    assert waited["state"] == "SUCCESS" and not waited["timedOut"], waited

    status, view = call("GET", path)
    expect("fetch", status, 200)
    assert view["result"] == {"sum": 42}, view

    status, problem = call("PUT", path, {"state": "FAILURE", "error": {"type": "ValueError", "message": "late"}})
    expect("re-store", status, 409)
    assert problem["code"] == "RG_RESULT_FINAL", problem

    status, problem = call("GET", f"/v1/results/{task_id}-never-stored")
    expect("unknown task", status, 404)
    assert problem["code"] == "RG_RESULT_NOT_FOUND", problem

    status, _ = call("DELETE", path)
    expect("forget", status, 204)
    print("ok")


if __name__ == "__main__":
    main()
