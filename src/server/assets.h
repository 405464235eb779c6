// The dashboard's files: web/index.html, web/app.js, web/style.css and chart.js's UMD build,
// compiled into the binary by cmake/EmbedAssets.cmake (so the page works offline), or read
// from a folder while developing (`serve --web-dir web`).
// Thread-safety: embedded assets are immutable; FindAsset() is safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fleetlog {

struct Asset {
  std::string content_type;
  std::string body;
};

// The asset served at URL `path` ("/" is index.html). From `web_dir` when it is not empty
// (app.js then comes from web_dir/dist, written by `node web/bundle.mjs --watch`), else embedded.
// kNotFound for any other path, or when the binary was built without embedded assets.
Result<Asset> FindAsset(std::string_view path, const std::string& web_dir);

// True when the build embedded the dashboard.
bool HasEmbeddedAssets();

}  // namespace fleetlog
