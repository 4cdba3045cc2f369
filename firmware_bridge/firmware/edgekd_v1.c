/* edgekd-v1 reference encoder: see edgekd_v1.h. */
#include "edgekd_v1.h"

#include <string.h>

uint16_t edgekd_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0xFFFFu;
    size_t i;
    int bit;
    for (i = 0; i < len; ++i) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static void put_f32(uint8_t *p, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits); /* IEEE-754 binary32 on every supported target */
    put_u32(p, bits);
}

/* Wrap a payload already placed at out + 6: header in front, CRC behind. */
static size_t finish_frame(uint8_t *out, uint8_t type, size_t payload_len) {
    uint16_t crc;
    out[0] = EDGEKD_SYNC0;
    out[1] = EDGEKD_SYNC1;
    out[2] = EDGEKD_VERSION;
    out[3] = type;
    put_u16(out + 4, (uint16_t)payload_len);
    crc = edgekd_crc16(out + 2, 4u + payload_len);
    put_u16(out + 6 + payload_len, crc);
    return payload_len + EDGEKD_OVERHEAD;
}

size_t edgekd_data_frame_size(uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format) {
    size_t width = sample_format == EDGEKD_FMT_INT16 ? 2u : 3u;
    return EDGEKD_OVERHEAD + 10u + (size_t)n_chans * samples_per_frame * width;
}

size_t edgekd_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint32_t device_time_us,
                          uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format,
                          const int32_t *samples) {
    size_t n = (size_t)n_chans * samples_per_frame;
    size_t total = edgekd_data_frame_size(n_chans, samples_per_frame, sample_format);
    size_t i;
    uint8_t *p = out + 6;
    if (out == NULL || samples == NULL || n == 0u || total > cap ||
        total - EDGEKD_OVERHEAD > EDGEKD_MAX_PAYLOAD ||
        (sample_format != EDGEKD_FMT_INT16 && sample_format != EDGEKD_FMT_INT24)) {
        return 0u;
    }
    put_u16(p, seq);
    put_u32(p + 2, device_time_us);
    p[6] = n_chans;
    p[7] = samples_per_frame;
    p[8] = sample_format;
    p[9] = 0u;
    p += 10;
    for (i = 0; i < n; ++i) {
        uint32_t v = (uint32_t)samples[i]; /* two's complement: keep the low bytes */
        *p++ = (uint8_t)(v & 0xFFu);
        *p++ = (uint8_t)((v >> 8) & 0xFFu);
        if (sample_format == EDGEKD_FMT_INT24) {
            *p++ = (uint8_t)((v >> 16) & 0xFFu);
        }
    }
    return finish_frame(out, EDGEKD_TYPE_DATA, total - EDGEKD_OVERHEAD);
}

size_t edgekd_encode_info(uint8_t *out, size_t cap, uint8_t n_chans, float fs_hz,
                          float scale_uv_per_lsb, uint8_t fw_major, uint8_t fw_minor,
                          uint8_t fw_patch, const char *name) {
    size_t name_len = 0u;
    uint8_t *p = out + 6;
    while (name != NULL && name[name_len] != '\0' && name_len < 32u) {
        ++name_len;
    }
    if (out == NULL || cap < EDGEKD_OVERHEAD + 12u + name_len) {
        return 0u;
    }
    p[0] = n_chans;
    put_f32(p + 1, fs_hz);
    put_f32(p + 5, scale_uv_per_lsb);
    p[9] = fw_major;
    p[10] = fw_minor;
    p[11] = fw_patch;
    if (name_len > 0u) {
        memcpy(p + 12, name, name_len);
    }
    return finish_frame(out, EDGEKD_TYPE_INFO, 12u + name_len);
}

size_t edgekd_parse_command(const uint8_t *buf, size_t len, uint8_t *opcode, uint32_t *argument) {
    size_t i;
    for (i = 0; i + EDGEKD_OVERHEAD + 1u <= len; ++i) {
        size_t plen, total;
        const uint8_t *f = buf + i;
        if (f[0] != EDGEKD_SYNC0 || f[1] != EDGEKD_SYNC1 || f[2] != EDGEKD_VERSION ||
            f[3] != EDGEKD_TYPE_COMMAND) {
            continue;
        }
        plen = (size_t)f[4] | ((size_t)f[5] << 8);
        total = plen + EDGEKD_OVERHEAD;
        if (plen < 1u || plen > 5u || i + total > len) {
            continue;
        }
        if (edgekd_crc16(f + 2, 4u + plen) != (uint16_t)(f[6 + plen] | (f[7 + plen] << 8))) {
            continue;
        }
        *opcode = f[6];
        *argument = plen >= 5u ? ((uint32_t)f[7] | ((uint32_t)f[8] << 8) |
                                  ((uint32_t)f[9] << 16) | ((uint32_t)f[10] << 24))
                               : 0u;
        return i + total;
    }
    return 0u;
}
