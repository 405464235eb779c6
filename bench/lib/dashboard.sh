# The dashboard section: page load times in Chromium (bench/dashboard.mjs), the fleet page of a
# BENCH_DASH_FLEET_CLUSTERS-cluster demo lake and a BENCH_DASH_DAYS-day cluster page, each with
# its workload panels from the hourly roll-ups beside the same page from raw tables only.
section_dashboard() {
  log "dashboard: page load times in Chromium (bench/dashboard.mjs)"
  local out
  out=$(FLEETLOG=$FLEETLOG BENCH_DIR=$BENCH_DIR/dashboard DASH_QUICK=${BENCH_QUICK:-0} \
        DASH_FLEET_CLUSTERS=${BENCH_DASH_FLEET_CLUSTERS:-} DASH_CLUSTER_DAYS=${BENCH_DASH_DAYS:-} \
        node "$ROOT/bench/dashboard.mjs") || die "bench/dashboard.mjs failed"
  echo "$out"
  while IFS= read -r line; do
    [[ $line == *"roll-ups"* ]] && RESULTS+=("$line")
  done <<<"$out"
}
