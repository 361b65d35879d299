#include "console/assets.hpp"

#include <algorithm>

namespace freshet::console {

const EmbeddedFile* find_file(std::string_view path) {
  if (path.empty()) path = "index.html";
  auto files = embedded_files();
  auto it = std::lower_bound(files.begin(), files.end(), path, [](const EmbeddedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

}  // namespace freshet::console
