# Helpers shared by the bench sections: logging, timing, medians, the result lines.
# Sourced by bench/run; every function here is free of side effects on the tree.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

now_ns() { date +%s%N; }

# seconds_since NS -> elapsed seconds with millisecond precision
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# timed VAR CMD...: runs CMD, stores its wall time in seconds in VAR; fails when CMD fails.
timed() {
  local __var=$1; shift
  local t0; t0=$(now_ns)
  "$@" || { log "command failed ($?): $*"; return 1; }
  printf -v "$__var" '%s' "$(seconds_since "$t0")"
}

# median [DECIMALS]: of the numbers on stdin, with 3 decimals unless told (seconds: to the ms).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk -v d="${1:-3}" '{ v[NR] = $1 } END { if (NR == 0) exit 1;
  f = "%." d "f"; if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maximum() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -n1; }
geomean() { tr ' ' '\n' | grep -v '^$' | awk -v d="${1:-2}" '{ s += log($1); n++ } END { printf "%." d "f", exp(s / n) }'; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_for_go SECTION: with BENCH_GO_FILE set, a section prepares its data and then waits until
# that file exists before it times anything, so the slow preparation can run while the machine
# is busy and the timing when it is quiet. A file that names an executable (its first line) is
# copied over the run's fleetlog binary first: the prepared data is then timed with that build.
wait_for_go() {
  [[ -n ${BENCH_GO_FILE:-} ]] || return 0
  log "$1: prepared; waiting for $BENCH_GO_FILE before timing; load $(loadavg)"
  while [[ ! -e $BENCH_GO_FILE ]]; do sleep 5; done
  local binary
  binary=$(head -1 "$BENCH_GO_FILE")
  if [[ -n $binary && -x $binary ]]; then
    cp "$binary" "$FLEETLOG" || die "cannot copy $binary over $FLEETLOG"
    log "$1: timing $binary ($(date -r "$binary" '+%Y-%m-%d %H:%M'))"
    echo "$1: timed with binary $binary ($(date -r "$binary" '+%Y-%m-%d %H:%M')), the data prepared with the run's binary"
  fi
  log "$1: timing starts; load $(loadavg)"
}

# Peak RSS in MB from a /usr/bin/time -v log.
peak_rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

# result METRIC FLEETLOG PEER RATIO TARGET MET   (MET: 1 met, 0 not met, - no target)
# One line per measurement, in the format the brief fixes, collected for the summary.
RESULTS=()
result() {
  local line
  local verdict=met
  [[ $6 == 0 ]] && verdict='NOT met'
  [[ $6 == - ]] && verdict='n/a'
  line=$(printf '%s: fleetlog %s | peer %s | ratio %s | target %s: %s' "$1" "$2" "$3" "$4" "$5" "$verdict")
  RESULTS+=("$line   [load $(loadavg)]")
  echo "$line"
}
# note TEXT: an informational line that is not a measurement against a target.
note() { RESULTS+=("  $*"); echo "  $*"; }

met_if() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }

# fleetlog CONFIG ARGS...: the binary under test with a config.
fl() { local cfg=$1; shift; "$FLEETLOG" --config "$cfg" "$@"; }

# The libduckdb.so that fleetlog's engine (libfleetlog.so, beside the binary in a build, in
# ../lib/fleetlog once installed) links, for the helpers that drive DuckDB directly; empty
# when there is none.
fleetlog_libduckdb() {
  local dir engine
  dir=$(dirname "$(readlink -f "$FLEETLOG")")
  for engine in "$dir/libfleetlog.so" "$dir/../lib/fleetlog/libfleetlog.so" "$FLEETLOG"; do
    [[ -f $engine ]] && ldd "$engine" | awk '/libduckdb/ { print $3; found = 1; exit } END { exit !found }' && return
  done
  return 0
}
