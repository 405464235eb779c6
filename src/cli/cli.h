// The command line: one table of subcommands over the core library (see commands.h).
#pragma once

namespace fleetlog::cli {

// Parses argv, runs the command, returns the process exit code:
// 0 success, 1 a run or query failed, 2 bad usage or bad configuration.
int Main(int argc, char** argv);

}  // namespace fleetlog::cli
