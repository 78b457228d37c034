#ifndef RILL_CRC32C_H
#define RILL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU has a CRC-32C instruction (SSE 4.2 on x86-64, the CRC extension on arm64).
int rill_crc32c_hardware_available(void);

/// Continues the raw (already inverted) CRC-32C state `crc` over `count` bytes with the CPU instruction.
/// Call only when rill_crc32c_hardware_available() returned 1.
uint32_t rill_crc32c_hardware_update(uint32_t crc, const void *bytes, size_t count);

#endif
