#include "source/source.h"

namespace fleetlog {

// A source that cannot be probed (a test double) says so; `fleetlog check` reports it.
Result<TableProbe> Source::ProbeTable(const TableSpec& spec) {
  return Error(StatusCode::kInvalidArgument, "this source cannot be probed for {}", spec.name);
}

Result<Visibility> Source::ProbeVisibility() {
  return Error(StatusCode::kInvalidArgument, "this source cannot be probed for privileges");
}

}  // namespace fleetlog
