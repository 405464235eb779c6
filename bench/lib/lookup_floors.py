#!/usr/bin/env python3
"""The floors of the queries section's two point lookups (q8, q9) in plain DuckDB, through the
pinned libduckdb.so: one cluster-day of rows already in memory, each statement run whole and
as a prepared statement (no parsing, binding or planning), on 2 threads and on 1. No engine
built on DuckDB can answer them faster. Medians of 300 runs, in ms. Not part of `bench/run`.

    lookup_floors.py LIBDUCKDB LAKE CLUSTER DAY      (DAY: YYYY-MM-DD, a full day of CLUSTER)"""
import ctypes
import statistics
import sys
import time

from duckdb_direct import DuckDB, PIECES_IN_ORDER

lib_path, lake, cluster, day = sys.argv[1:5]
d = DuckDB(lib_path)
L = d.lib
for t in ("stl_query", "stl_wlm_query", "stl_querytext"):
    d.run(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{lake}/{t}/*/*/*.parquet', hive_partitioning=true, "
          f"union_by_name=true) WHERE cluster = '{cluster}' AND dt = DATE '{day}'")
d.run(f"CREATE VIEW stl_querytext_full AS SELECT cluster, query, any_value(userid) AS userid, "
      f"replace({PIECES_IN_ORDER}, '\\n', chr(10)) AS text FROM stl_querytext GROUP BY cluster, query")
def scalar(sql):
    r = (ctypes.c_byte * 64)()
    assert L.duckdb_query(d.conn, sql.encode(), ctypes.byref(r)) == 0
    L.duckdb_value_int64.restype = ctypes.c_int64
    v = L.duckdb_value_int64(ctypes.byref(r), 0, 0)
    L.duckdb_destroy_result(ctypes.byref(r))
    return v
rows = {t: scalar(f"SELECT count(*) FROM {t}") for t in ("stl_query", "stl_wlm_query", "stl_querytext")}
qid = scalar("SELECT query FROM stl_querytext GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
pieces = scalar(f"SELECT count(*) FROM stl_querytext WHERE query = {qid}")
end = f"TIMESTAMP '{day}' + INTERVAL '14 hours'"
q8 = f"SELECT text FROM stl_querytext_full WHERE cluster = '{cluster}' AND query = {qid}"
q9 = (f"SELECT q.query, q.starttime, q.endtime, w.service_class_name, w.total_queue_time, w.total_exec_time, "
      f"left(q.querytxt, 60) AS statement FROM stl_query q LEFT JOIN stl_wlm_query w ON w.cluster = q.cluster "
      f"AND w.query = q.query WHERE q.cluster = '{cluster}' AND q.endtime >= {end} - INTERVAL '2 hours' "
      f"AND q.endtime < {end} - INTERVAL '1 hour' ORDER BY w.total_queue_time DESC NULLS LAST LIMIT 50")
def timeit(f, n=300):
    for _ in range(10): f()
    ts = []
    for _ in range(n):
        s = time.perf_counter(); f(); ts.append(time.perf_counter() - s)
    return statistics.median(ts) * 1000
def prepared(sql):
    stmt = ctypes.c_void_p()
    assert L.duckdb_prepare(d.conn, sql.encode(), ctypes.byref(stmt)) == 0
    def ex():
        r = (ctypes.c_byte * 64)()
        assert L.duckdb_execute_prepared(stmt, ctypes.byref(r)) == 0
        L.duckdb_destroy_result(ctypes.byref(r))
    return ex
print(f"rows in memory: {rows}; q8's query {qid} has {pieces} pieces; q9 returns {d.run(q9)} rows")
for threads in (2, 1):
    d.run(f"SET threads = {threads}")
    print(f"threads {threads}: SELECT 1 {timeit(lambda: d.run('SELECT 1')):.3f} ms; "
          f"q8 {timeit(lambda: d.run(q8)):.3f} ms, prepared {timeit(prepared(q8)):.3f} ms; "
          f"q9 {timeit(lambda: d.run(q9)):.3f} ms, prepared {timeit(prepared(q9)):.3f} ms")
