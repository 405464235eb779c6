// The entry point of libfleetlog.so, the engine that the executable (src/main.cc) loads for
// every command it does not answer itself. The only symbol the library exports.
#include "cli/cli.h"

extern "C" __attribute__((visibility("default"))) int fleetlog_engine_main(int argc, char** argv) {
  return fleetlog::cli::Main(argc, argv);
}
