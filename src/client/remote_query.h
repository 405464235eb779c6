// `fleetlog query --server URL`: a statement run by a fleetlog server (`serve`, or `run` with
// [server]) through its HTTP API, printed as a local `query` prints it.
//
// The server keeps its engine, views and file metadata warm between statements, and the
// client needs no DuckDB: this is how `fleetlog query` answers in milliseconds, and how people
// without the lake on their machine ask it (as psql asks a database server). The flow is the
// API's: POST /v1/statements, then the first page with a long poll (result?wait=), then the
// next pages; CSV is streamed as the server writes it.
//
// Differences from a local query, all from the API's JSON: a NaN or infinite double prints
// empty in a table and null in JSON (CSV keeps the text).
// Thread-safety: one call at a time per process (it handles SIGINT while it runs).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "client/http_connection.h"
#include "core/grid.h"
#include "core/status.h"

namespace fleetlog::client {

struct RemoteQueryOptions {
  std::string server;  // http://host:port or https://host[:port][/prefix]
  std::string token;   // sent as a bearer token when not empty ([[server.token]])
  std::string sql;
  OutputFormat format = OutputFormat::kCsv;
  FormatOptions format_options;
  HttpConnector connect = ConnectPlain;  // http:// only; ConnectAny (curl_connection.h) for https:// too
};

// Fails with kInvalidArgument unless `url` is an http:// or https:// URL.
Status CheckServerUrl(std::string_view url);

// Runs options.sql on the server and writes the result to `out`. Fails with
// kInvalidArgument for a bad URL (CheckServerUrl) or a statement the server refuses or fails
// (its message),
// kUnavailable when the server cannot be reached or answers outside the protocol,
// kPermissionDenied for a missing or refused token, and kCancelled after Ctrl-C (the
// statement is cancelled on the server too).
Status RunRemoteQuery(const RemoteQueryOptions& options, std::ostream& out);

// `fleetlog query --server` as a command (`sql` "-" reads it from stdin): prints the result
// to stdout, or the failure to
// stderr as "fleetlog: query failed: ..." (a bad URL: "fleetlog: ..."), and returns the exit
// code: 0, 1 when the statement or the server fails, 2 for a bad URL, 130 after Ctrl-C.
// The token comes from $FLEETLOG_TOKEN.
int QueryOnServer(const std::string& server, std::string sql, OutputFormat format, const FormatOptions& format_options,
                  const HttpConnector& connect);

// The executable's quick way (src/main.cc): `fleetlog [--config C] query [--format F] [--crlf]
// [--server URL] SQL`, with --server or $FLEETLOG_SERVER, runs here without loading the engine
// (DuckDB and every module). ParseQuickQuery accepts exactly such command lines; anything else
// (--help, other flags, other commands, a bad format, an https:// server: this library does
// not link TLS) is nullopt, and the engine's full parser then handles it: this is a shortcut
// for the common case, never a second grammar.
struct QuickQuery {
  std::string server, sql;
  std::optional<std::string> format;  // as given; nullopt: table on a terminal, else CSV
  bool crlf = false;
};
std::optional<QuickQuery> ParseQuickQuery(int argc, const char* const* argv, const char* env_server);
// ParseQuickQuery with $FLEETLOG_SERVER, then QueryOnServer over ConnectPlain: the exit
// code, or nullopt.
std::optional<int> QueryOnServerIfAsked(int argc, const char* const* argv);

// Numeric DuckDB type names, as the API names a result's columns: a table aligns them right.
bool IsNumericTypeName(std::string_view type);

}  // namespace fleetlog::client
