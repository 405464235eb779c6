#!/usr/bin/env python3
"""Times one statement through a running fleetlog server right after commits: the first
statement DELAY seconds after each commit, and the one after it, beside the same statement
when nothing has changed (what a dashboard left open sees after each export cycle).

    after_commit.py HOST:PORT CONFIG DELAY ROUNDS < statement

Each round runs `$FLEETLOG --config CONFIG export` (one export cycle: it commits new rows into
the lake), sleeps DELAY seconds, then times the statement twice (submit, long poll, fetch, as
api_timing.py does). Not part of `bench/run`: it writes into the lake it is given, so point it
at a demo lake (`fleetlog demo`) whose server is running. Prints the times in ms."""
import http.client
import os
import statistics
import subprocess
import sys
import time

from api_timing import run_once


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    config, delay, rounds = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    fleetlog = os.environ.get("FLEETLOG", "fleetlog")
    sql = sys.stdin.read()
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    for _ in range(3):
        run_once(conn, sql)
    time.sleep(2)  # the copies the first statements started
    steady = [run_once(conn, sql) for _ in range(5)]
    first, second = [], []
    for _ in range(rounds):
        subprocess.run([fleetlog, "--config", config, "export"], check=True, capture_output=True)
        time.sleep(delay)
        first.append(run_once(conn, sql))
        second.append(run_once(conn, sql))
        time.sleep(2)

    def ms(xs):
        return " ".join(f"{x * 1000:.0f}" for x in xs) + f" (median {statistics.median(xs) * 1000:.0f})"
    print(f"unchanged lake: {ms(steady)} ms")
    print(f"first statement {delay:g} s after a commit: {ms(first)} ms")
    print(f"the statement after it: {ms(second)} ms")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one message
        print(f"after_commit: {e}", file=sys.stderr)
        sys.exit(1)
