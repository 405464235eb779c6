// [log] format = "json": one JSON object per log line, for log shippers:
//   {"ts":"2026-12-01T11:12:04.123Z","level":"info","logger":"fleetlog","msg":"..."}
// Thread-safety: call at start-up, before other threads log.
#pragma once

namespace fleetlog {

// Switches the default logger to JSON lines (true) or leaves it as it is (false).
void UseJsonLogs(bool json);

}  // namespace fleetlog
