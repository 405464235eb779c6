# Section `s3`: the lake in S3 beside the local lake, by bench/s3_bench (a program that starts
# its own OpenStack Swift with s3api on loopback; built with -DFLEETLOG_BENCH=ON
# -DFLEETLOG_TESTS=ON): file writes and journalled commits, then the fleet of
# BENCH_S3_CLUSTERS simulated clusters with BENCH_S3_DAYS days of history exported into both
# lakes in the same run, `fleetlog restore` of the S3 lake's state, and a diagnostic query cold,
# warm and on the local lake. Its lines are copied into the summary as they are.

section_s3() {
  local bin=""
  for candidate in "$ROOT/build-bench/bench/s3_bench" "$ROOT/build/bench/s3_bench"; do
    [[ -x $candidate ]] && { bin=$candidate; break; }
  done
  if [[ -z $bin ]]; then
    note "s3: skipped: no bench/s3_bench (configure with -DFLEETLOG_BENCH=ON -DFLEETLOG_TESTS=ON)"
    return
  fi
  log "s3: $bin --clusters $BENCH_S3_CLUSTERS --days $BENCH_S3_DAYS --files $BENCH_S3_FILES"
  "$bin" --clusters "$BENCH_S3_CLUSTERS" --days "$BENCH_S3_DAYS" --files "$BENCH_S3_FILES" >"$BENCH_DIR/s3.out" \
    2>"$BENCH_DIR/s3.log" || die "s3_bench failed: $(tail -5 "$BENCH_DIR/s3.log")"
  local line
  while IFS= read -r line; do note "s3 $line   [load $(loadavg)]"; done <"$BENCH_DIR/s3.out"
}
