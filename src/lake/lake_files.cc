#include "lake/lake_files.h"

#include <map>
#include <mutex>

namespace fleetlog {
namespace {

std::mutex registry_mutex;
std::map<std::string, LakeFileResolver*>& Registry() {
  static auto* registry = new std::map<std::string, LakeFileResolver*>();  // never destroyed
  return *registry;
}

std::string Trimmed(std::string root) {
  while (root.size() > 1 && root.ends_with('/')) root.pop_back();
  return root;
}

LakeFileResolver* Find(const std::string& lake_root) {
  std::lock_guard lock(registry_mutex);
  auto it = Registry().find(Trimmed(lake_root));
  return it == Registry().end() ? nullptr : it->second;
}

}  // namespace

void SetLakeFileResolver(const std::string& lake_root, LakeFileResolver* resolver) {
  std::lock_guard lock(registry_mutex);
  if (resolver == nullptr) Registry().erase(Trimmed(lake_root));
  else Registry()[Trimmed(lake_root)] = resolver;
}

bool HasLakeFileResolver(const std::string& lake_root) { return Find(lake_root) != nullptr; }

Result<LocalFiles> ResolveLakeFiles(const std::string& lake_root, Env& env,
                                    const std::vector<const CommittedFile*>& files) {
  if (LakeFileResolver* resolver = Find(lake_root)) return resolver->Resolve(files);
  LocalFiles local;
  local.root = env.LocalPath(Trimmed(lake_root));
  if (files.empty()) return local;
  if (local.root.empty())
    return Internal("the lake {} has no local files and no file cache to read them through", lake_root);
  // A file's reader name (LakeLayout::ReaderDir), which outlives its retirement from the
  // table folder; a file published before reader names existed has only its table name.
  for (const auto* f : files) {
    const std::string reader = LakeLayout::ReaderDir() + "/" + f->path;
    ASSIGN_OR_RETURN(const bool linked, env.FileExists(local.root + "/" + reader));
    local.relative.push_back(linked ? reader : f->path);
  }
  return local;
}

Result<LocalFiles> ResolveLakeFiles(const LakeLayout& lake, const std::vector<CommittedFile>& files) {
  std::vector<const CommittedFile*> pointers;
  pointers.reserve(files.size());
  for (const auto& f : files) pointers.push_back(&f);
  return ResolveLakeFiles(lake.root(), lake.env(), pointers);
}

std::vector<std::string> LocalLakeDirs(const LakeLayout& lake) {
  const std::string local_root = lake.env().LocalPath(lake.root());
  if (!local_root.empty()) return {local_root + "/"};
  std::vector<std::string> dirs;
  for (const std::string& dir : {LakeLayout::StagingDir(), LakeLayout::TmpDir()}) {
    const std::string local = lake.env().LocalPath(lake.Abs(dir));
    if (!local.empty()) dirs.push_back(local + "/");
  }
  if (LakeFileResolver* resolver = Find(lake.root())) dirs.push_back(resolver->root() + "/");
  return dirs;
}

}  // namespace fleetlog
