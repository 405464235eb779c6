// FakeSource: a Source for unit tests of the export cycle. It holds rows as (table, id,
// time) events and answers Read() with those of the window, as a real source would: one
// column per key column of the table's spec (the id) and the cursor column (the time). Its
// clock is set by the test; a table can be made to fail, and every Read is recorded.
// Thread-safety: safe for concurrent use (one mutex): a cycle reads from worker threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exporter/cycle.h"
#include "source/source.h"

namespace fleetlog::test {

struct FakeRead {
  std::string cluster;
  std::string table;
  Timestamp lower, upper;
};

// The fleet's data and behaviour, shared by the FakeSources a factory makes.
class FakeFleet {
 public:
  void Add(const std::string& cluster, const std::string& table, int64_t id, Timestamp at);
  void SetNow(const std::string& cluster, Timestamp now);
  // Read() of (cluster, table) fails with kUnavailable while set.
  void FailTable(const std::string& cluster, const std::string& table, bool fail = true);
  // Read() of (cluster, table) delivers `batches` batches, then fails with kUnavailable (a
  // fetch that breaks mid-window), or with `cancel`, ends as a Cancel() arriving then does.
  void FailAfterBatches(const std::string& cluster, const std::string& table, int batches, bool cancel = false);
  // The factory fails for `cluster` (as a refused connection would).
  void FailConnect(const std::string& cluster, bool fail = true);
  std::vector<FakeRead> reads() const;
  void ClearReads();

  SourceFactory Factory();

 private:
  friend class FakeSource;
  struct Event {
    int64_t id;
    Timestamp at;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<Event>> events_;
  std::map<std::string, Timestamp> now_;
  std::set<std::pair<std::string, std::string>> failing_;
  struct BreakAfter {
    int batches;
    bool cancel;
  };
  std::map<std::pair<std::string, std::string>, BreakAfter> breaking_;
  std::set<std::string> refusing_;
  std::vector<FakeRead> reads_;
};

}  // namespace fleetlog::test
