#pragma once
// A wait word: one thread sleeps until another changes a 32-bit word, through the futex
// syscall directly. std::atomic::wait (libstdc++ 12) spins first, with sched_yield: with 64
// writers waiting for their group commit on a loaded machine that was 60% of the server's
// context switches (bench/README.md, "Concurrency"); and its notify makes a syscall whenever
// any thread waits on a word that hashes alike. Here the waiter marks the word kSleeping
// before it sleeps, and a wake makes the syscall only when it finds that mark.
//
//   waiter:  for (;;) { v = w.load(); if (v is final) break; wait_word_change(w, v); }
//   waker:   set_word(w, new_value)   // new_value != kSleeping
//
// Thread-safety: any number of setters, one waiter per word. The word must outlive set_word().

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace freshet {

inline constexpr uint32_t kWordSleeping = 0xffffffffu;

// Sleeps until the word is no longer `seen` (returns at once when it is not now; may return
// spuriously: the caller loads again). REQUIRES: seen != kWordSleeping.
inline void wait_word_change(std::atomic<uint32_t>& word, uint32_t seen) {
  uint32_t v = seen;
  if (!word.compare_exchange_strong(v, kWordSleeping, std::memory_order_acquire)) return;
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, kWordSleeping, nullptr, nullptr, 0);
  // Back from sleep with the mark still there (a spurious wake-up): put `seen` back, so that
  // the caller's next load sees it unchanged and sleeps again.
  v = kWordSleeping;
  word.compare_exchange_strong(v, seen, std::memory_order_acquire);
}

// Wakes the word's waiter: for a caller that set the word itself (exchange) and found
// kWordSleeping there, and wakes later (after letting go of a lock).
inline void wake_word(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// Sets the word (release) and wakes its waiter if it sleeps.
inline void set_word(std::atomic<uint32_t>& word, uint32_t value) {
  if (word.exchange(value, std::memory_order_acq_rel) == kWordSleeping) wake_word(word);
}

}  // namespace freshet
