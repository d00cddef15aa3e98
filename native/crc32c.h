// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) with the usual pre- and post-inversion, so that
// Crc32c(b, n2, Crc32c(a, n1, 0)) == Crc32c(a ++ b, n1 + n2, 0). Kafka's RecordBatch v2 checksum.
#ifndef FJORD_NATIVE_CRC32C_H_
#define FJORD_NATIVE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace fjord {

// Uses the SSE4.2 crc32 instruction when cpuid reports it (checked once, at load), else the table path.
uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t initial);

// Always the portable slice-by-8 table path: lets tests check it on machines that have SSE4.2.
uint32_t Crc32cTable(const uint8_t* data, size_t length, uint32_t initial);

// True when Crc32c uses the hardware instruction.
bool Crc32cHardware();

}  // namespace fjord

#endif  // FJORD_NATIVE_CRC32C_H_
