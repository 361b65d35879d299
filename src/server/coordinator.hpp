#pragma once
// Coordinator: the one object that owns Freshet's state: the catalog, table contents, the
// timestamp oracle. Sessions (session.hpp) are created against it and call into it from
// their connection threads; it is thread-safe.

#include <memory>
#include <string>

#include "server/session.hpp"

namespace freshet::server {

struct CoordinatorOptions {
  std::string data_dir = "freshet-data";
  std::string secret_key_file;  // "" = DATA_DIR/secret.key (Persistence::open)
  AuthConfig auth;
};

class Coordinator {
 public:
  explicit Coordinator(CoordinatorOptions options);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  const AuthConfig& auth() const { return options_.auth; }
  const CoordinatorOptions& options() const { return options_; }

  struct State;
  State& state() { return *state_; }

 private:
  CoordinatorOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace freshet::server
