// A Redshift Serverless stand-in on the harness's PostgreSQL: the ten SYS monitoring views
// (as tables in `public`, with Redshift's column names and types), a source clock the test
// moves (getdate() reads it), and a workload that behaves as SYS views do: queries, loads
// and sessions that appear running and finish in a later round (some failed or cancelled),
// usage minutes whose charged seconds are filled in later, text over 64 KB in 4000-character
// pieces.
// Thread-safety: one per test, on the test's thread.
#pragma once

#include <string>

#include "core/time.h"
#include "integration/pg_harness.h"

namespace fleetlog::integration {

class SysWorkload {
 public:
  // Creates the SYS tables and the test clock in `db` (CreateRedshiftFixture first).
  SysWorkload(PgHarness* pg, std::string db) : pg_(pg), db_(std::move(db)) {}
  Status Create(Timestamp start);

  // Moves the source clock to `t` (getdate() returns it).
  Status SetClock(Timestamp t);
  Timestamp clock() const { return clock_; }

  // One round at the current clock: 20 new queries (queued or running; one in five with text
  // over 64 KB), a COPY, an UNLOAD and a session; the work of two rounds ago and part of the
  // last round's finishes (success, failed one in seven, canceled one in eleven); a finished
  // query appears late, with an end time 10 minutes back; usage minutes of the last 10 minutes
  // appear with charged_seconds 0, filled in for minutes older than 20 minutes.
  Status Round();
  // Finishes everything still running (success) and fills every usage minute.
  Status FinishAll();

  // Queries still queued or running at the source.
  Result<int> RunningQueries() const;

 private:
  PgHarness* pg_;
  std::string db_;
  Timestamp clock_;
  int round_ = 0;
};

}  // namespace fleetlog::integration
