# Section `export`: one window of stl_query-shaped rows from the local PostgreSQL into the
# lake with `fleetlog export`, against the wire's own speed (psql \copy to /dev/null) and the
# hand-written export people use (\copy ... csv | gzip). Also section `memory`: one window of
# BENCH_MEMORY_ROWS rows, peak RSS under /usr/bin/time -v.

# A config exporting stl_query from database DB into DIR/lake.
write_pg_export_config() {
  local dir=$1 db=$2
  mkdir -p "$dir"
  cat >"$dir/fleetlog.toml" <<TOML
[lake]
path = "./lake"

[state]
path = "./fleetlog.db"

[export]
settle = "0s"
initial_backfill = "30d"     # covers every generated row
tables = ["stl_query"]

[[cluster]]
name = "pg-local"
kind = "redshift"
dsn = "$(pg_dsn "$db")"      # trust authentication on loopback: no password
TOML
}

# fleetlog_export_once DIR -> "SECONDS RSS_MB ROWS" of one fresh export (lake and state
# cleared); SECONDS is FAILED when the export failed (its log stays in DIR/export.log).
fleetlog_export_once() {
  local dir=$1
  rm -rf "$dir/lake" "$dir/fleetlog.db"*
  local t0 out secs
  t0=$(now_ns)
  if out=$($TIME_V -o "$dir/time.log" "$FLEETLOG" --config "$dir/fleetlog.toml" export 2>"$dir/export.log") &&
     [[ $out == *", 0 failed"* ]]; then
    secs=$(seconds_since "$t0")
  else
    secs=FAILED
    log "fleetlog export failed after $(seconds_since "$t0")s: $(grep -m1 -o 'Error: .*' "$dir/export.log" || tail -c 300 "$dir/export.log")"
    cp "$dir/export.log" "$BENCH_DIR/export-failure-$(date +%s).log"
  fi
  echo "$secs $(peak_rss_mb "$dir/time.log") $(awk '{print $2}' <<<"$out")"
}

# export_failed METRIC PEER TARGET: the result line of a window that fleetlog could not export.
export_failed() {
  result "$1" "FAILED (see the log above)" "$2" "-" "$3" 0
}

# psql_copy_once DB MODE -> "SECONDS RSS_MB" for MODE devnull | csvgzip
psql_copy_once() {
  local db=$1 mode=$2 t0 secs
  local select="SELECT * FROM stl_query WHERE endtime >= '2000-01-01' AND endtime < '2100-01-01'"
  t0=$(now_ns)
  case $mode in
    devnull) $TIME_V -o "$BENCH_DIR/psql-time.log" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" -c "\\copy ($select) to '/dev/null'" ;;
    csvgzip) $TIME_V -o "$BENCH_DIR/psql-time.log" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" \
               -c "\\copy ($select) to stdout with (format csv, header)" | gzip >"$BENCH_DIR/stl_query.csv.gz" ;;
  esac || die "psql \\copy ($mode) failed"
  secs=$(seconds_since "$t0")
  echo "$secs $(peak_rss_mb "$BENCH_DIR/psql-time.log")"
}

section_export() {
  local rows=$BENCH_ROWS reps=$BENCH_REPS db=bench_export dir=$BENCH_DIR/export
  log "export: $rows stl_query rows, $reps runs each"
  pg_create_redshift_db $db
  pg $db -f "$BENCH_SRC/stl_query_rows.sql"
  local t0; t0=$(now_ns)
  pg $db -c "INSERT INTO stl_query SELECT * FROM bench_stl_query_rows($rows, getdate() - interval '10 minutes', interval '1 day')" \
         -c "VACUUM ANALYZE stl_query"
  log "export: loaded in $(seconds_since "$t0")s; table $(pg $db -tA -c "SELECT pg_size_pretty(pg_total_relation_size('stl_query'))")"
  write_pg_export_config "$dir" $db
  wait_for_go export
  psql_copy_once $db devnull >/dev/null  # warms the server's cache for everyone

  local fl_s=() fl_rss=() dn_s=() gz_s=() r out s rss exported
  for ((r = 1; r <= reps; r++)); do
    out=$(psql_copy_once $db devnull); read -r s _ <<<"$out"; dn_s+=("$s")
    out=$(psql_copy_once $db csvgzip); read -r s _ <<<"$out"; gz_s+=("$s")
    out=$(fleetlog_export_once "$dir"); read -r s rss exported <<<"$out"
    log "export run $r: fleetlog ${s}s (${rss} MB), psql /dev/null ${dn_s[-1]}s, csv|gzip ${gz_s[-1]}s; load $(loadavg)"
    [[ $s == FAILED ]] && break
    fl_s+=("$s"); fl_rss+=("$rss")
  done
  if [[ $s == FAILED ]]; then
    echo
    echo "== export: $rows stl_query rows, PostgreSQL -> lake =="
    export_failed "export time vs wire (psql \\copy to /dev/null)" "${dn_s[0]}s" "<= 1.1"
    export_failed "export time vs csv|gzip" "${gz_s[0]}s" "< 1.0"
    note "fleetlog peak RSS before failing: ${rss} MB"
    pg postgres -c "DROP DATABASE $db"
    return
  fi
  [[ $exported == "$rows" ]] || die "fleetlog exported $exported rows, expected $rows"
  local in_lake; in_lake=$(fl "$dir/fleetlog.toml" query --format csv "SELECT count(*) FROM stl_query" | tail -1 | tr -d '\r')
  [[ $in_lake == "$rows" ]] || die "the lake holds $in_lake rows, expected $rows"
  local lake_mb csv_mb
  lake_mb=$(du -sm "$dir/lake/stl_query" | cut -f1)
  csv_mb=$(du -sm "$BENCH_DIR/stl_query.csv.gz" | cut -f1)

  local fl dn gz
  fl=$(echo "${fl_s[*]}" | median); dn=$(echo "${dn_s[*]}" | median); gz=$(echo "${gz_s[*]}" | median)
  echo
  echo "== export: $rows stl_query rows, PostgreSQL -> lake (median of $reps) =="
  result "export time vs wire (psql \\copy to /dev/null)" "${fl}s" "${dn}s" "$(calc "$fl / $dn" 2)" "<= 1.1" \
    "$(met_if "$fl <= 1.1 * $dn")"
  result "export time vs csv|gzip" "${fl}s" "${gz}s" "$(calc "$fl / $gz" 2)" "< 1.0" "$(met_if "$fl < $gz")"
  result "export rows/s vs wire" "$(calc "$rows / $fl" 0)" "$(calc "$rows / $dn" 0)" "$(calc "$dn / $fl" 2)" "none" -
  note "csv|gzip: $(calc "$rows / $gz" 0) rows/s; output sizes: lake ${lake_mb} MB (zstd Parquet), csv.gz ${csv_mb} MB; fleetlog peak RSS $(echo "${fl_rss[*]}" | maximum) MB, CPU of the last run $(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$dir/time.log") s (user+sys)"
  rm -rf "$dir/lake" "$BENCH_DIR/stl_query.csv.gz"
  pg postgres -c "DROP DATABASE $db"
}

section_memory() {
  local rows=$BENCH_MEMORY_ROWS db=bench_memory dir=$BENCH_DIR/memory
  log "memory: one window of $rows stl_query rows (a view that generates them as they are read)"
  pg_create_redshift_db $db
  pg $db -f "$BENCH_SRC/stl_query_rows.sql"
  local newest; newest=$(pg $db -tA -c "SELECT getdate() - interval '10 minutes'")
  pg $db -c "DROP TABLE stl_query" \
         -c "CREATE VIEW stl_query AS SELECT * FROM bench_stl_query_rows($rows, '$newest', interval '1 day')" \
         -c "GRANT SELECT ON stl_query TO fleetlog"
  write_pg_export_config "$dir" $db
  local fl_s fl_rss exported pg_s pg_rss out
  out=$(psql_copy_once $db devnull); read -r pg_s pg_rss <<<"$out"
  log "memory: psql \\copy to /dev/null ${pg_s}s, ${pg_rss} MB; load $(loadavg)"
  out=$(fleetlog_export_once "$dir"); read -r fl_s fl_rss exported <<<"$out"
  log "memory: fleetlog export ${fl_s}s, ${fl_rss} MB; load $(loadavg)"
  echo
  echo "== memory: one window of $rows stl_query rows =="
  if [[ $fl_s == FAILED ]]; then
    result "peak RSS of one ${rows}-row window" "${fl_rss} MB, then FAILED" "${pg_rss} MB (psql \\copy to /dev/null)" \
      "$(calc "$fl_rss / $pg_rss" 1)" "< 512 MB" 0
    pg postgres -c "DROP DATABASE $db"
    return
  fi
  [[ $exported == "$rows" ]] || die "fleetlog exported $exported rows, expected $rows"
  result "peak RSS of one ${rows}-row window" "${fl_rss} MB" "${pg_rss} MB (psql \\copy to /dev/null)" \
    "$(calc "$fl_rss / $pg_rss" 1)" "< 512 MB" "$(met_if "$fl_rss < 512")"
  result "time of one ${rows}-row window" "${fl_s}s" "${pg_s}s (psql \\copy to /dev/null)" "$(calc "$fl_s / $pg_s" 2)" \
    "<= 1.5" "$(met_if "$fl_s <= 1.5 * $pg_s")"
  note "fleetlog $(calc "$rows / $fl_s" 0) rows/s; lake $(du -sm "$dir/lake/stl_query" | cut -f1) MB"
  rm -rf "$dir/lake"
  pg postgres -c "DROP DATABASE $db"
}
