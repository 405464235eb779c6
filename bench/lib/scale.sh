# Section `scale`: one incremental cycle over BENCH_SCALE_CLUSTERS simulated clusters x the
# eight STL tables with five minutes of new activity each, on two cores, under
# /usr/bin/time -v. A first cycle with settle = 5m30s brings every cursor to 5m30s ago; the
# measured cycle's settle is 30 s plus however long the first cycle took, so its window holds
# exactly five minutes of new activity (plus the 1 m lookback, re-read and dropped as repeats).

write_scale_config() {
  local file=$1 settle=$2 n=$3 i
  {
    cat <<TOML
[lake]
path = "./lake"

[state]
path = "./fleetlog.db"

[export]
settle = "$settle"
lookback = "1m"
initial_backfill = "2m"
TOML
    for ((i = 1; i <= n; i++)); do
      printf '\n[[cluster]]\nname = "sim-%d"\nkind = "sim"\nseed = %d\nscale = %s\n' $i $((1000 + i)) \
        "$( ((i % 3 == 0)) && echo 2.0 || echo 1.0)"
    done
  } >"$file"
}

section_scale() {
  local n=$BENCH_SCALE_CLUSTERS dir=$BENCH_DIR/scale
  mkdir -p "$dir"
  local pin=()
  (($(nproc) > 2)) && pin=(taskset -c 0,1)
  wait_for_go scale
  log "scale: $n sim clusters x 8 tables; priming cursors to 5m30s ago"
  write_scale_config "$dir/prime.toml" 5m30s "$n"
  local t_prime; t_prime=$(now_ns)
  "${pin[@]}" "$FLEETLOG" --config "$dir/prime.toml" export >"$dir/prime.out" 2>"$dir/prime.log" ||
    die "priming cycle failed: $(tail -3 "$dir/prime.log")"
  local settle=$(( ($(now_ns) - t_prime) / 1000000000 + 30 ))
  log "scale: priming cycle: $(cat "$dir/prime.out") in $(seconds_since "$t_prime")s; measured cycle settle ${settle}s"
  write_scale_config "$dir/measure.toml" "${settle}s" "$n"
  local t0 out secs rss
  t0=$(now_ns)
  out=$($TIME_V -o "$dir/time.log" "${pin[@]}" "$FLEETLOG" --config "$dir/measure.toml" export 2>"$dir/measure.log") ||
    die "measured cycle failed: $(tail -3 "$dir/measure.log")"
  secs=$(seconds_since "$t0"); rss=$(peak_rss_mb "$dir/time.log")
  echo
  echo "== scale: one cycle, $n clusters x 8 tables, 5 minutes of activity, $(( ${#pin[@]} ? 2 : $(nproc) )) cores =="
  result "cycle time" "${secs}s" "n/a (no peer; vs target)" "$(calc "$secs / 60" 2) of target" "< 60s" \
    "$(met_if "$secs < 60")"
  result "cycle peak RSS" "${rss} MB" "n/a (no peer; vs target)" "$(calc "$rss / 300" 2) of target" "< 300 MB" \
    "$(met_if "$rss < 300")"
  note "$out; lake $(du -sm "$dir/lake" | cut -f1) MB; CPU $(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$dir/time.log") s (user+sys), $(awk -F': ' '/Percent of CPU/ { print $2 }' "$dir/time.log") of one core on average"
  rm -rf "$dir/lake"
}
