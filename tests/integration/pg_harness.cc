// The server is a child of the test process rather than a pg_ctl daemon so that it cannot
// outlive a crashed or killed test run: the child asks the kernel (PR_SET_PDEATHSIG) for
// SIGQUIT, PostgreSQL's immediate shutdown, when its parent thread dies. The same fork also
// drops to the `postgres` user under root, which replaces `runuser` and keeps the child's
// pid the postmaster's pid.
#include "pg_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "source/pg/pg_error.h"
#include "support/service_process.h"

namespace fleetlog::integration {
namespace {

namespace fs = std::filesystem;
constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kSuperuser = "postgres";

// Who the server's processes run as: the `postgres` OS user under root, else ourselves.
struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<ServerUser> FindServerUser() {
  if (geteuid() != 0) return ServerUser{};
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr)
    return Error(StatusCode::kUnavailable, "running as root, but there is no `postgres` OS user to run PostgreSQL as");
  return ServerUser{true, pw->pw_uid, pw->pw_gid};
}

// Forks and runs `argv` with stdout and stderr appended to `log`. With `die_with_parent`, the
// child gets SIGQUIT when the forking thread exits. Everything the child needs is prepared
// before fork(): after it, only async-signal-safe calls are allowed.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log, const ServerUser& user,
                    bool die_with_parent) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return IoError("fork failed: {}", std::strerror(errno));
  if (pid > 0) return pid;
  const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int in = open("/dev/null", O_RDONLY);
  if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
  if (user.switch_user && (setgroups(1, &user.gid) != 0 || setgid(user.gid) != 0 || setuid(user.uid) != 0)) _exit(126);
  // After setuid: a credential change clears the death signal.
  if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)) _exit(126);
  execv(args[0], args.data());
  _exit(127);
}

// Waits up to `timeout` for `pid` to exit; its exit status, or nullopt on timeout.
std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

// The eight STL tables as Redshift defines them (shared/reference/redshift-system-tables.md),
// and getdate() as the reference defines it for a PostgreSQL stand-in.
constexpr const char* kRedshiftFixtureSql = R"sql(
CREATE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql
  AS $$ select (now() at time zone 'utc')::timestamp $$;
CREATE TABLE public.stl_query (userid int, query int, label char(320), xid bigint, pid int, database char(32),
  querytxt char(4000), starttime timestamp, endtime timestamp, aborted int, insert_pristine int,
  concurrency_scaling_status int);
CREATE TABLE public.stl_querytext (userid int, xid bigint, pid int, query int, sequence int, text char(200));
CREATE TABLE public.stl_explain (userid int, query int, nodeid int, parentid int, plannode char(400),
  info char(400));
CREATE TABLE public.stl_wlm_query (userid int, xid int, task int, query int, service_class int, slot_count int,
  service_class_start_time timestamp, queue_start_time timestamp, queue_end_time timestamp,
  total_queue_time bigint, exec_start_time timestamp, exec_end_time timestamp, total_exec_time bigint,
  service_class_end_time timestamp, final_state char(16), est_peak_mem bigint, query_priority char(20),
  service_class_name char(64));
CREATE TABLE public.stl_scan (userid int, query int, slice int, segment int, step int, starttime timestamp,
  endtime timestamp, tasknum int, rows bigint, bytes bigint, fetches bigint, type int, tbl int,
  is_rrscan char(1), is_delayed_scan char(1), rows_pre_filter bigint, rows_pre_user_filter bigint,
  perm_table_name char(136), is_rlf_scan char(1), is_rlf_scan_reason int, num_em_blocks int);
CREATE TABLE public.stl_alert_event_log (userid int, query int, slice int, segment int, step int, pid int,
  xid bigint, event char(1024), solution char(1024), event_time timestamp);
CREATE TABLE public.stl_ddltext (userid int, xid bigint, pid int, label char(320), starttime timestamp,
  endtime timestamp, sequence int, text char(200));
CREATE TABLE public.stl_utilitytext (userid int, xid bigint, pid int, label char(320), starttime timestamp,
  endtime timestamp, sequence int, text char(200));
)sql";

}  // namespace

bool PgHarness::Available() { return access((std::string(kBinDir) + "/initdb").c_str(), X_OK) == 0; }

Result<PgHarness*> PgHarness::Shared() {
  static std::unique_ptr<PgHarness> shared;
  static Status failure;  // a server that failed to start is not retried by every test
  if (!failure.ok()) return failure;
  if (shared == nullptr) {
    std::unique_ptr<PgHarness> harness(new PgHarness());
    failure = harness->Initialize();
    if (!failure.ok()) return failure;
    shared = std::move(harness);
  }
  RETURN_IF_ERROR(shared->Start());  // in case a test stopped it and failed before restarting
  return shared.get();
}

PgHarness::~PgHarness() {
  (void)Stop();
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

Status PgHarness::Initialize() {
  if (!Available()) return Error(StatusCode::kUnavailable, "PostgreSQL 15 is not installed under {}", kBinDir);
  ASSIGN_OR_RETURN(const ServerUser user, FindServerUser());
  char tmpl[] = "/tmp/fleetlog-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return IoError("mkdtemp: {}", std::strerror(errno));
  dir_ = tmpl;
  if (user.switch_user && chown(dir_.c_str(), user.uid, user.gid) != 0)
    return IoError("chown {}: {}", dir_, std::strerror(errno));

  const std::string data = dir_ + "/data";
  ASSIGN_OR_RETURN(const pid_t initdb,
                   Spawn({std::string(kBinDir) + "/initdb", "-D", data, "-U", kSuperuser, "--auth-local=trust",
                          "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                         dir_ + "/initdb.log", user, false));
  const auto status = WaitForExit(initdb, std::chrono::minutes(2));
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return Internal("initdb failed:\n{}", Tail(dir_ + "/initdb.log", 2000));

  std::ofstream conf(data + "/postgresql.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
       << "shared_buffers = 32MB\nmax_connections = 40\n"
       << "timezone = 'UTC'\nlog_timezone = 'UTC'\nlogging_collector = off\n";
  conf.close();
  if (!conf) return IoError("cannot write {}/postgresql.conf", data);

  Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(const int port, test::FreeLoopbackPort());
    started = StartOnPort(port);
    if (started.ok()) break;
  }
  RETURN_IF_ERROR(started);
  return Exec("postgres", fmt::format("CREATE ROLE {} LOGIN PASSWORD '{}'", kUser, kPassword));
}

Status PgHarness::Start() { return running() ? Status::Ok() : StartOnPort(port_); }

Status PgHarness::StartOnPort(int port) {
  ASSIGN_OR_RETURN(const ServerUser user, FindServerUser());
  port_ = port;
  ASSIGN_OR_RETURN(pid_, Spawn({std::string(kBinDir) + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port)},
                               dir_ + "/postgres.log", user, true));
  const std::string conninfo = AdminConnInfo("postgres");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error(StatusCode::kUnavailable, "the test PostgreSQL server exited at start:\n{}", LogTail());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      (void)Stop();
      return Error(StatusCode::kTimeout, "the test PostgreSQL server did not start within 60s:\n{}", LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Ok();
}

Status PgHarness::Stop() {
  if (!running()) return Status::Ok();
  kill(pid_, SIGINT);  // fast shutdown: backends are terminated, clients see the connection drop
  if (!WaitForExit(pid_, std::chrono::seconds(30))) {
    kill(pid_, SIGKILL);
    (void)WaitForExit(pid_, std::chrono::seconds(30));
  }
  pid_ = -1;
  return Status::Ok();
}

Status PgHarness::Restart() {
  RETURN_IF_ERROR(Stop());
  return Start();
}

std::string PgHarness::Dsn(std::string_view dbname) const {
  return fmt::format("host=127.0.0.1 port={} user={} dbname={} sslmode=disable", port_, kUser, dbname);
}

std::string PgHarness::AdminConnInfo(std::string_view dbname) const {
  return fmt::format("host={} port={} user={} dbname={}", dir_, port_, kSuperuser, dbname);
}

std::string PgHarness::LogTail() const { return Tail(dir_ + "/postgres.log", 2000); }

Status PgHarness::Exec(std::string_view dbname, std::string_view sql) const {
  PGconn* conn = PQconnectdb(AdminConnInfo(dbname).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status status = Error(StatusCode::kUnavailable, "test server: cannot connect to {}: {}", dbname, PQerrorMessage(conn));
    PQfinish(conn);
    return status;
  }
  PGresult* result = PQexec(conn, std::string(sql).c_str());
  const ExecStatusType type = PQresultStatus(result);
  Status status;
  if (type != PGRES_COMMAND_OK && type != PGRES_TUPLES_OK && type != PGRES_EMPTY_QUERY) {
    const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    status = Status(StatusCodeForSqlstate(sqlstate ? sqlstate : ""),
                    fmt::format("test server, database {}: {}", dbname, PQresultErrorMessage(result)));
  }
  PQclear(result);
  PQfinish(conn);
  return status;
}

Result<int> PgHarness::QueryInt(std::string_view dbname, std::string_view sql) const {
  PGconn* conn = PQconnectdb(AdminConnInfo(dbname).c_str());
  PGresult* result = PQexec(conn, std::string(sql).c_str());
  Result<int> out = Error(StatusCode::kInternal, "test server, database {}: {}", dbname, PQerrorMessage(conn));
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1 && PQnfields(result) == 1)
    out = std::atoi(PQgetvalue(result, 0, 0));
  PQclear(result);
  PQfinish(conn);
  return out;
}

Status PgHarness::CreateDatabase(std::string_view name) const {
  RETURN_IF_ERROR(Exec("postgres", fmt::format("CREATE DATABASE \"{}\"", name)));
  return Exec(name, fmt::format("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}", kUser));
}

Result<std::string> PgHarness::CreateUniqueDatabase(std::string_view hint) {
  std::string name;
  for (char c : hint.substr(0, 40)) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
  }
  name = fmt::format("t{}_{}", ++databases_created_, name);
  RETURN_IF_ERROR(CreateDatabase(name));
  return name;
}

Status PgHarness::CreateRedshiftFixture(std::string_view dbname) const {
  RETURN_IF_ERROR(Exec("postgres", fmt::format("ALTER DATABASE \"{}\" SET timezone TO 'UTC'", dbname)));
  return Exec(dbname, kRedshiftFixtureSql);
}

}  // namespace fleetlog::integration
