// CRC32C: a hardware path (SSE4.2 crc32, 8 bytes per instruction) picked at run time, and a slice-by-8 table
// path for CPUs without it. The hardware function is compiled with a target attribute instead of -msse4.2 so
// the rest of the addon still runs on any x86-64.
#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>
#define FJORD_CRC32C_X86 1
#endif

namespace fjord {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

struct Tables {
  uint32_t t[8][256];
};

// t[k][b] is the CRC register after feeding byte b followed by k zero bytes: that lets eight input bytes be
// folded with eight independent lookups.
constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ kPolynomial : crc >> 1;
    tables.t[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; b++) {
    for (int k = 1; k < 8; k++) {
      const uint32_t prev = tables.t[k - 1][b];
      tables.t[k][b] = (prev >> 8) ^ tables.t[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

// Loads are assembled from bytes so the table path is endian-neutral; compilers turn this into one load.
inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint32_t UpdateTable(uint32_t crc, const uint8_t* p, size_t n) {
  const auto& t = kTables.t;
  while (n >= 8) {
    const uint32_t lo = LoadLe32(p) ^ crc;
    const uint32_t hi = LoadLe32(p + 4);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#ifdef FJORD_CRC32C_X86
__attribute__((target("sse4.2"))) uint32_t UpdateSse42(uint32_t crc, const uint8_t* p, size_t n) {
#if defined(__x86_64__)
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);  // unaligned-safe; compiles to a plain load
    crc64 = _mm_crc32_u64(crc64, word);
    p += 8;
    n -= 8;
  }
  crc = static_cast<uint32_t>(crc64);
#else
  while (n >= 4) {
    uint32_t word;
    std::memcpy(&word, p, sizeof word);
    crc = _mm_crc32_u32(crc, word);
    p += 4;
    n -= 4;
  }
#endif
  while (n-- > 0) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}

bool CpuHasSse42() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_SSE4_2) != 0;
}

using UpdateFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);
const bool kHardware = CpuHasSse42();
const UpdateFn kUpdate = kHardware ? UpdateSse42 : UpdateTable;
#else
const bool kHardware = false;
#endif

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t initial) {
#ifdef FJORD_CRC32C_X86
  return ~kUpdate(~initial, data, length);
#else
  return ~UpdateTable(~initial, data, length);
#endif
}

uint32_t Crc32cTable(const uint8_t* data, size_t length, uint32_t initial) {
  return ~UpdateTable(~initial, data, length);
}

bool Crc32cHardware() { return kHardware; }

}  // namespace fjord
