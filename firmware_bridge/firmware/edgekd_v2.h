/* edgekd-v2 reference encoder for armband firmware (see firmware_bridge/PROTOCOL.md).
 *
 * Portable C99, no dynamic memory, no dependencies: the caller owns every buffer. Multi-byte
 * fields are written little-endian byte by byte, so the host CPU's endianness does not matter.
 * Every name carries the edgekd2_ / EDGEKD2_ prefix, so this header and edgekd_v1.h can be
 * included side by side. Cross-checked byte for byte against the Python codec in CI.
 *
 * What v2 adds to v1: a CRC-32 (the zlib/Ethernet one) instead of CRC-16, 32-bit sequence
 * numbers, a DECISION frame for a device that classifies on board, an END frame for a device
 * that has nothing more to send, and a name-length byte in the INFO frame so fields can be
 * appended. Hosts skip frame types they do not know, and ignore payload bytes after the fields
 * they know: new fields are only ever appended.
 */
#ifndef EDGEKD_V2_H
#define EDGEKD_V2_H

#include <stddef.h>
#include <stdint.h>

#define EDGEKD2_SYNC0 0xA5u
#define EDGEKD2_SYNC1 0x5Au
#define EDGEKD2_VERSION 2u
#define EDGEKD2_TYPE_DATA 0x01u
#define EDGEKD2_TYPE_INFO 0x02u
#define EDGEKD2_TYPE_DECISION 0x03u
#define EDGEKD2_TYPE_END 0x04u
#define EDGEKD2_TYPE_COMMAND 0x10u
#define EDGEKD2_FMT_INT16 1u
#define EDGEKD2_FMT_INT24 2u
#define EDGEKD2_CMD_START 1u
#define EDGEKD2_CMD_STOP 2u
#define EDGEKD2_CMD_SET_RATE 3u
#define EDGEKD2_CMD_QUERY_INFO 4u
#define EDGEKD2_NO_CLASS 0xFFu /* class index of a rejected window */
#define EDGEKD2_MAX_PAYLOAD 4096u
#define EDGEKD2_OVERHEAD 10u /* sync 2 + version 1 + type 1 + length 2 + CRC 4 */
#define EDGEKD2_DECISION_SIZE(n_probs) (EDGEKD2_OVERHEAD + 14u + 4u * (size_t)(n_probs))

/* CRC-32 as zlib.crc32 computes it: reflected polynomial 0xEDB88320, init 0xFFFFFFFF, final
 * xor 0xFFFFFFFF (bitwise here; an MCU's CRC unit can do the same). */
uint32_t edgekd2_crc32(const uint8_t *data, size_t len);

/* Size of a data frame with n_chans x samples_per_frame samples of the given format. */
size_t edgekd2_data_frame_size(uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format);

/* Encode a data frame into out (capacity cap). seq: +1 per data frame, 0 after START.
 * device_time_us: a free-running microsecond clock (not reset by START) at the first sample.
 * samples: sample-major, channel-minor, n_chans * samples_per_frame values (int24 values must
 * lie in [-2^23, 2^23 - 1]). Returns the bytes written, or 0 if cap is too small or an
 * argument is invalid. */
size_t edgekd2_encode_data(uint8_t *out, size_t cap, uint32_t seq, uint32_t device_time_us,
                           uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format,
                           const int32_t *samples);

/* Encode the device-info reply; name is NUL-terminated, at most 32 bytes are sent. */
size_t edgekd2_encode_info(uint8_t *out, size_t cap, uint8_t n_chans, float fs_hz,
                           float scale_uv_per_lsb, uint8_t fw_major, uint8_t fw_minor,
                           uint8_t fw_patch, const char *name);

/* Encode a decision made on the device (an on-board classifier calls this once per window).
 *   seq           the device's decision counter: +1 per decision, 0 after START (the host
 *                 counts missing decisions from it);
 *   sample_index  index of the last sample of the window decided on, counted from START
 *                 (the first sample after START is 0; the host places it on its sample axis);
 *   class_index   the class decided, or EDGEKD2_NO_CLASS when the window was rejected;
 *   confidence    in [0, 1] (e.g. the winning class's probability);
 *   probs         n_probs class probabilities, or NULL with n_probs = 0 to send none.
 * Needs cap >= EDGEKD2_DECISION_SIZE(n_probs). Returns the bytes written, or 0 if cap is too
 * small or an argument is invalid (confidence outside [0, 1], class_index >= n_probs when
 * probabilities are sent). */
size_t edgekd2_encode_decision(uint8_t *out, size_t cap, uint32_t seq, uint32_t sample_index,
                               uint8_t class_index, float confidence, const float *probs,
                               uint8_t n_probs);

/* Encode the end-of-stream frame: the device has nothing more to send (a finite source). */
size_t edgekd2_encode_end(uint8_t *out, size_t cap);

/* Find and validate one command frame in buf. On success returns the number of bytes
 * consumed (up to and including the frame) and sets *opcode and *argument (0 when absent);
 * returns 0 when no complete valid command frame is in buf yet. */
size_t edgekd2_parse_command(const uint8_t *buf, size_t len, uint8_t *opcode, uint32_t *argument);

#endif
