# The local PostgreSQL 15 the benchmarks compare against and export from: a throw-away
# cluster in $BENCH_DIR/pg on a free loopback port, trust authentication on loopback and the
# unix socket only. Under root the server runs as the `postgres` OS user (PostgreSQL refuses
# to run as root). Stopped by pg_stop, which bench/run calls on exit. BENCH_REUSE_PG=1 starts
# the cluster a kept $BENCH_DIR (BENCH_KEEP=1) already holds, with what was loaded into it.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null && return
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    ss -ltn 2>/dev/null | grep -q ":$p " || { echo "$p"; return; }
  done
  return 1
}

pg_start() {
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL 15 is not installed under $PG_BIN (scripts/bootstrap installs it)"
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then die "running as root but there is no postgres OS user"; fi
  PG_DIR=$BENCH_DIR/pg
  mkdir -p "$PG_DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$PG_DIR"
  PG_REUSED=0
  if [[ ${BENCH_REUSE_PG:-0} == 1 && -f $PG_DIR/data/PG_VERSION ]]; then PG_REUSED=1; else pg_init; fi
  local attempt
  for attempt in 1 2 3 4 5; do
    PGPORT=$(free_port) || die "no free loopback port"
    if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -o "-p $PGPORT" -w -t 120 start >/dev/null; then
      export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres
      local reused=""
      [[ $PG_REUSED == 1 ]] && reused=", reused: BENCH_REUSE_PG=1"
      log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (data in $PG_DIR/data$reused)"
      PG_STARTED=1
      return
    fi
  done
  die "PostgreSQL did not start: $(tail -5 "$PG_DIR/postgres.log")"
}

# A new cluster in $PG_DIR/data.
pg_init() {
  rm -rf "$PG_DIR/data"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
    --no-instructions >"$BENCH_DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$BENCH_DIR/initdb.log")"
  # Tuned as a DBA would tune a reporting database on this machine; durability is off because
  # only reads are measured (loading is not timed).
  as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
shared_buffers = '${BENCH_PG_SHARED_BUFFERS:-1GB}'
work_mem = '64MB'
maintenance_work_mem = '256MB'
effective_cache_size = '4GB'
max_wal_size = '4GB'
wal_level = minimal
max_wal_senders = 0
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
CONF
}

pg_stop() {
  [[ ${PG_STARTED:-0} == 1 ]] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  PG_STARTED=0
}

# psql DB ARGS...: psql against the bench server, stopping at the first error, no ~/.psqlrc.
# The binary itself, not Debian's `psql` on the PATH: that is pg_wrapper, a Perl script that
# picks a cluster and costs about 30 ms per start, which the peer's whole-process times
# must not carry.
pg() { local db=$1; shift; "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# A database with Redshift's eight STL tables (bench/redshift_stl.sql), getdate() and UTC,
# readable by the `fleetlog` login.
pg_create_redshift_db() {
  local db=$1
  pg postgres -c "CREATE DATABASE $db" -c "ALTER DATABASE $db SET timezone TO 'UTC'"
  pg postgres -tA -c "SELECT 1 FROM pg_roles WHERE rolname = 'fleetlog'" | grep -q 1 ||
    pg postgres -c "CREATE ROLE fleetlog LOGIN"
  pg "$db" -f "$BENCH_SRC/redshift_stl.sql"
  pg "$db" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO fleetlog"
}

# The DSN fleetlog uses: loopback TCP, trust authentication, no password.
pg_dsn() { echo "host=127.0.0.1 port=$PGPORT dbname=$1 user=fleetlog sslmode=disable"; }
