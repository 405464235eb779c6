#!/usr/bin/env python3
"""Times SQL through the fleetlog HTTP API on one keep-alive connection, the way a dashboard
or a script that stays connected uses it (bench/lib/queries.sh, second comparison).

    api_timing.py HOST:PORT REPS < statements     (statements separated by NUL bytes)

Each statement runs once untimed (all of them, in order); with $API_TIMING_SERVER_PID, the
server and its workers are then left to finish what the first pass started (the copies they
keep in memory) until they are idle; then each REPS timed runs of
submit (POST /v1/statements) and fetch of every result page, the first with a wait
(GET .../result?wait=30s, the long poll, which answers with the first page when the
statement ends), as the dashboard does. A
statement still running after the wait is waited for with GET /v1/statements/{id}?wait=30s.
Prints the median seconds of each statement, one per line. Exits 1 when a statement does not
finish."""
import http.client
import json
import os
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


def cpu_seconds(pid):
    """CPU seconds used so far by `pid` and every process under it (the query workers)."""
    parents, used = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in used:
        q = p
        while q not in (0, 1) and q != pid:
            q = parents.get(q, 0)
        if q == pid:
            total += used[p]
    return total


def settle(pid):
    """Waits until the server (`pid`, with its workers) is idle: under 2% of a core for a
    second, at most 5 minutes. The first statements start copies that workers keep in memory
    (README, workload_hourly); a dashboard left open is timed after them, not beside them."""
    if not pid:
        return
    started = time.monotonic()
    before = cpu_seconds(int(pid))
    while time.monotonic() - started < 300:
        time.sleep(1)
        now = cpu_seconds(int(pid))
        if now - before < 0.02:
            break
        before = now
    print(f"api_timing: the server was idle {time.monotonic() - started:.1f}s after the first pass",
          file=sys.stderr)


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
    settle(os.environ.get("API_TIMING_SERVER_PID"))
    for sql in statements:
        print(f"{statistics.median(run_once(conn, sql) for _ in range(reps)):.4f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one message for the bench log
        print(f"api_timing: {e}", file=sys.stderr)
        sys.exit(1)
