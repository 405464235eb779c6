#include "integration/export_fixture.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>

#include "exporter/writer.h"
#include "query/engine.h"
#include "source/table_spec.h"

namespace fleetlog::integration {

void ExportFixture::SetUp() {
  if (!PgHarness::Available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
  auto pg = PgHarness::Shared();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  pg_ = *pg;
  auto db = pg_->CreateUniqueDatabase(::testing::UnitTest::GetInstance()->current_test_info()->name());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = *db;
  ASSERT_TRUE(pg_->CreateRedshiftFixture(db_).ok());
  setenv(kPasswordEnv, PgHarness::kPassword, 1);
}

std::string ExportFixture::ConfigText(const std::vector<std::string>& dbs, const std::string& extra,
                                      const std::string& export_section) const {
  std::string text = fmt::format(
      "[lake]\npath = \"{}/lake\"\n[state]\npath = \"{}/state.db\"\n[secrets]\nkey_file = \"{}/key\"\n"
      "[export]\nsettle = \"1s\"\nlookback = \"15m\"\n{}{}{}\n", dir_.path(), dir_.path(), dir_.path(),
      export_section.find("initial_backfill") == std::string::npos ? "initial_backfill = \"7d\"\n" : "",
      export_section.find("statement_timeout") == std::string::npos ? "statement_timeout = \"30s\"\n" : "",
      export_section);
  for (size_t i = 0; i < dbs.size(); ++i)
    text += fmt::format("[[cluster]]\nname = \"c{}\"\nkind = \"redshift\"\ndsn = \"{}\"\npassword_env = \"{}\"\n", i,
                        pg_->Dsn(dbs[i]), kPasswordEnv);
  return text + extra;
}

Config ExportFixture::MakeConfig(const std::string& text) const {
  const std::string path = dir_.Sub("fleetlog.toml");
  EXPECT_TRUE(test::WriteFile(path, text));
  auto config = LoadConfig(path);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : Config{};
}

CycleReport ExportFixture::Cycle(const Config& config, const CycleOptions& options) const {
  auto session = LakeSession::Open(config);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return {};
  return RunCycle((*session)->export_context(), (*session)->source_factory(), options);
}

void ExportFixture::InsertQueries(const std::string& db, int first_query, int count, const std::string& end_sql,
                                  const std::string& start_sql) const {
  const std::string series = fmt::format("generate_series({}, {}) AS q", first_query, first_query + count - 1);
  const std::string sql = fmt::format(R"sql(
    CREATE TEMP TABLE w AS SELECT q, {0} AS e, {1} AS s FROM {2};
    INSERT INTO stl_query SELECT 100 + q % 3, q, 'label ' || q, q * 10, 4000 + q, 'dev',
      'select * from sales where id = ' || q || ' -- é ü', s, e, CASE WHEN q % 17 = 0 THEN 1 ELSE 0 END, 0,
      CASE WHEN q % 5 = 0 THEN NULL ELSE 0 END FROM w;
    INSERT INTO stl_querytext SELECT 100, q * 10, 4000 + q, q, seq,
      rpad('select * from sales\n where id = ' || q, 200 - seq) FROM w, generate_series(0, 1) AS seq;
    INSERT INTO stl_explain SELECT 100, q, n, n - 1, 'XN Seq Scan on sales  (cost=0.00..' || n || ')', 'Filter: id = ' || q
      FROM w, generate_series(1, 3) AS n;
    INSERT INTO stl_wlm_query SELECT 100, q * 10, q, q, 6 + q % 3, 1, s, s, s + interval '2 seconds', 2000000,
      s + interval '2 seconds', e, 1000000, e, 'Completed', 1048576, 'Normal', 'etl queue' FROM w;
    INSERT INTO stl_scan SELECT 100, q, sl, 0, 1, s, e, 0, 1000 * sl, 65536, 1, 2, 100200, 'f', 'f', 1000, 1000,
      'public.sales', 'f', 0, 0 FROM w, generate_series(0, 3) AS sl;
    INSERT INTO stl_alert_event_log SELECT 100, q, 0, 1, 2, 4000 + q, q * 10,
      'Nested Loop Join in the query plan', 'Review the join predicates to avoid Cartesian products', s FROM w WHERE q % 4 = 0;
    INSERT INTO stl_ddltext SELECT 100, q * 10, 4000 + q, 'default', s, e, seq, 'create table t' || q || ' (a int) ' || seq
      FROM w, generate_series(0, 1) AS seq WHERE q % 6 = 0;
    INSERT INTO stl_utilitytext SELECT 100, q * 10, 4000 + q, 'default', s, e, 0, 'vacuum t' || q FROM w WHERE q % 9 = 0;
    DROP TABLE w;)sql",
                                      end_sql, start_sql, series);
  ASSERT_TRUE(pg_->Exec(db, sql).ok()) << pg_->Exec(db, "select 1").ToString();
}

std::string ExportFixture::InsertLongText(const std::string& db, int query, int pieces) const {
  // Each piece is exactly 200 characters; some end in blanks (content, not padding) and some
  // hold the two characters \n that Redshift stores for a newline.
  std::string full_stored;
  std::string sql = fmt::format(
      "INSERT INTO stl_query VALUES (100, {0}, 'long', {0}, 1, 'dev', 'select long', getdate() - interval '40 seconds', "
      "getdate() - interval '30 seconds', 0, 0, 0);\n",
      query);
  for (int i = 0; i < pieces; ++i) {
    std::string piece = fmt::format("select col_{:04d} from t\\n where x = 'ü' ", i);
    piece.resize(201, i % 2 == 0 ? ' ' : 'x');  // 200 characters: 'ü' takes two bytes
    if (i == pieces - 1) piece = "end";
    full_stored += piece;
    std::string escaped;
    for (char c : piece) escaped += (c == '\'') ? std::string("''") : std::string(1, c);
    sql += fmt::format("INSERT INTO stl_querytext VALUES (100, {}, 1, {}, {}, '{}');\n", query, query, i, escaped);
  }
  EXPECT_TRUE(pg_->Exec(db, sql).ok());
  std::string decoded;
  for (size_t i = 0; i < full_stored.size(); ++i) {
    if (full_stored.compare(i, 2, "\\n") == 0) {
      decoded += '\n';
      ++i;
    } else {
      decoded += full_stored[i];
    }
  }
  return decoded;
}

std::vector<std::string> ExportFixture::SourceRows(const std::string& db, const std::string& table) const {
  const TableSpec* spec = FindRedshiftTable(table);
  std::string cols;
  for (const auto& c : spec->columns) {
    // concat() prints a char(n) value with its padding (a cast to text would strip it).
    const bool padded = std::find(spec->keep_padding.begin(), spec->keep_padding.end(), c.name) != spec->keep_padding.end();
    std::string expr = fmt::format("({})::text", c.name);
    if (c.type == ColumnType::kTimestamp) expr = fmt::format("(extract(epoch from {}) * 1000000)::bigint::text", c.name);
    else if (c.type == ColumnType::kVarchar) expr = padded ? fmt::format("concat({})", c.name) : fmt::format("rtrim({})", c.name);
    cols += (cols.empty() ? "" : ", ") + fmt::format("CASE WHEN {} IS NULL THEN '<null>' ELSE {} END", c.name, expr);
  }
  const std::string conninfo = pg_->Dsn(db) + " password='" + PgHarness::kPassword + "'";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::vector<std::string> rows;
  PGresult* res = PQexec(conn, fmt::format("SELECT {} FROM {}", cols, table).c_str());
  EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  for (int r = 0; r < PQntuples(res); ++r) {
    std::string line;
    for (int c = 0; c < PQnfields(res); ++c) line += std::string(c ? "|" : "") + PQgetvalue(res, r, c);
    rows.push_back(line);
  }
  PQclear(res);
  PQfinish(conn);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> ExportFixture::LakeRows(const Config& config, const std::string& cluster,
                                                 const std::string& table) const {
  const TableSpec* spec = FindRedshiftTable(table);
  std::string cols;
  for (const auto& c : spec->columns) {
    const std::string expr = c.type == ColumnType::kTimestamp ? fmt::format("epoch_us({})", c.name) : c.name;
    cols += (cols.empty() ? "" : ", ") + fmt::format("coalesce(CAST({} AS VARCHAR), '<null>')", expr);
  }
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  if (!state.ok()) return {};
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  std::vector<std::string> rows;
  const bool exists = std::any_of((*engine)->tables().begin(), (*engine)->tables().end(),
                                  [&](const LakeTable& t) { return t.name == table; });
  if (!exists) return rows;
  auto result = (*engine)->Run(fmt::format("SELECT {} FROM {} WHERE cluster = '{}'", cols, table, cluster));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return rows;
  for (size_t r = 0; r < result->row_count(); ++r) {
    std::string line;
    for (size_t c = 0; c < result->column_count(); ++c) line += (c ? "|" : "") + result->text(c, r);
    rows.push_back(line);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

void ExportFixture::ExpectLakeEqualsSource(const Config& config, const std::string& cluster,
                                           const std::string& db) const {
  const ClusterConfig* exported = config.FindCluster(cluster);
  ASSERT_NE(exported, nullptr) << cluster;
  for (const auto& spec : TableSpecsFor(config, *exported)) {
    if (!spec.sql.empty()) continue;  // custom queries are compared by their own tests
    const auto source = SourceRows(db, spec.name);
    const auto lake = LakeRows(config, cluster, spec.name);
    EXPECT_EQ(lake.size(), source.size()) << spec.name << ": row counts differ";
    EXPECT_TRUE(lake == source) << spec.name << ": the lake differs from the source";
    if (lake != source) {
      std::vector<std::string> missing, extra;
      std::set_difference(source.begin(), source.end(), lake.begin(), lake.end(), std::back_inserter(missing));
      std::set_difference(lake.begin(), lake.end(), source.begin(), source.end(), std::back_inserter(extra));
      if (!missing.empty()) ADD_FAILURE() << spec.name << " missing in lake (" << missing.size() << "): " << missing[0];
      if (!extra.empty()) ADD_FAILURE() << spec.name << " extra in lake (" << extra.size() << "): " << extra[0];
    }
  }
}

}  // namespace fleetlog::integration
