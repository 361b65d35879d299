#include "storage/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>

#include "storage/io.hpp"

namespace freshet::storage {

namespace {

std::string id_dir_name(uint64_t id) {
  std::string digits = std::to_string(id);
  return std::string(20 - digits.size(), '0') + digits;
}

// "<20 digits>" -> id
std::optional<uint64_t> parse_id(std::string_view name) {
  if (name.size() != 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Store::Store(std::string data_dir, const StoreOptions& options)
    : data_dir_(std::move(data_dir)), collections_dir_(data_dir_ + "/collections"), options_(options) {}

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir, const StoreOptions& options) {
  std::unique_ptr<Store> st(new Store(data_dir, options));
  if (auto s = io::make_dir(data_dir); !s) return s;
  if (auto s = io::make_dir(st->collections_dir_); !s) return s;
  // Owner only, also for a data directory made by an older version (0755 / 0644).
  if (auto s = io::restrict_to_owner(data_dir); !s) return s;
  std::string lock_path = data_dir + "/LOCK";
  st->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (st->lock_fd_ < 0) return io::error_from_errno("open", lock_path, errno);
  if (::flock(st->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status::error("data directory " + data_dir + " is in use by another process (" + lock_path + " is locked)");

  std::vector<std::string> names;
  if (DIR* d = ::opendir(st->collections_dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  } else {
    return io::error_from_errno("opendir", st->collections_dir_, errno);
  }
  bool removed = false;
  for (const auto& n : names) {
    std::string path = st->collections_dir_ + "/" + n;
    if (ends_with(n, ".creating") || ends_with(n, ".dropped")) {
      if (auto s = io::remove_tree(path); !s) return s;
      removed = true;
      continue;
    }
    auto id = parse_id(n);
    if (!id) continue;  // not ours; left alone
    auto c = Collection::open(path, options.collection);
    if (!c) return Status::error("collection " + n + ": " + c.status().message());
    if ((*c)->id() != *id) return Status::error("collection directory " + n + " holds collection " + std::to_string((*c)->id()));
    if (!(*c)->recovery_report().clean()) st->reports_.emplace_back(*id, (*c)->recovery_report());
    st->listener_ids_[*id] = st->watch(*c);
    st->collections_.emplace(*id, std::move(*c));
  }
  if (removed) {
    if (auto s = io::fsync_dir(st->collections_dir_); !s) return s;
  }
  if (options.background_compaction) st->compactor_ = std::thread([p = st.get()] { p->compaction_loop(); });
  return st;
}

Store::~Store() {
  close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void Store::close() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  std::map<uint64_t, std::shared_ptr<Collection>> cs;
  std::map<uint64_t, Collection::ListenerId> ls;
  {
    std::lock_guard lk(mu_);
    cs = collections_;
    ls.swap(listener_ids_);
  }
  data_cv_.notify_all();
  // Remove our listeners first: they point at this Store, and a commit finishing during
  // close() would call them after the Store is gone.
  for (auto& [id, c] : cs) {
    if (auto it = ls.find(id); it != ls.end()) c->remove_listener(it->second);
    c->close();
  }
}

Collection::ListenerId Store::watch(const std::shared_ptr<Collection>& c) {
  return c->add_listener([this](const Bounds&) {
    {
      std::lock_guard lk(mu_);
      ++data_version_;
    }
    data_cv_.notify_all();
  });
}

uint64_t Store::data_version() const {
  std::lock_guard lk(mu_);
  return data_version_;
}

void Store::wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lk(mu_);
  data_cv_.wait_until(lk, deadline, [&] { return data_version_ > seen || stopping_; });
}

std::string Store::collection_dir(uint64_t id) const { return collections_dir_ + "/" + id_dir_name(id); }

Result<std::shared_ptr<Collection>> Store::create(uint64_t id, std::string_view name) {
  std::lock_guard dl(ddl_mu_);
  {
    std::lock_guard lk(mu_);
    if (stopping_) return Status::error("store is closed");
    if (collections_.count(id)) return Status::error("collection " + std::to_string(id) + " already exists");
  }
  std::string dir = collection_dir(id);
  std::string tmp = dir + ".creating";
  if (auto s = io::remove_tree(tmp); !s) return s;
  if (auto s = io::make_dir(tmp); !s) return s;
  // On a failure (a full disk) nothing half-made stays behind: a later create of the same id
  // must not find a directory in its way, and a restart must not find a collection nobody made.
  auto undo = [&](Status s, const std::string& path) -> Status {
    if (Status r = io::remove_tree(path); !r) return Status::error(s.message() + "; and " + r.message());
    return s;
  };
  if (auto s = Collection::initialize(tmp, id, name); !s) return undo(s, tmp);
  if (auto s = io::fsync_dir(tmp); !s) return undo(s, tmp);
  if (auto s = io::rename_path(tmp, dir); !s) return undo(s, tmp);
  if (auto s = io::fsync_dir(collections_dir_); !s) return undo(s, dir);
  auto c = Collection::open(dir, options_.collection);
  if (!c) return undo(c.status(), dir);
  Collection::ListenerId lid = watch(*c);  // before mu_: the listener itself takes mu_
  std::lock_guard lk(mu_);
  listener_ids_[id] = lid;
  collections_.emplace(id, *c);
  return *c;
}

std::shared_ptr<Collection> Store::get(uint64_t id) const {
  std::lock_guard lk(mu_);
  auto it = collections_.find(id);
  return it == collections_.end() ? nullptr : it->second;
}

Status Store::drop(uint64_t id) {
  std::lock_guard dl(ddl_mu_);
  std::shared_ptr<Collection> c;
  {
    std::lock_guard lk(mu_);
    auto it = collections_.find(id);
    if (it == collections_.end()) return Status::error("collection " + std::to_string(id) + " does not exist");
    c = it->second;
    collections_.erase(it);
  }
  Collection::ListenerId lid;
  {
    std::lock_guard lk(mu_);
    lid = listener_ids_[id];
    listener_ids_.erase(id);
  }
  c->remove_listener(lid);
  c->close();
  std::string dir = collection_dir(id);
  std::string dropped = dir + ".dropped";
  if (auto s = io::rename_path(dir, dropped); !s) return s;
  if (auto s = io::fsync_dir(collections_dir_); !s) return s;
  return io::remove_tree(dropped);
}

std::vector<CollectionInfo> Store::list() const {
  std::vector<std::shared_ptr<Collection>> cs;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, c] : collections_) cs.push_back(c);
  }
  std::vector<CollectionInfo> out;
  for (const auto& c : cs) out.push_back({c->id(), c->name(), c->bounds(), c->stats()});
  return out;
}

std::vector<std::pair<uint64_t, RecoveryReport>> Store::recovery_reports() const {
  std::lock_guard lk(mu_);
  return reports_;
}

size_t Store::compact_now(bool force) {
  std::vector<std::shared_ptr<Collection>> cs;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, c] : collections_) cs.push_back(c);
  }
  size_t n = 0;
  for (const auto& c : cs) {
    {
      std::lock_guard lk(mu_);
      if (stopping_) break;
    }
    CollectionStats st = c->stats();
    bool want = st.sealed_log_bytes > 0 && (force || st.sealed_log_bytes * 2 >= st.sealed_compacted_bytes);
    if (!want) continue;
    auto r = c->compact();
    if (!r) {
      std::string msg = "compaction of collection " + std::to_string(c->id()) + " (" + c->name() + "): " + r.status().message();
      std::fprintf(stderr, "freshet: %s\n", msg.c_str());
      std::lock_guard lk(mu_);
      last_compaction_error_ = msg;
      continue;
    }
    ++n;
  }
  return n;
}

std::string Store::last_compaction_error() const {
  std::lock_guard lk(mu_);
  return last_compaction_error_;
}

void Store::compaction_loop() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lk, options_.compaction_interval, [&] { return stopping_; });
    if (stopping_) break;
    lk.unlock();
    compact_now(false);
    lk.lock();
  }
}

}  // namespace freshet::storage
