// The dashboard's files: web/index.html, web/style.css, app.js (web/src bundled with its npm
// libraries by web/bundle.mjs) and editor.js (CodeMirror, which the SQL page loads when it
// opens), each with a gzip copy made at the same time, compiled into the
// binary by cmake/EmbedAssets.cmake (so the page works offline), or read from a folder while
// developing (`serve --web-dir web`).
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
  std::string content_encoding;  // "gzip" when `body` is the gzip copy; empty otherwise
};

// The asset served at URL `path` ("/" is index.html). From `web_dir` when it is not empty
// (the scripts then come from web_dir/dist, written by `node web/bundle.mjs --watch`), else embedded.
// With `accept_gzip`, the embedded gzip copy when there is one. kNotFound for any other path,
// or when the binary was built without embedded assets.
Result<Asset> FindAsset(std::string_view path, const std::string& web_dir, bool accept_gzip = false);

// The URL paths FindAsset() serves, as one regular expression ("/|/index\\.html|..."): the
// HTTP route of the dashboard, so a new asset needs only its line in assets.cc.
const std::string& AssetPathPattern();
// Whether FindAsset() serves `path` (for labels such as /metrics' routes).
bool IsAssetPath(std::string_view path);

// Whether an Accept-Encoding header value accepts gzip (a "gzip" coding without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

// True when the build embedded the dashboard.
bool HasEmbeddedAssets();

}  // namespace fleetlog
