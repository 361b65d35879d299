#pragma once
// The web console's files (console/dist: index.html, app.js, app.css), compiled into the
// freshet binary at build time (console/embed.cmake generates their definition), and their
// registration with the HTTP listener's console route (src/server/console_assets.hpp).
// With the console not built (no node or npm packages at build time) there are no files and
// GET /console/ answers 404 "console assets not built".
//
// Threads: all of it is constant data; register_console() runs once, before the HTTP
// listener starts (REQUIRES).

#include <span>
#include <string_view>

namespace freshet::console {

struct EmbeddedFile {
  std::string_view path;          // relative to dist/: "index.html", "app.js"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
};

// Every embedded file, sorted by path; empty when the console was not built.
std::span<const EmbeddedFile> embedded_files();

// The file served for `path` (the part of the URL after /console/; "" and "index.html" are
// the index), or nullptr.
const EmbeddedFile* find_file(std::string_view path);

// Hands the files to the HTTP listener (server::set_console_assets) when there are any.
void register_console();

}  // namespace freshet::console
