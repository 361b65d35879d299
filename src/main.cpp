// The freshet executable: `freshet <command> [options]`. Commands are dispatched from
// kCommands below; add new ones (e.g. `freshet demo`) there.

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "pgwire/pg_server.hpp"
#include "server/coordinator.hpp"

namespace {

using freshet::server::AuthConfig;

// A bad command line: printed with a pointer to --help, exit status 2.
struct UsageError {
  std::string message;
};

constexpr const char* kUsage =
    "usage: freshet <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve    run the server\n"
    "\n"
    "Run 'freshet <command> --help' for the options of a command.\n";

constexpr const char* kServeUsage =
    "usage: freshet serve [options]\n"
    "\n"
    "options:\n"
    "  --data-dir DIR              where Freshet keeps its data (default: freshet-data)\n"
    "  --pg-listen HOST:PORT       PostgreSQL protocol address (default: 127.0.0.1:6875)\n"
    "  --password-file FILE        require SCRAM-SHA-256 passwords; FILE has one USER:PASSWORD\n"
    "                              per line ('#' starts a comment line)\n"
    "  --user-password USER:PASS   require passwords and give USER the password PASS\n"
    "                              (may be repeated)\n"
    "  --max-connections N         PostgreSQL connections served at once (default: 1000)\n"
    "  -h, --help                  show this help\n"
    "\n"
    "Without a password option every role is accepted without a password (trust).\n"
    "SIGTERM or SIGINT stops the server gracefully.\n";

// Reads "--name value" or "--name=value" at argv[i]; advances i past what it used.
class ArgReader {
 public:
  ArgReader(int argc, char** argv, int first) : argc_(argc), argv_(argv), i_(first) {}
  bool done() const { return i_ >= argc_; }
  std::string_view peek() const { return argv_[i_]; }
  // True when the current argument is the flag `name`; then value() gives its value.
  bool flag(std::string_view name) {
    std::string_view a = argv_[i_];
    if (a == name) {
      if (i_ + 1 >= argc_) throw UsageError{std::string(name) + " needs a value"};
      value_ = argv_[i_ + 1];
      i_ += 2;
      return true;
    }
    if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
      value_ = std::string(a.substr(name.size() + 1));
      i_ += 1;
      return true;
    }
    return false;
  }
  bool option(std::string_view name) {
    if (peek() != name) return false;
    ++i_;
    return true;
  }
  const std::string& value() const { return value_; }

 private:
  int argc_;
  char** argv_;
  int i_;
  std::string value_;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

HostPort parse_host_port(std::string_view flag, std::string_view s) {
  auto bad = [&](const std::string& why) -> UsageError {
    return UsageError{std::string(flag) + " " + std::string(s) + ": " + why + " (expected HOST:PORT)"};
  };
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s[0] == '[') {  // [::1]:6875
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') throw bad("malformed address");
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) throw bad("missing port");
    hp.host = std::string(s.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) throw bad("put an IPv6 address in brackets");
    port = s.substr(colon + 1);
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v > 65535) throw bad("invalid port");
  if (hp.host.empty()) hp.host = "0.0.0.0";
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

void add_user_password(AuthConfig& auth, std::string_view entry, const std::string& where) {
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw UsageError{where + ": expected USER:PASSWORD"};
  }
  auth.require_password = true;
  auth.passwords[std::string(entry.substr(0, colon))] = std::string(entry.substr(colon + 1));
}

void read_password_file(AuthConfig& auth, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError{"--password-file " + path + ": " + std::strerror(errno)};
  std::string line;
  int lineno = 0;
  bool any = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    add_user_password(auth, line, path + ":" + std::to_string(lineno));
    any = true;
  }
  if (!any) throw UsageError{"--password-file " + path + ": no USER:PASSWORD line"};
  auth.require_password = true;
}

// Blocks SIGINT and SIGTERM in this thread and in every thread started after (they inherit
// the mask), so that only sigwait() below sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int run_serve(int argc, char** argv, int first) {
  freshet::server::CoordinatorOptions copts;
  freshet::pgwire::PgServerOptions pgopts;
  ArgReader args(argc, argv, first);
  while (!args.done()) {
    if (args.option("-h") || args.option("--help")) {
      std::fputs(kServeUsage, stdout);
      return 0;
    } else if (args.flag("--data-dir")) {
      if (args.value().empty()) throw UsageError{"--data-dir needs a directory"};
      copts.data_dir = args.value();
    } else if (args.flag("--pg-listen")) {
      HostPort hp = parse_host_port("--pg-listen", args.value());
      pgopts.host = hp.host;
      pgopts.port = hp.port;
    } else if (args.flag("--password-file")) {
      read_password_file(copts.auth, args.value());
    } else if (args.flag("--user-password")) {
      add_user_password(copts.auth, args.value(), "--user-password");
    } else if (args.flag("--max-connections")) {
      size_t n = 0;
      const std::string& v = args.value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n == 0) {
        throw UsageError{"--max-connections " + v + ": expected a positive number"};
      }
      pgopts.max_connections = n;
    } else {
      throw UsageError{"serve: unknown option " + std::string(args.peek())};
    }
  }

  sigset_t stop_signals = block_stop_signals();
  std::optional<freshet::server::Coordinator> coordinator;
  try {
    coordinator.emplace(copts);
  } catch (const freshet::SqlError& e) {
    std::fprintf(stderr, "freshet: cannot start: %s\n", e.message().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "freshet: cannot start: %s\n", e.what());
    return 1;
  }
  freshet::pgwire::PgServer pg(*coordinator, pgopts);
  if (freshet::Status s = pg.start(); !s) {
    std::fprintf(stderr, "freshet: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "freshet: listening for PostgreSQL connections on %s\n", pg.address().c_str());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "freshet: received %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  pg.stop();
  coordinator.reset();
  std::fprintf(stderr, "freshet: stopped\n");
  return 0;
}

struct Command {
  std::string_view name;
  std::function<int(int argc, char** argv, int first)> run;
};

// Subcommands. Later: {"demo", run_demo}, ...
const Command kCommands[] = {
    {"serve", run_serve},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name != cmd) continue;
    try {
      return c.run(argc, argv, 2);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "freshet: %s\nRun 'freshet %s --help' for usage.\n", e.message.c_str(),
                   std::string(cmd).c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "freshet: unknown command '%s'\n\n%s", std::string(cmd).c_str(), kUsage);
  return 2;
}
