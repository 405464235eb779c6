// The entry point of libfleetlog-client.so, which the executable (src/main.cc) loads for a
// command line that may be `query --server`. Returns the exit code, or -1 when the command
// line is not one the client takes (the executable then hands it to the engine). The only
// symbol the library exports.
#include "client/remote_query.h"

extern "C" __attribute__((visibility("default"))) int fleetlog_client_main(int argc, char** argv) {
  return fleetlog::client::QueryOnServerIfAsked(argc, argv).value_or(-1);
}
