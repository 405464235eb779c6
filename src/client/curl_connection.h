// `query --server`'s connection through libcurl: https:// (TLS, with the system's certificate
// checks) and http://. See http_connection.h for which is used where.
// Thread-safety: as HttpConnection.
#pragma once

#include <memory>
#include <string>

#include "client/http_connection.h"

namespace fleetlog::client {

Result<std::unique_ptr<HttpConnection>> ConnectCurl(const std::string& base, const std::string& token);

// The connector of a process that links libcurl anyway (the engine): http:// by ConnectPlain,
// as libfleetlog-client.so does, and https:// by ConnectCurl.
Result<std::unique_ptr<HttpConnection>> ConnectAny(const std::string& base, const std::string& token);

}  // namespace fleetlog::client
