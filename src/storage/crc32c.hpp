#pragma once
// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of every
// frame, segment header and manifest in src/storage (format: src/storage/README.md).
// Debian bookworm packages no C/C++ CRC32C library (no libcrc32c-dev; Google's crc32c is not
// packaged), so this is our own: the SSE4.2 crc32 instruction when the CPU has it (chosen once at
// run time), else a table-driven slicing-by-8 loop. Both give identical results; the tests
// check them against the RFC 3720 vectors. Thread-safe, no state.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace freshet::storage {

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a + b). Start with 0.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }
inline uint32_t crc32c(std::string_view s) { return crc32c(s.data(), s.size()); }

// For tests: the portable implementation, whatever the CPU.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n);
bool crc32c_uses_hardware();

}  // namespace freshet::storage
