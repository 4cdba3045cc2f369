/* edgekd-v2 reference encoder: see edgekd_v2.h. */
#include "edgekd_v2.h"

#include <string.h>

uint32_t edgekd2_crc32(const uint8_t *data, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int bit;
    for (i = 0; i < len; ++i) {
        crc ^= data[i];
        for (bit = 0; bit < 8; ++bit) {
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
    }
    return crc ^ 0xFFFFFFFFu;
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

/* Wrap a payload already placed at out + 6: header in front, CRC-32 behind. */
static size_t finish_frame(uint8_t *out, uint8_t type, size_t payload_len) {
    out[0] = EDGEKD2_SYNC0;
    out[1] = EDGEKD2_SYNC1;
    out[2] = EDGEKD2_VERSION;
    out[3] = type;
    put_u16(out + 4, (uint16_t)payload_len);
    put_u32(out + 6 + payload_len, edgekd2_crc32(out + 2, 4u + payload_len));
    return payload_len + EDGEKD2_OVERHEAD;
}

size_t edgekd2_data_frame_size(uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format) {
    size_t width = sample_format == EDGEKD2_FMT_INT16 ? 2u : 3u;
    return EDGEKD2_OVERHEAD + 12u + (size_t)n_chans * samples_per_frame * width;
}

size_t edgekd2_encode_data(uint8_t *out, size_t cap, uint32_t seq, uint32_t device_time_us,
                           uint8_t n_chans, uint8_t samples_per_frame, uint8_t sample_format,
                           const int32_t *samples) {
    size_t n = (size_t)n_chans * samples_per_frame;
    size_t total = edgekd2_data_frame_size(n_chans, samples_per_frame, sample_format);
    size_t i;
    uint8_t *p = out + 6;
    if (out == NULL || samples == NULL || n == 0u || total > cap ||
        total - EDGEKD2_OVERHEAD > EDGEKD2_MAX_PAYLOAD ||
        (sample_format != EDGEKD2_FMT_INT16 && sample_format != EDGEKD2_FMT_INT24)) {
        return 0u;
    }
    put_u32(p, seq);
    put_u32(p + 4, device_time_us);
    p[8] = n_chans;
    p[9] = samples_per_frame;
    p[10] = sample_format;
    p[11] = 0u;
    p += 12;
    for (i = 0; i < n; ++i) {
        uint32_t v = (uint32_t)samples[i]; /* two's complement: keep the low bytes */
        *p++ = (uint8_t)(v & 0xFFu);
        *p++ = (uint8_t)((v >> 8) & 0xFFu);
        if (sample_format == EDGEKD2_FMT_INT24) {
            *p++ = (uint8_t)((v >> 16) & 0xFFu);
        }
    }
    return finish_frame(out, EDGEKD2_TYPE_DATA, total - EDGEKD2_OVERHEAD);
}

size_t edgekd2_encode_info(uint8_t *out, size_t cap, uint8_t n_chans, float fs_hz,
                           float scale_uv_per_lsb, uint8_t fw_major, uint8_t fw_minor,
                           uint8_t fw_patch, const char *name) {
    size_t name_len = 0u;
    uint8_t *p = out + 6;
    while (name != NULL && name[name_len] != '\0' && name_len < 32u) {
        ++name_len;
    }
    if (out == NULL || cap < EDGEKD2_OVERHEAD + 13u + name_len) {
        return 0u;
    }
    p[0] = n_chans;
    put_f32(p + 1, fs_hz);
    put_f32(p + 5, scale_uv_per_lsb);
    p[9] = fw_major;
    p[10] = fw_minor;
    p[11] = fw_patch;
    p[12] = (uint8_t)name_len;
    if (name_len > 0u) {
        memcpy(p + 13, name, name_len);
    }
    return finish_frame(out, EDGEKD2_TYPE_INFO, 13u + name_len);
}

size_t edgekd2_encode_decision(uint8_t *out, size_t cap, uint32_t seq, uint32_t sample_index,
                               uint8_t class_index, float confidence, const float *probs,
                               uint8_t n_probs) {
    size_t i;
    uint8_t *p = out + 6;
    if (out == NULL || cap < EDGEKD2_DECISION_SIZE(n_probs) || !(confidence >= 0.0f) ||
        !(confidence <= 1.0f) || (n_probs > 0u && probs == NULL) ||
        (n_probs > 0u && class_index != EDGEKD2_NO_CLASS && class_index >= n_probs)) {
        return 0u;
    }
    put_u32(p, seq);
    put_u32(p + 4, sample_index);
    p[8] = class_index;
    p[9] = n_probs;
    put_f32(p + 10, confidence);
    for (i = 0; i < n_probs; ++i) {
        put_f32(p + 14 + 4 * i, probs[i]);
    }
    return finish_frame(out, EDGEKD2_TYPE_DECISION, 14u + 4u * (size_t)n_probs);
}

size_t edgekd2_encode_end(uint8_t *out, size_t cap) {
    if (out == NULL || cap < EDGEKD2_OVERHEAD) {
        return 0u;
    }
    return finish_frame(out, EDGEKD2_TYPE_END, 0u);
}

size_t edgekd2_parse_command(const uint8_t *buf, size_t len, uint8_t *opcode, uint32_t *argument) {
    size_t i;
    for (i = 0; i + EDGEKD2_OVERHEAD + 1u <= len; ++i) {
        size_t plen, total;
        const uint8_t *f = buf + i;
        uint32_t crc;
        if (f[0] != EDGEKD2_SYNC0 || f[1] != EDGEKD2_SYNC1 || f[2] != EDGEKD2_VERSION ||
            f[3] != EDGEKD2_TYPE_COMMAND) {
            continue;
        }
        plen = (size_t)f[4] | ((size_t)f[5] << 8);
        total = plen + EDGEKD2_OVERHEAD;
        if (plen < 1u || plen > 5u || i + total > len) {
            continue;
        }
        crc = (uint32_t)f[6 + plen] | ((uint32_t)f[7 + plen] << 8) |
              ((uint32_t)f[8 + plen] << 16) | ((uint32_t)f[9 + plen] << 24);
        if (edgekd2_crc32(f + 2, 4u + plen) != crc) {
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
