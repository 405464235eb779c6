#!/usr/bin/env python3
"""Times SQL through the fleetlog HTTP API on one keep-alive connection, the way a dashboard
or a script that stays connected uses it (bench/lib/queries.sh, second comparison).

    api_timing.py HOST:PORT REPS < statements     (statements separated by NUL bytes)

Each statement runs once untimed (all of them, in order), then each REPS timed runs of
submit (POST /v1/statements) and fetch of every result page, the first with a wait
(GET .../result?wait=30s, the long poll, which answers with the first page when the
statement ends), as the dashboard does. A
statement still running after the wait is waited for with GET /v1/statements/{id}?wait=30s.
Prints the median seconds of each statement, one per line. Exits 1 when a statement does not
finish."""
import http.client
import json
import statistics
import sys
import time


class HttpError(RuntimeError):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise HttpError(response.status, f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def run_once(conn, sql):
    started = time.monotonic()
    statement = call(conn, "POST", "/v1/statements", {"sql": sql})["id"]
    path = f"/v1/statements/{statement}/result"
    try:
        page = call(conn, "GET", path + "?wait=30s")
    except HttpError as e:
        if e.status != 400:
            raise
        while True:  # still running after the wait, or it failed
            status = call(conn, "GET", f"/v1/statements/{statement}?wait=30s")
            if status["status"] in ("FINISHED", "FAILED", "ABORTED"):
                break
        if status["status"] != "FINISHED":
            raise RuntimeError(f"statement {status['status']}: {status.get('error', '')}")
        page = call(conn, "GET", path)
    while page.get("next_token"):
        page = call(conn, "GET", f"{path}?next_token={page['next_token']}")
    return time.monotonic() - started


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    reps = int(sys.argv[2])
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    statements = list(filter(None, sys.stdin.read().split("\0")))
    # Every statement once before any is timed: a dashboard left open asks them again and
    # again, and a worker keeps some rows in memory in the background after the first
    # statement that reads them (README, workload_hourly).
    for sql in statements:
        run_once(conn, sql)
    for sql in statements:
        print(f"{statistics.median(run_once(conn, sql) for _ in range(reps)):.4f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one message for the bench log
        print(f"api_timing: {e}", file=sys.stderr)
        sys.exit(1)
