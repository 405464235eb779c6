#include "cli/cli.h"

int main(int argc, char** argv) { return fleetlog::cli::Main(argc, argv); }
