// The fleetlog executable. It is small on purpose and links nothing but the C library: it
// loads one of two libraries and hands over argv.
//   - libfleetlog-client.so (client/remote_query.h) for `query --server URL` (or with
//     $FLEETLOG_SERVER): the statement goes to a fleetlog server, and no DuckDB is loaded.
//   - libfleetlog.so, the engine (every module, DuckDB behind it), for everything else,
//     including any query command line the client does not take as its own.
// Binding DuckDB's library costs a process about 20 ms, which a query answered by a server
// need not pay. The executable itself stays free of libraries because the engine's symbols
// are looked up through every library loaded before it: a short list keeps that cheap.
// The libraries are opened by path: beside this binary (a build tree), else in
// ../lib/fleetlog (installed). No search path is involved.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace {

using Entry = int (*)(int, char**);

Entry Load(const char* library, const char* symbol) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "fleetlog: cannot find its own folder (/proc/self/exe)\n");
    return nullptr;
  }
  self[n] = '\0';
  *std::strrchr(self, '/') = '\0';  // the link names an absolute path
  char path[PATH_MAX + 64];
  const char* error = "";
  for (const char* folder : {"", "/../lib/fleetlog"}) {
    std::snprintf(path, sizeof path, "%s%s/%s", self, folder, library);
    if (void* handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL)) {
      if (void* entry = dlsym(handle, symbol)) return reinterpret_cast<Entry>(entry);
      error = dlerror();
      break;
    }
    error = dlerror();
    if (access(path, F_OK) == 0) break;  // there, but it would not load: say why
  }
  std::fprintf(stderr, "fleetlog: cannot load %s: %s\n", library, error);
  return nullptr;
}

// A command line that may be a query for a server: "query" and a server, by flag or from
// the environment. The client's own parser decides; it declines anything it does not take.
bool MayBeQueryOnServer(int argc, char** argv) {
  bool query = false, server = false;
  for (int i = 1; i < argc; ++i) {
    query = query || std::strcmp(argv[i], "query") == 0;
    server = server || std::strncmp(argv[i], "--server", 8) == 0;
  }
  const char* env = std::getenv("FLEETLOG_SERVER");
  return query && (server || (env != nullptr && *env != '\0'));
}

}  // namespace

int main(int argc, char** argv) {
  if (MayBeQueryOnServer(argc, argv)) {
    Entry client = Load("libfleetlog-client.so", "fleetlog_client_main");
    if (client == nullptr) return 1;
    if (const int code = client(argc, argv); code >= 0) return code;  // < 0: not the client's
  }
  Entry engine = Load("libfleetlog.so", "fleetlog_engine_main");
  return engine != nullptr ? engine(argc, argv) : 1;
}
