/* edgekd-v1 reference encoder for armband firmware (see firmware_bridge/PROTOCOL.md).
 *
 * Portable C99, no dynamic memory, no dependencies: the caller owns every buffer.
 * Multi-byte fields are written little-endian byte by byte, so the host CPU's endianness does
 * not matter. Cross-checked byte for byte against the Python encoder and decoder in CI.
 */
#ifndef EDGEKD_V1_H
#define EDGEKD_V1_H

#include <stddef.h>
#include <stdint.h>

#define EDGEKD_SYNC0 0xA5u
#define EDGEKD_SYNC1 0x5Au
#define EDGEKD_VERSION 1u
#define EDGEKD_TYPE_DATA 0x01u
#define EDGEKD_TYPE_INFO 0x02u
#define EDGEKD_TYPE_COMMAND 0x10u
#define EDGEKD_FMT_INT16 1u
#define EDGEKD_FMT_INT24 2u
#define EDGEKD_CMD_START 1u
#define EDGEKD_CMD_STOP 2u
#define EDGEKD_CMD_SET_RATE 3u
#define EDGEKD_CMD_QUERY_INFO 4u
#define EDGEKD_MAX_PAYLOAD 4096u
#define EDGEKD_OVERHEAD 8u /* sync 2 + version 1 + type 1 + length 2 + CRC 2 */

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor). */
uint16_t edgekd_crc16(const uint8_t *data, size_t len);

/* Size of a data frame with n_chans x samples_per_frame samples of the given format. */
size_t edgekd_data_frame_size(uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format);

/* Encode a data frame into out (capacity cap). samples: sample-major, channel-minor,
 * n_chans * samples_per_frame values (int24 values must lie in [-2^23, 2^23 - 1]).
 * Returns the number of bytes written, or 0 if cap is too small or an argument is invalid. */
size_t edgekd_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint32_t device_time_us,
                          uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format,
                          const int32_t *samples);

/* Encode the device-info reply; name is NUL-terminated, at most 32 bytes are sent. */
size_t edgekd_encode_info(uint8_t *out, size_t cap, uint8_t n_chans, float fs_hz,
                          float scale_uv_per_lsb, uint8_t fw_major, uint8_t fw_minor,
                          uint8_t fw_patch, const char *name);

/* Find and validate one command frame in buf. On success returns the number of bytes
 * consumed (up to and including the frame) and sets *opcode and *argument (0 when absent);
 * returns 0 when no complete valid command frame is in buf yet. */
size_t edgekd_parse_command(const uint8_t *buf, size_t len, uint8_t *opcode, uint32_t *argument);

#endif
