#pragma once
// Transparent huge pages for big, freshly allocated buffers (src/server/README.md, "Hydration
// without fresh-page faults").
//
// The kernel here runs transparent huge pages in "madvise" mode: memory gets 2 MiB pages only
// where the process asked for them. A hydration writes hundreds of megabytes into fresh memory
// (a table's frozen copy, a projection's output, the view's arena), and with 4 KiB pages each
// page is a fault: on the benchmark machine (a paravirtualized guest) the faults' entry and exit
// took 20-30% of a pass-through view's hydration, not the zeroing of the pages. One fault per
// 2 MiB removes nearly all of that.
//
// advise_huge_pages asks for huge pages on the 2 MiB-aligned part of [p, p + bytes); call it
// right after allocating, before the memory is written (pages already touched stay small until
// khugepaged merges them). Below kHugeAdviseMin it does nothing: a smaller buffer holds at most
// one aligned 2 MiB range, and a huge page only partly used would hold memory the buffer never
// touches. Only a hint: it may fail (no THP, memory not mmapped), which changes nothing else.
// Thread-safe. Cost: one madvise system call.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace freshet {

inline constexpr size_t kHugePage = size_t{2} << 20;
inline constexpr size_t kHugeAdviseMin = size_t{4} << 20;

inline void advise_huge_pages(const void* p, size_t bytes) {
  if (p == nullptr || bytes < kHugeAdviseMin) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~uintptr_t{kHugePage - 1};
  if (end <= begin) return;
  // A failure leaves small pages: nothing else depends on it.
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace freshet
