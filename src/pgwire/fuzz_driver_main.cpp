// A small stand-in for libFuzzer's driver, so that the normal build (and `make test`) runs
// the fuzz target: every file of a seed corpus, then a bounded number of random mutations
// of them (bit flips, byte changes, insertions, deletions, splices, interesting lengths).
// Deterministic for a given --seed. Shared by every fuzz target's driver (pgwire, kafka,
// capture). Usage:
//   <target>_fuzz_driver CORPUS_DIR [--iterations N] [--seed S] [--progress P]
// --progress P prints a line to stderr every P mutations (for long runs that are polled, and
// that may be stopped: the last line says how many ran clean), with the peak RSS, and names
// every input after which the peak grew by 64 MB or more (the first 160 bytes of it).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sys/resource.h>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Under ASan (make debug) the sanitizer's death callback writes the input that failed to
// ./crash-<driver>-<seed> (or $FUZZ_CRASH_DIR), so that it can become a regression seed in the
// corpus (run with ASAN_OPTIONS=handle_abort=1 to catch aborts too). GCC's UBSan exits without
// calling it: its report's stack names the decoder, and the seed is written by hand. Weak: the
// release build links without the sanitizer runtime.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

const std::string* g_current = nullptr;
std::string g_crash_path;

void write_crash_input() {
  if (g_current == nullptr || g_crash_path.empty()) return;
  if (FILE* f = std::fopen(g_crash_path.c_str(), "wb")) {
    std::fwrite(g_current->data(), 1, g_current->size(), f);
    std::fclose(f);
    std::fprintf(stderr, "fuzz driver: the failing input (%zu bytes) is in %s\n", g_current->size(), g_crash_path.c_str());
  }
}

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

bool g_watch_rss = false;
long g_peak_rss_mb = 0;

void run(const std::string& s) {
  g_current = &s;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  g_current = nullptr;
  if (!g_watch_rss) return;
  const long now = peak_rss_mb();
  if (now >= g_peak_rss_mb + 64) {
    std::string shown;
    for (char c : s.substr(0, 160)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    std::fprintf(stderr, "peak RSS %ld -> %ld MB after a %zu-byte input: %s\n", g_peak_rss_mb, now, s.size(), shown.c_str());
    g_peak_rss_mb = now;
  }
}

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // set a byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 2:  // insert bytes
        s.insert(pick(s.size() + 1), std::string(1 + pick(8), static_cast<char>(rng())));
        break;
      case 3:  // delete a range
        if (!s.empty()) {
          size_t at = pick(s.size());
          s.erase(at, 1 + pick(s.size() - at));
        }
        break;
      case 4: {  // splice with another seed
        const std::string& o = corpus[pick(corpus.size())];
        s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size() + 1));
        break;
      }
      case 5: {  // an interesting 32-bit value (lengths, counts) at a random offset
        static const uint32_t kValues[] = {0, 1, 3, 4, 5, 8, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000};
        uint32_t v = kValues[pick(std::size(kValues))];
        if (s.size() >= 4) {
          size_t at = pick(s.size() - 3);
          for (int i = 0; i < 4; ++i) s[at + static_cast<size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
        }
        break;
      }
      case 6: {  // an interesting 16-bit value
        static const uint16_t kValues[] = {0, 1, 0x7fff, 0x8000, 0xffff, 0xc000, 0x4000, 0xd000};
        uint16_t v = kValues[pick(std::size(kValues))];
        if (s.size() >= 2) {
          size_t at = pick(s.size() - 1);
          s[at] = static_cast<char>(v >> 8);
          s[at + 1] = static_cast<char>(v);
        }
        break;
      }
    }
  }
  if (s.size() > (1u << 16)) s.resize(1u << 16);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--iterations N] [--seed S]\n", argv[0]);
    return 2;
  }
  long iterations = 10000;
  long progress = 0;
  uint64_t seed = 1;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--progress") == 0 && i + 1 < argc) {
      progress = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (__sanitizer_set_death_callback != nullptr) {
    const char* dir = std::getenv("FUZZ_CRASH_DIR");
    g_crash_path = std::string(dir != nullptr ? dir : ".") + "/crash-" +
                   std::filesystem::path(argv[0]).filename().string() + "-" + std::to_string(seed);
    __sanitizer_set_death_callback(write_crash_input);
  }
  std::vector<std::string> corpus;
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    if (e.is_regular_file()) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus: %s\n", argv[1]);
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  g_watch_rss = progress > 0;
  g_peak_rss_mb = peak_rss_mb();
  for (const auto& s : corpus) run(s);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; ++i) {
    run(mutate(corpus[static_cast<size_t>(rng() % corpus.size())], corpus, rng));
    if (progress > 0 && (i + 1) % progress == 0) {
      const auto elapsed_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "%s: %zu seeds, %ld mutations so far, no crash (%lld s, peak RSS %ld MB)\n", argv[0], corpus.size(),
                   i + 1, static_cast<long long>(elapsed_s), peak_rss_mb());
    }
  }
  std::printf("%s: %zu seeds, %ld mutations, no crash\n", argv[0], corpus.size(), iterations);
  return 0;
}
