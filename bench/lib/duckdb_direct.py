#!/usr/bin/env python3
"""Times SQL in plain DuckDB pointed straight at the lake folders: no catalog, no roll-ups,
no sandbox, one connection that stays open (bench/lib/queries.sh, third comparison). It
loads the pinned libduckdb.so that fleetlog itself links (third_party/duckdb) through
ctypes, so it needs no package of its own.

    duckdb_direct.py LIBDUCKDB LAKE REPS < statements     (statements separated by NUL bytes)

Each lake table is a view `read_parquet('<lake>/<table>/*/*/*.parquet', hive_partitioning
= true, union_by_name = true)`, as a user of DuckDB would write it, plus the reassembled-text
views the queries name. For each statement: one untimed run, then REPS timed runs (the whole
result materialised), median seconds printed one per line. Exits 1 when a statement fails."""
import ctypes
import os
import statistics
import sys
import time

# The text views fleetlog makes (src/query/engine.cc), written the same way here: the pieces
# sorted as one list per statement (PiecesInOrderSql), the fastest way DuckDB has found.
PIECES_IN_ORDER = "array_to_string(list_transform(list_sort(list({'s': sequence, 't': text})), p -> p.t), '')"
TEXT_VIEWS = [("stl_querytext", "stl_querytext_full", "cluster, query"),
              ("stl_ddltext", "stl_ddltext_full", "cluster, xid, pid, starttime"),
              ("stl_utilitytext", "stl_utilitytext_full", "cluster, xid, pid, starttime")]


class DuckDB:
    def __init__(self, library):
        self.lib = ctypes.CDLL(library)
        self.lib.duckdb_result_error.restype = ctypes.c_char_p
        self.lib.duckdb_row_count.restype = ctypes.c_uint64
        self.db = ctypes.c_void_p()
        self.conn = ctypes.c_void_p()
        if self.lib.duckdb_open(None, ctypes.byref(self.db)) != 0:
            raise RuntimeError("duckdb_open failed")
        if self.lib.duckdb_connect(self.db, ctypes.byref(self.conn)) != 0:
            raise RuntimeError("duckdb_connect failed")

    def run(self, sql):
        """Runs `sql` to its materialised result; returns the row count."""
        result = (ctypes.c_byte * 64)()  # duckdb_result is 48 bytes in 1.4; room to spare
        failed = self.lib.duckdb_query(self.conn, sql.encode(), ctypes.byref(result))
        try:
            if failed != 0:
                error = self.lib.duckdb_result_error(ctypes.byref(result))
                raise RuntimeError(f"{(error or b'').decode()}: {sql[:200]}")
            return self.lib.duckdb_row_count(ctypes.byref(result))
        finally:
            self.lib.duckdb_destroy_result(ctypes.byref(result))


def main():
    library, lake, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    duck = DuckDB(library)
    tables = sorted(t for t in os.listdir(lake) if not t.startswith("_") and os.path.isdir(os.path.join(lake, t)))
    for table in tables:
        glob = os.path.join(lake, table, "*", "*", "*.parquet").replace("'", "''")
        duck.run(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
                 f"union_by_name = true, hive_types = {{'cluster': VARCHAR, 'dt': DATE}})")
    for table, view, group in TEXT_VIEWS:
        if table in tables:
            duck.run(f"CREATE VIEW {view} AS SELECT {group}, any_value(userid) AS userid, "
                     f"replace({PIECES_IN_ORDER}, '\\n', chr(10)) AS text, count(*) AS pieces, "
                     f"min(dt) AS dt FROM {table} GROUP BY {group}")
    for sql in filter(None, sys.stdin.read().split("\0")):
        duck.run(sql)
        times = []
        for _ in range(reps):
            started = time.monotonic()
            duck.run(sql)
            times.append(time.monotonic() - started)
        print(f"{statistics.median(times):.4f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one message for the bench log
        print(f"duckdb_direct: {e}", file=sys.stderr)
        sys.exit(1)
