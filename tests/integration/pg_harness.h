// A real PostgreSQL 15 server for integration tests (Debian's postgresql-15 package).
// The server lives in a temporary folder, listens on a free loopback port for the code under
// test (password-authenticated, scram-sha-256) and on a unix socket in that folder for the
// harness itself (trust). It is built for speed, not durability: fsync is off.
//
// Use it through Shared(): the first caller in a process starts the server, which is
// stopped and deleted at exit (and dies with the process if the process is killed). Give
// each test its own database with CreateDatabase(); Stop(), Start() and Restart() play a
// cluster going down and coming back on the same port.
//
// Under root the server runs as the `postgres` OS user (PostgreSQL refuses root).
// Thread-safety: none; use it from the test's main thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fleetlog::integration {

class PgHarness {
 public:
  // The password-authenticated login role tests connect as, and its password. The role
  // may read every table the harness creates.
  static constexpr const char* kUser = "fleetlog";
  static constexpr const char* kPassword = "correct horse battery staple";

  // True when the PostgreSQL 15 binaries are installed; tests skip when they are not.
  static bool Available();
  // The server shared by the whole process, started on first use. An error when it cannot
  // start says why, with the tail of the server's log. The harness stays owned by the
  // process; the pointer is valid until exit.
  static Result<PgHarness*> Shared();

  PgHarness(const PgHarness&) = delete;
  PgHarness& operator=(const PgHarness&) = delete;
  ~PgHarness();

  // Starts the server when it is not running and waits until it accepts connections.
  Status Start();
  // Fast shutdown: open connections are terminated, new ones are refused.
  Status Stop();
  Status Restart();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

  // A libpq connection string for kUser over TCP, without the password (pass kPassword as
  // the source's password). TLS is off: the test server has no certificate.
  std::string Dsn(std::string_view dbname) const;
  // Runs `sql` (one or more statements) in `dbname` as the superuser. Errors carry the
  // server's message and the code of its SQLSTATE.
  Status Exec(std::string_view dbname, std::string_view sql) const;
  // The single integer `sql` returns in `dbname`, run as the superuser.
  Result<int> QueryInt(std::string_view dbname, std::string_view sql) const;
  // Creates an empty database `name` whose tables, created by Exec(), kUser may read.
  Status CreateDatabase(std::string_view name) const;
  // CreateDatabase() with a fresh name derived from `hint` (e.g. the test's name); returns the name.
  Result<std::string> CreateUniqueDatabase(std::string_view hint);
  // Makes `dbname` a Redshift stand-in: the eight STL tables in `public` with Redshift's
  // column names and types (char(n) included), getdate(), and the UTC time zone.
  Status CreateRedshiftFixture(std::string_view dbname) const;

 private:
  PgHarness() = default;
  Status Initialize();  // temp folder, initdb, config, first start, login role
  Status StartOnPort(int port);
  std::string AdminConnInfo(std::string_view dbname) const;
  std::string LogTail() const;

  std::string dir_;  // the temporary folder: data/, the socket, logs
  int port_ = 0;
  pid_t pid_ = -1;  // the postmaster, our child; -1 when stopped
  int databases_created_ = 0;
};

}  // namespace fleetlog::integration
