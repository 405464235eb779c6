#include "alert/alert_store.h"

#include <nlohmann/json.hpp>

#include "lake/commit.h"
#include "query/engine.h"

namespace fleetlog::alert {
namespace {

using nlohmann::json;

constexpr const char* kBookKey = "alert/book";
constexpr const char* kSilencesKey = "alert/silences";
constexpr const char* kDeliveriesKey = "alert/deliveries";

int64_t Us(Timestamp t) { return t.micros(); }
Timestamp At(const json& j, const char* key) { return Timestamp::FromMicros(j.value(key, int64_t{0})); }

json InstanceJson(const AlertInstance& i) {
  return {{"rule", i.rule}, {"labels", i.labels}, {"state", static_cast<int>(i.state)}, {"value", i.value},
          {"annotations", i.annotations}, {"active_since", Us(i.active_since)}, {"fired_at", Us(i.fired_at)},
          {"last_notified", Us(i.last_notified)}, {"last_seen", Us(i.last_seen)}};
}

AlertInstance InstanceFrom(const json& j) {
  return {.rule = j.at("rule"), .labels = j.at("labels"), .state = static_cast<InstanceState>(j.at("state").get<int>()),
          .value = j.value("value", 0.0), .annotations = j.value("annotations", std::map<std::string, std::string>{}),
          .active_since = At(j, "active_since"), .fired_at = At(j, "fired_at"), .last_notified = At(j, "last_notified"),
          .last_seen = At(j, "last_seen")};
}

template <typename T, typename F>
Result<std::vector<T>> LoadList(StateStore& state, const char* key, F from) {
  ASSIGN_OR_RETURN(std::optional<std::string> blob, state.GetValue(key));
  std::vector<T> out;
  if (!blob) return out;
  try {
    for (const json& j : json::parse(*blob)) out.push_back(from(j));
  } catch (const std::exception& e) {
    return Status(StatusCode::kCorruption, fmt::format("state store value {} is not readable: {}", key, e.what()));
  }
  return out;
}

Silence SilenceFrom(const json& j) {
  return {.id = j.at("id"), .rule = j.value("rule", ""), .matchers = j.value("matchers", LabelSet{}),
          .created_at = At(j, "created_at"), .expires_at = At(j, "expires_at"), .comment = j.value("comment", "")};
}

Delivery DeliveryFrom(const json& j) {
  return {.receiver = j.at("receiver"), .rule = j.value("rule", ""), .labels = j.value("labels", ""),
          .kind = j.value("kind", ""), .at = At(j, "at"), .attempt = j.value("attempt", 0), .sent = j.value("sent", false),
          .final = j.value("final", false), .error = j.value("error", "")};
}

TableSchema EventsSchema() {
  return {{"event_time", ColumnType::kTimestamp}, {"rule", ColumnType::kVarchar},     {"kind", ColumnType::kVarchar},
          {"severity", ColumnType::kVarchar},     {"labels", ColumnType::kVarchar},   {"value", ColumnType::kDouble},
          {"active_since", ColumnType::kTimestamp}, {"summary", ColumnType::kVarchar}, {"query", ColumnType::kVarchar},
          {"annotations", ColumnType::kVarchar},  {"silenced_by", ColumnType::kVarchar}};
}

std::string PartitionOf(const Transition& t) {
  auto it = t.labels.find("cluster");
  return it != t.labels.end() && IsValidName(it->second) ? it->second : "fleetlog";
}

}  // namespace

Result<AlertBook> LoadBook(StateStore& state) {
  ASSIGN_OR_RETURN(std::optional<std::string> blob, state.GetValue(kBookKey));
  AlertBook book;
  if (!blob) return book;
  try {
    const json j = json::parse(*blob);
    for (const json& i : j.at("instances")) book.instances.push_back(InstanceFrom(i));
    book.broken = j.value("broken", std::map<std::string, std::string>{});
    book.evaluated_at = At(j, "evaluated_at");
  } catch (const std::exception& e) {
    return Status(StatusCode::kCorruption, fmt::format("state store value {} is not readable: {}", kBookKey, e.what()));
  }
  return book;
}

Status SaveBook(StateStore& state, const AlertBook& book) {
  json instances = json::array();
  for (const auto& i : book.instances) instances.push_back(InstanceJson(i));
  json j = {{"instances", instances}, {"broken", book.broken}, {"evaluated_at", Us(book.evaluated_at)}};
  return state.PutValue(kBookKey, j.dump());
}

Result<std::vector<Silence>> LoadSilences(StateStore& state) { return LoadList<Silence>(state, kSilencesKey, SilenceFrom); }

Status SaveSilences(StateStore& state, const std::vector<Silence>& silences) {
  json out = json::array();
  for (const auto& s : silences)
    out.push_back({{"id", s.id}, {"rule", s.rule}, {"matchers", s.matchers}, {"created_at", Us(s.created_at)},
                   {"expires_at", Us(s.expires_at)}, {"comment", s.comment}});
  return state.PutValue(kSilencesKey, out.dump());
}

Result<std::vector<Delivery>> LoadDeliveries(StateStore& state) {
  return LoadList<Delivery>(state, kDeliveriesKey, DeliveryFrom);
}

Status AppendDelivery(StateStore& state, const Delivery& d) {
  auto list = LoadDeliveries(state);
  std::vector<Delivery> all = list.ok() ? std::move(list).value() : std::vector<Delivery>();
  all.push_back(d);
  if (all.size() > kDeliveriesKept) all.erase(all.begin(), all.end() - kDeliveriesKept);
  json out = json::array();
  for (const auto& x : all)
    out.push_back({{"receiver", x.receiver}, {"rule", x.rule}, {"labels", x.labels}, {"kind", x.kind}, {"at", Us(x.at)},
                   {"attempt", x.attempt}, {"sent", x.sent}, {"final", x.final}, {"error", x.error}});
  return state.PutValue(kDeliveriesKey, out.dump());
}

Status RecordTransitions(LakeSession& session, const std::vector<Transition>& transitions) {
  std::map<std::string, std::vector<const Transition*>> by_cluster;
  for (const auto& t : transitions) by_cluster[PartitionOf(t)].push_back(&t);
  const TableSchema schema = EventsSchema();
  for (const auto& [cluster, list] : by_cluster) {
    RowBatch batch(schema);
    for (const Transition* t : list) {
      size_t c = 0;
      batch.column(c++).AppendInt(t->at.micros());
      batch.column(c++).AppendString(t->rule);
      batch.column(c++).AppendString(TransitionKindName(t->kind));
      batch.column(c++).AppendString(t->severity);
      batch.column(c++).AppendString(LabelsText(t->labels));
      batch.column(c++).AppendDouble(t->value);
      batch.column(c++).AppendInt(t->active_since.micros());
      batch.column(c++).AppendString(t->summary);
      batch.column(c++).AppendString(t->query);
      batch.column(c++).AppendString(json(t->annotations).dump());
      batch.column(c++).AppendString(t->silenced_by);
    }
    RunRecord run{.cluster = cluster, .table = kAlertEventsTable, .started_at = session.clock().Now(), .kind = "alert"};
    // Events are new by construction: no committed file can hold them.
    ASSIGN_OR_RETURN(auto window, session.writer().BeginWindow(kAlertEventsTable, cluster, schema, "event_time",
                                                               {.key_columns = {"event_time", "rule", "kind", "labels"}}));
    RETURN_IF_ERROR(window->Append(batch));
    ASSIGN_OR_RETURN(StageResult staged, window->Stage());
    RETURN_IF_ERROR(RecordSchema(session.state(), kAlertEventsTable, schema));
    run.rows_read = static_cast<int64_t>(list.size());
    run.rows_written = staged.rows_written;
    run.bytes_written = staged.bytes_written;
    run.finished_at = session.clock().Now();
    RETURN_IF_ERROR(CommitAndPublish(session.state(), session.lake(), {.add = std::move(staged.files), .run = run}).status());
  }
  return Status::Ok();
}

}  // namespace fleetlog::alert
