// The console's routes on the HTTP listener (src/server/console_assets.hpp). Its files are
// served without authentication: they are the same compiled-in code for everyone and hold no
// data; the page then asks for a user and password (its login form) as soon as /api/sql answers
// 401, and sends them as HTTP Basic auth with every request. Without that, a browser would
// meet the listener's 401 on the page itself and show its own password dialog instead.
#include <vector>

#include "console/assets.hpp"
#include "server/console_assets.hpp"

namespace freshet::console {
namespace {

const server::StaticAsset* lookup(std::string_view path) {
  // One StaticAsset per embedded file, in the same order.
  static const std::vector<server::StaticAsset> assets = [] {
    std::vector<server::StaticAsset> v;
    for (const auto& f : embedded_files()) v.push_back({f.content_type, f.body});
    return v;
  }();
  const EmbeddedFile* f = find_file(path);
  return f ? &assets[static_cast<size_t>(f - embedded_files().data())] : nullptr;
}

std::optional<kafka::HttpResponse> serve(const kafka::HttpRequest& request, kafka::HttpExchange&) {
  constexpr std::string_view kPrefix = "/console/";
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  const std::string path = kafka::url_decode(request.path);
  if (path.rfind(kPrefix, 0) != 0) return std::nullopt;  // "/" and "/console" redirect after auth
  const EmbeddedFile* f = find_file(std::string_view(path).substr(kPrefix.size()));
  if (!f) return std::nullopt;  // the listener's 404
  kafka::HttpResponse r{200, std::string(f->content_type), std::string(f->body), {}};
  // index.html names app.js and app.css with a version (their hash): those may be cached.
  r.headers.emplace_back("Cache-Control", f->path == "index.html" ? "no-cache" : "max-age=86400");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

void register_console() {
  if (embedded_files().empty()) return;  // the listener answers 404 "console assets not built"
  server::set_console_assets(&lookup);
  server::set_console_handler(&serve);
}

}  // namespace freshet::console
