# Section `queries`: diagnostic queries administrators run, over BENCH_CLUSTERS x BENCH_DAYS
# of demo data in the lake (`fleetlog query`) against the same rows in PostgreSQL tables with
# the indexes a DBA would add (psql). Each side gets the query as one writes it for that
# engine; both are timed as whole processes, median of BENCH_QUERY_REPS runs after a warm-up
# (the run that checks both sides return as many rows). The lake is compacted and rolled up
# first, as a deployment's upkeep would have done.
# Also the size of the lake against PostgreSQL's total relation size.

# The queries: names, then the fleetlog (DuckDB) text and the PostgreSQL text of each.
# Where the engines want different SQL, each gets what a competent user of it writes: the
# slowest-queries text is fetched with a semi-join in DuckDB (joining stl_querytext_full
# would reassemble every statement first) and with LATERAL in PostgreSQL.
# An hourly question asks fleetlog's view workload_hourly (hourly roll-ups for the days that
# have one, raw rows for the rest: the answer the raw rows give); PostgreSQL and plain DuckDB
# on the folders (Q_DD, which has no roll-ups) answer the same question from the raw rows.
# ${END} is the newest endtime in the data, ${CL} a cluster, ${QID} a query with long text,
# ${TBL} a table that DDL statements name, ${STL_CLUSTERS} the quoted clusters with stl_query
# rows (the clusters PostgreSQL holds; workload_hourly has the Serverless workgroups too).
diagnostic_queries() {
  Q_NAMES=() Q_FL=() Q_PG=() Q_DD=() Q_KIND=()
  # Each query is a scan over days ("days": the target is 20x PostgreSQL over persistent
  # connections) unless add_lookup adds it as a point lookup (target: no slower than PostgreSQL).
  add_query() { Q_NAMES+=("$1"); Q_FL+=("$2"); Q_PG+=("${3:-$2}"); Q_DD+=("$2"); Q_KIND+=(days); }
  add_lookup() { add_query "$@"; Q_KIND[-1]=lookup; }
  # add_hourly NAME VIEW_SQL RAW_SQL: fleetlog asks workload_hourly, the peers the raw rows.
  add_hourly() { add_query "$1" "$2" "$3"; Q_DD[-1]=$3; }

  add_hourly "queries per hour per cluster (7 days)" \
    "SELECT cluster, hour, queries FROM workload_hourly
     WHERE hour >= date_trunc('hour', TIMESTAMP '${END}' - INTERVAL '7 days')
       AND dt >= CAST(TIMESTAMP '${END}' - INTERVAL '7 days' AS DATE) AND queries > 0
       AND cluster IN (${STL_CLUSTERS}) ORDER BY 1, 2" \
    "SELECT cluster, date_trunc('hour', endtime) AS hour, count(*) AS queries FROM stl_query
     WHERE endtime >= date_trunc('hour', TIMESTAMP '${END}' - INTERVAL '7 days') GROUP BY 1, 2 ORDER BY 1, 2"

  add_query "slowest queries (24 h) with their text" \
    "WITH top AS (SELECT cluster, query, starttime, endtime - starttime AS duration FROM stl_query
       WHERE endtime >= TIMESTAMP '${END}' - INTERVAL '1 day' ORDER BY duration DESC LIMIT 20)
     SELECT top.*, left(t.text, 100) AS text FROM top LEFT JOIN (
       SELECT cluster, query, string_agg(text, '' ORDER BY sequence) AS text FROM stl_querytext
       WHERE query IN (SELECT query FROM top) GROUP BY 1, 2) t USING (cluster, query)
     ORDER BY duration DESC" \
    "WITH top AS (SELECT cluster, query, starttime, endtime - starttime AS duration FROM stl_query
       WHERE endtime >= TIMESTAMP '${END}' - INTERVAL '1 day' ORDER BY duration DESC LIMIT 20)
     SELECT top.*, left(t.text, 100) AS text FROM top LEFT JOIN LATERAL (
       SELECT string_agg(x.text, '' ORDER BY x.sequence) AS text FROM stl_querytext x
       WHERE x.cluster = top.cluster AND x.query = top.query) t ON true
     ORDER BY duration DESC"

  add_query "p95 queue wait per service class, cluster, day" \
    "SELECT cluster, service_class_name, CAST(service_class_end_time AS DATE) AS day, count(*) AS queries,
       quantile_cont(total_queue_time, 0.95) / 1e6 AS p95_wait_s
     FROM stl_wlm_query GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" \
    "SELECT cluster, service_class_name, CAST(service_class_end_time AS DATE) AS day, count(*) AS queries,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_queue_time) / 1e6 AS p95_wait_s
     FROM stl_wlm_query GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"

  add_query "share of disk-based queries per cluster and day" \
    "SELECT q.cluster, q.dt, count(*) AS queries, count(w.query) AS disk_based,
       round(100.0 * count(w.query) / count(*), 2) AS pct
     FROM stl_query q LEFT JOIN (SELECT DISTINCT cluster, query FROM stl_scan WHERE type = 3) w
       ON w.cluster = q.cluster AND w.query = q.query
     GROUP BY 1, 2 ORDER BY 1, 2"

  add_query "alert events by type" \
    "SELECT split_part(trim(event), ':', 1) AS event, count(*) AS alerts, count(DISTINCT cluster) AS clusters,
       count(DISTINCT query) AS queries FROM stl_alert_event_log GROUP BY 1 ORDER BY 2 DESC"

  add_query "bytes scanned per table (7 days)" \
    "SELECT perm_table_name, count(DISTINCT query) AS queries, sum(\"rows\") AS row_count, sum(bytes) AS bytes
     FROM stl_scan WHERE type = 2 AND endtime >= TIMESTAMP '${END}' - INTERVAL '7 days'
     GROUP BY 1 ORDER BY bytes DESC LIMIT 25"

  add_query "DDL history of a table" \
    "SELECT cluster, starttime, xid, left(text, 120) AS statement FROM stl_ddltext_full
     WHERE text ILIKE '%${TBL}%' ORDER BY starttime DESC"

  add_lookup "full text of a query" \
    "SELECT text FROM stl_querytext_full WHERE cluster = '${CL}' AND query = ${QID}"

  add_lookup "one cluster's hour: queries by queue wait" \
    "SELECT q.query, q.starttime, q.endtime, w.service_class_name, w.total_queue_time, w.total_exec_time,
       left(q.querytxt, 60) AS statement
     FROM stl_query q LEFT JOIN stl_wlm_query w ON w.cluster = q.cluster AND w.query = q.query
     WHERE q.cluster = '${CL}' AND q.endtime >= TIMESTAMP '${END}' - INTERVAL '2 hours'
       AND q.endtime < TIMESTAMP '${END}' - INTERVAL '1 hour'
     ORDER BY w.total_queue_time DESC NULLS LAST LIMIT 50"
}

# DuckDB type -> PostgreSQL type, for tables copied out of the lake. Text becomes `text`
# (values are already without char(n) padding), which is the smallest PostgreSQL can store.
pg_type_of() {
  case $1 in
    INTEGER) echo integer ;; BIGINT) echo bigint ;; SMALLINT) echo smallint ;; DOUBLE) echo 'double precision' ;;
    BOOLEAN) echo boolean ;; DATE) echo date ;; TIMESTAMP*) echo timestamp ;; *) echo text ;;
  esac
}

# Copies lake table T into database DB: same columns (cluster and dt included), in one
# transaction that creates the table, so that PostgreSQL (wal_level = minimal) writes no WAL
# for the rows. The rows come from the lake's folders through the libduckdb.so behind
# $FLEETLOG (lib/lake_csv.py), or, without one, through `fleetlog query --format csv` per
# cluster (many times slower). Row counts against fleetlog's views are checked afterwards.
copy_lake_table_to_pg() {
  local cfg=$1 db=$2 table=$3 cols="" names="" name type cluster libduckdb
  while IFS=, read -r name type; do
    cols+="${cols:+, }\"$name\" $(pg_type_of "$type")"
    names+="${names:+, }\"$name\""
  done < <(fl "$cfg" query --format csv "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_name = '$table' ORDER BY ordinal_position" | tail -n +2 | tr -d '\r')
  libduckdb=$(fleetlog_libduckdb)
  {
    if [[ -f $libduckdb ]]; then
      python3 "$BENCH_SRC/lib/lake_csv.py" "$libduckdb" "$(dirname "$cfg")/lake" "$table" "$names"
    else
      for cluster in $CLUSTERS; do
        fl "$cfg" query --format csv "SELECT * FROM $table WHERE cluster = '$cluster'" | tail -n +2
      done | sed '1i header'
    fi
  } | pg "$db" -c "BEGIN" -c "CREATE TABLE $table ($cols)" \
         -c "\\copy $table FROM STDIN WITH (FORMAT csv, HEADER)" -c "COMMIT"
}

PG_INDEXES="
CREATE INDEX ON stl_query (cluster, endtime);
CREATE INDEX ON stl_query (cluster, query);
CREATE INDEX ON stl_querytext (cluster, query, sequence);
CREATE INDEX ON stl_explain (cluster, query, nodeid);
CREATE INDEX ON stl_wlm_query (cluster, service_class_end_time);
CREATE INDEX ON stl_wlm_query (cluster, query);
CREATE INDEX ON stl_scan (cluster, query);
CREATE INDEX ON stl_scan (endtime);
CREATE INDEX ON stl_alert_event_log (cluster, event_time);
CREATE INDEX ON stl_ddltext (cluster, xid, pid, starttime, sequence);
CREATE INDEX ON stl_utilitytext (cluster, xid, pid, starttime, sequence);
"

# fleetlog's reassembled-text views, written for PostgreSQL.
PG_VIEWS="
CREATE VIEW stl_querytext_full AS SELECT cluster, query, min(userid) AS userid,
  replace(string_agg(text, '' ORDER BY sequence), '\\n', chr(10)) AS text, count(*) AS pieces, min(dt) AS dt
  FROM stl_querytext GROUP BY cluster, query;
CREATE VIEW stl_ddltext_full AS SELECT cluster, xid, pid, starttime, min(userid) AS userid,
  replace(string_agg(text, '' ORDER BY sequence), '\\n', chr(10)) AS text, count(*) AS pieces, min(dt) AS dt
  FROM stl_ddltext GROUP BY cluster, xid, pid, starttime;
"

# median_time N CMD... -> median wall seconds of N runs of CMD (output discarded)
median_time() {
  local n=$1 i t0 times=(); shift
  for ((i = 0; i < n; i++)); do
    t0=$(now_ns)
    "$@" >/dev/null || { log "failed: $*"; return 1; }
    times+=("$(seconds_since "$t0")")
  done
  echo "${times[*]}" | median
}

# Second comparison, both sides over a connection that stays open, so that neither pays a
# process start: the fleetlog HTTP API (`fleetlog serve`) on one keep-alive connection,
# submit + wait (the long poll, ?wait=) + fetch, against one psql session with \timing. Median of BENCH_QUERY_REPS
# after one untimed run (the API: of every statement first, as a dashboard left open has).
# Printed apart from, and never instead of, the whole-process figures.
# Targets: a scan over days at least 20x faster than PostgreSQL, a point lookup no slower.
# While the server runs, whole processes once more: `fleetlog query --server` against the
# first comparison's `psql -c` times, both a client process asking a running server (target:
# a geometric mean 5x faster, as for the in-process line).
# Third comparison: plain DuckDB on one open connection, pointed straight at the lake
# folders (lib/duckdb_direct.py): what the catalog and roll-ups add over reading the folders.
persistent_comparison() {
  local cfg=$1 db=$2 port api_cfg i r api_t=() pg_t=() dd_t=()
  port=$(free_port) || { log "queries: no free port; skipping the persistent-connection comparison"; return; }
  api_cfg=$(dirname "$cfg")/bench-api.toml
  { cat "$cfg"; printf '\n[server]\nlisten = "127.0.0.1:%s"\n' "$port"; } >"$api_cfg"
  "$FLEETLOG" --config "$api_cfg" serve >"$BENCH_DIR/serve.log" 2>&1 &
  RUN_PID=$!
  for ((i = 0; i < 100; i++)); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/v1/workgroups', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
  mapfile -t api_t < <(printf '%s\0' "${Q_FL[@]}" | API_TIMING_SERVER_PID=$RUN_PID python3 "$BENCH_SRC/lib/api_timing.py" "127.0.0.1:$port" "$BENCH_QUERY_REPS")
  # Whole processes again, now through the running server: `fleetlog query --server` (which
  # loads no DuckDB) against the same `psql -c` times as the first comparison (PG_WHOLE).
  local srv_t=() q t
  for q in "${Q_FL[@]}"; do
    t=$(median_time "$BENCH_QUERY_REPS" "$FLEETLOG" query --server "http://127.0.0.1:$port" --format csv "$q") || break
    srv_t+=("$t")
  done
  kill -TERM "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null || true
  RUN_PID=
  ((${#api_t[@]} == ${#Q_FL[@]})) || { log "queries: the API comparison failed: $(tail -3 "$BENCH_DIR/serve.log")"; return; }
  for q in "${Q_PG[@]}"; do
    mapfile -t r < <({ echo '\timing on'; echo '\o /dev/null'
                       for ((i = 0; i <= BENCH_QUERY_REPS; i++)); do echo "$q;"; done; } |
                     pg "$db" | awk '/^Time:/ { print $2 / 1000 }' | tail -n +2)
    pg_t+=("$(echo "${r[*]}" | median 5)")  # psql's \timing is to the microsecond; a lookup takes about 1 ms
  done
  echo "-- second comparison: persistent connections (fleetlog HTTP API vs one psql session; no process start-up) --"
  local kind target met
  for i in "${!Q_NAMES[@]}"; do
    kind=${Q_KIND[$i]}
    if [[ $kind == lookup ]]; then target=">= 1x (point lookup)"; met=$(met_if "${pg_t[$i]} >= ${api_t[$i]}")
    else target=">= 20x (scan over days)"; met=$(met_if "${pg_t[$i]} >= 20 * ${api_t[$i]}"); fi
    result "q$((i + 1)) ${Q_NAMES[$i]} over persistent connections (API vs psql session)" "${api_t[$i]}s" \
      "${pg_t[$i]}s" "$(calc "${api_t[$i]} / ${pg_t[$i]}" 3) ($(calc "${pg_t[$i]} / ${api_t[$i]}" 1)x faster)" \
      "$target" "$met"
  done
  local fl_gm pg_gm
  fl_gm=$(echo "${api_t[*]}" | geomean 4); pg_gm=$(echo "${pg_t[*]}" | geomean 4)
  result "geometric mean of ${#Q_NAMES[@]} query times over persistent connections (API vs psql session)" "${fl_gm}s" \
    "${pg_gm}s" "$(calc "$fl_gm / $pg_gm" 3) ($(calc "$pg_gm / $fl_gm" 1)x faster)" "none (printed)" -

  if ((${#srv_t[@]} == ${#Q_FL[@]} && ${#PG_WHOLE[@]} == ${#Q_FL[@]})); then
    echo "-- whole processes through the server: fleetlog query --server (no DuckDB in the client) vs psql -c --"
    for i in "${!Q_NAMES[@]}"; do
      result "q$((i + 1)) ${Q_NAMES[$i]}, whole processes (query --server vs psql -c)" "${srv_t[$i]}s" \
        "${PG_WHOLE[$i]}s" "$(calc "${srv_t[$i]} / ${PG_WHOLE[$i]}" 3) ($(calc "${PG_WHOLE[$i]} / ${srv_t[$i]}" 1)x faster)" "none" -
    done
    local srv_gm whole_gm
    srv_gm=$(echo "${srv_t[*]}" | geomean 4); whole_gm=$(echo "${PG_WHOLE[*]}" | geomean 4)
    result "geometric mean of ${#Q_NAMES[@]} query times, whole processes (query --server vs psql -c)" "${srv_gm}s" \
      "${whole_gm}s" "$(calc "$srv_gm / $whole_gm" 3) ($(calc "$whole_gm / $srv_gm" 1)x faster)" ">= 5x faster" \
      "$(met_if "$whole_gm >= 5 * $srv_gm")"
  else
    log "queries: the whole-process comparison through the server failed: $(tail -3 "$BENCH_DIR/serve.log")"
  fi

  local libduckdb
  libduckdb=$(fleetlog_libduckdb)
  [[ -f $libduckdb ]] || { log "queries: no libduckdb.so behind $FLEETLOG; skipping the DuckDB comparison"; return; }
  mapfile -t dd_t < <(printf '%s\0' "${Q_DD[@]}" |
                      python3 "$BENCH_SRC/lib/duckdb_direct.py" "$libduckdb" "$(dirname "$cfg")/lake" "$BENCH_QUERY_REPS")
  ((${#dd_t[@]} == ${#Q_FL[@]})) || { log "queries: the DuckDB comparison failed"; return; }
  echo "-- third comparison: fleetlog HTTP API vs plain DuckDB over the lake folders (one open connection, no catalog) --"
  for i in "${!Q_NAMES[@]}"; do
    result "q$((i + 1)) ${Q_NAMES[$i]} (API vs DuckDB on the folders)" "${api_t[$i]}s" "${dd_t[$i]}s" \
      "$(calc "${api_t[$i]} / ${dd_t[$i]}" 3) ($(calc "${dd_t[$i]} / ${api_t[$i]}" 2)x faster)" "none" -
  done
  local dd_gm
  dd_gm=$(echo "${dd_t[*]}" | geomean 4)
  result "geometric mean of ${#Q_NAMES[@]} query times (API vs DuckDB on the folders)" "${fl_gm}s" "${dd_gm}s" \
    "$(calc "$fl_gm / $dd_gm" 3) ($(calc "$dd_gm / $fl_gm" 2)x faster)" "none (what the catalog adds)" -
}

# make_demo_lake DIR: the demo lake of BENCH_CLUSTERS x BENCH_DAYS in DIR, compacted and
# rolled up as a deployment's upkeep would have done (each finished day's files merged, sorted
# by the cursor; the hourly roll-ups of the closed days built). The finished folder is cached under BENCH_CACHE (default ~/.cache/fleetlog/bench),
# keyed by the sizes and fleetlog's version number (the lake layout is an external interface,
# stable within a version), and copied from there on later runs (BENCH_CACHE=off: never
# cached; remove the folder after a change to the demo's data; BENCH_REUSE_DEMO=1: use DIR
# as it is).
make_demo_lake() {
  local dir=$1 t0 cache_root=${BENCH_CACHE:-$HOME/.cache/fleetlog/bench} key cached
  if [[ ${BENCH_REUSE_DEMO:-0} == 1 && -f $dir/fleetlog.toml ]]; then
    log "queries: reusing the demo in $dir (BENCH_REUSE_DEMO=1)"
    return
  fi
  key="demo-c$BENCH_CLUSTERS-d$BENCH_DAYS-v$("$FLEETLOG" --version | awk 'NR == 1 { print $2 }')-rollups"
  cached=$cache_root/$key
  if [[ $cache_root != off && -f $cached/ready ]]; then
    rm -rf "$dir"
    cp -a "$cached/demo" "$dir"
    log "queries: demo lake copied from the cache $cached"
    return
  fi
  log "queries: fleetlog demo --clusters $BENCH_CLUSTERS --days $BENCH_DAYS"
  t0=$(now_ns)
  if ! "$FLEETLOG" demo --clusters "$BENCH_CLUSTERS" --days "$BENCH_DAYS" --dir "$dir" >"$BENCH_DIR/demo.log" 2>&1; then
    # The backfill may have finished and only the fleet report after it failed.
    local windows=$((BENCH_CLUSTERS * BENCH_DAYS * 8))
    grep -q "\] $windows/$windows table windows" "$BENCH_DIR/demo.log" ||
      die "fleetlog demo failed: $(tail -5 "$BENCH_DIR/demo.log")"
    log "queries: WARNING: fleetlog demo exited with an error after a complete backfill:" \
        "$(grep -m1 '^fleetlog:' "$BENCH_DIR/demo.log"); using its lake"
  fi
  log "queries: demo ready in $(seconds_since "$t0")s; load $(loadavg)"
  t0=$(now_ns)
  fl "$dir/fleetlog.toml" compact --retention --grace 0s >"$BENCH_DIR/compact.log" 2>&1 ||
    die "fleetlog compact failed: $(tail -5 "$BENCH_DIR/compact.log")"
  log "queries: $(head -1 "$BENCH_DIR/compact.log" | cut -d";" -f1) in $(seconds_since "$t0")s;" \
      "$(find "$dir/lake" -name '*.parquet' | wc -l) Parquet files"
  if [[ $cache_root != off ]] && mkdir -p "$cached" && rm -rf "$cached/demo" && cp -a "$dir" "$cached/demo"; then
    touch "$cached/ready"
    log "queries: demo lake cached in $cached"
  fi
}

section_queries() {
  local dir=$BENCH_DIR/demo db=bench_queries cfg
  make_demo_lake "$dir"
  cfg=$dir/fleetlog.toml
  CLUSTERS=$(fl "$cfg" query --format csv "SELECT DISTINCT cluster FROM stl_query ORDER BY 1" | tail -n +2 | tr -d '\r')
  local tables
  tables=$(cd "$dir/lake" && ls -d stl_* | tr '\n' ' ')

  # A reused PostgreSQL (BENCH_REUSE_PG=1) keeps the tables a kept run loaded; the row counts
  # below still have to agree with the lake's.
  if [[ ${PG_REUSED:-0} == 1 ]] && pg postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    log "queries: the PostgreSQL tables of the kept run are reused (BENCH_REUSE_PG=1)"
  else
    t0=$(now_ns)
    pg postgres -c "CREATE DATABASE $db"
    local table
    for table in $tables; do copy_lake_table_to_pg "$cfg" $db "$table"; done
    log "queries: copied into PostgreSQL in $(seconds_since "$t0")s; load $(loadavg)"
    t0=$(now_ns)
    pg $db -c "$PG_INDEXES" -c "$PG_VIEWS"
    log "queries: PostgreSQL indexes built in $(seconds_since "$t0")s"
    t0=$(now_ns)
    pg $db -c "VACUUM ANALYZE"
    log "queries: PostgreSQL VACUUM ANALYZE in $(seconds_since "$t0")s"
  fi

  wait_for_go queries

  # Row counts must agree before anything is timed.
  local counts_fl counts_pg union=""
  for table in $tables; do union+="${union:+ UNION ALL }SELECT '$table', count(*) FROM $table"; done
  counts_fl=$(fl "$cfg" query --format csv "$union ORDER BY 1" | tail -n +2 | tr -d '\r')
  counts_pg=$(pg $db --csv -c "$union ORDER BY 1" | tail -n +2)
  [[ $counts_fl == "$counts_pg" ]] || die "row counts differ: lake [$counts_fl] vs PostgreSQL [$counts_pg]"
  local total_rows; total_rows=$(awk -F, '{ s += $2 } END { print s }' <<<"$counts_fl")

  # Query parameters, from the data.
  END=$(fl "$cfg" query --format csv "SELECT max(endtime) FROM stl_query" | tail -1 | tr -d '\r')
  CL=$(echo "$CLUSTERS" | head -1)
  QID=$(fl "$cfg" query --format csv "SELECT query FROM stl_querytext WHERE cluster = '$CL'
          GROUP BY query ORDER BY count(*) DESC, query LIMIT 1" | tail -1 | tr -d '\r')
  TBL=${BENCH_DDL_TABLE:-staging.orders}
  STL_CLUSTERS=$(sed "s/.*/'&'/" <<<"$CLUSTERS" | paste -sd, | sed 's/,/, /g')
  diagnostic_queries

  echo
  echo "== queries: $BENCH_CLUSTERS clusters x $BENCH_DAYS days of demo data ($total_rows rows in $(wc -w <<<"$tables") tables) =="
  local i fl_t pg_t rows_fl rows_pg fl_all=() pg_all=()
  for i in "${!Q_NAMES[@]}"; do
    # The row count runs each query once on each side: it is also the warm-up.
    rows_fl=$(fl "$cfg" query --format csv "SELECT count(*) FROM (${Q_FL[$i]}) AS q" | tail -1 | tr -d '\r')
    rows_pg=$(pg $db -tA -c "SELECT count(*) FROM (${Q_PG[$i]}) AS q")
    [[ $rows_fl == "$rows_pg" ]] || log "warning: '${Q_NAMES[$i]}' returns $rows_fl rows from the lake, $rows_pg from PostgreSQL"
    fl_t=$(median_time "$BENCH_QUERY_REPS" fl "$cfg" query --format csv "${Q_FL[$i]}")
    pg_t=$(median_time "$BENCH_QUERY_REPS" pg $db --csv -c "${Q_PG[$i]}")
    fl_all+=("$fl_t"); pg_all+=("$pg_t")
    result "q$((i + 1)) ${Q_NAMES[$i]} ($rows_fl rows)" "${fl_t}s" "${pg_t}s" \
      "$(calc "$fl_t / $pg_t" 3) ($(calc "$pg_t / $fl_t" 1)x faster)" "none" -
  done
  local fl_gm pg_gm
  fl_gm=$(echo "${fl_all[*]}" | geomean 4); pg_gm=$(echo "${pg_all[*]}" | geomean 4)
  result "geometric mean of ${#Q_NAMES[@]} query times (query in process vs psql -c)" "${fl_gm}s" "${pg_gm}s" \
    "$(calc "$fl_gm / $pg_gm" 3) ($(calc "$pg_gm / $fl_gm" 1)x faster)" ">= 5x faster" "$(met_if "$pg_gm >= 5 * $fl_gm")"
  PG_WHOLE=("${pg_all[@]}")
  [[ ${BENCH_PERSISTENT:-1} == 1 ]] && persistent_comparison "$cfg" "$db"

  local lake_bytes pg_bytes list=""
  lake_bytes=$(cd "$dir/lake" && du -sb $tables | awk '{ s += $1 } END { print s }')
  for table in $tables; do list+="${list:+, }'$table'"; done
  pg_bytes=$(pg $db -tA -c "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY[$list]) AS t")
  result "storage (lake table folders vs pg_total_relation_size)" "$(calc "$lake_bytes / 1048576" 1) MB" \
    "$(calc "$pg_bytes / 1048576" 1) MB" "$(calc "$lake_bytes / $pg_bytes" 3) (1/$(calc "$pg_bytes / $lake_bytes" 1))" \
    "<= 1/8" "$(met_if "$lake_bytes * 8 <= $pg_bytes")"
  # A kept folder keeps the loaded tables too, for BENCH_REUSE_PG=1.
  [[ ${BENCH_KEEP:-0} == 1 ]] || pg postgres -c "DROP DATABASE $db"
}
