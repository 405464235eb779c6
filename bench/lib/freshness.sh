# Section `freshness`: how long after a row becomes visible at the source `fleetlog query`
# returns it, with `fleetlog run` exporting every 5 s (settle 2 s, lookback 1 m) from the
# local PostgreSQL. Each sample inserts one stl_query row with endtime = getdate(), then
# polls `fleetlog query` every ~200 ms. Samples start at random points of the cycle.

section_freshness() {
  local db=bench_freshness dir=$BENCH_DIR/freshness interval=5 settle=2
  log "freshness: $BENCH_FRESH_SAMPLES samples, interval ${interval}s, settle ${settle}s"
  pg_create_redshift_db $db
  mkdir -p "$dir"
  cat >"$dir/fleetlog.toml" <<TOML
[lake]
path = "./lake"

[state]
path = "./fleetlog.db"

[export]
interval = "${interval}s"
settle = "${settle}s"
lookback = "1m"
initial_backfill = "10m"

[[cluster]]
name = "pg-local"
kind = "redshift"
dsn = "$(pg_dsn $db)"
TOML
  "$FLEETLOG" --config "$dir/fleetlog.toml" run >"$dir/run.log" 2>&1 &
  RUN_PID=$!
  local waited=0
  until grep -q "cycle 1:" "$dir/run.log"; do
    kill -0 $RUN_PID 2>/dev/null || die "fleetlog run exited: $(tail -5 "$dir/run.log")"
    ((waited++ < 600)) || die "fleetlog run did not finish a cycle in 60s"
    sleep 0.1
  done

  local s qid t0 got latencies=()
  for ((s = 1; s <= BENCH_FRESH_SAMPLES; s++)); do
    sleep "$(calc "($RANDOM % 5000) / 1000" 3)"
    qid=$((900000000 + s))
    pg $db -c "INSERT INTO stl_query VALUES (100, $qid, 'default', $qid, 4242, 'dev', 'select $s /* freshness probe */',
                 getdate() - interval '1 second', getdate(), 0, 0, 0)"
    t0=$(now_ns)
    until got=$(fl "$dir/fleetlog.toml" query --format csv "SELECT count(*) FROM stl_query WHERE query = $qid" 2>/dev/null |
                tail -1 | tr -d '\r') && [[ $got == 1 ]]; do
      (($(date +%s%N) - t0 < 120000000000)) || die "row $qid not in the lake after 120s: $(tail -5 "$dir/run.log")"
      sleep 0.2
    done
    latencies+=("$(seconds_since "$t0")")
    log "freshness sample $s: ${latencies[-1]}s; load $(loadavg)"
  done
  kill -TERM $RUN_PID 2>/dev/null && wait $RUN_PID 2>/dev/null || true
  RUN_PID=

  local med max target=$((interval + settle + 2))
  med=$(echo "${latencies[*]}" | median); max=$(echo "${latencies[*]}" | maximum)
  echo
  echo "== freshness: fleetlog run every ${interval}s, settle ${settle}s; ${#latencies[@]} samples =="
  result "source-visible -> queryable, median" "${med}s" "300-600s (mission pipeline, not run here)" \
    "$(calc "$med / 300" 3)" "<= ${target}s" "$(met_if "$med <= $target")"
  result "source-visible -> queryable, max" "${max}s" "300-600s (mission pipeline, not run here)" \
    "$(calc "$max / 300" 3)" "<= ${target}s" "$(met_if "$max <= $target")"
  note "samples: ${latencies[*]}"
  pg postgres -c "DROP DATABASE $db"
}
