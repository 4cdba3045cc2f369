/* Test harness: writes frames the Python test cross-checks. VERSION is v1 or v2.
 * usage: test_harness VERSION data SEQ TIME_US N_CHANS SPF FMT v0 v1 ...  -> frame bytes
 *        test_harness VERSION info                                        -> an info frame
 *        test_harness v2 decision SEQ SAMPLE CLASS CONFIDENCE p0 p1 ...    -> a decision frame
 *        test_harness v2 end                                              -> an end frame
 *        test_harness VERSION command HEXBYTES          -> "opcode argument consumed" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgekd_v1.h"
#include "edgekd_v2.h"

static uint8_t out[EDGEKD2_MAX_PAYLOAD + EDGEKD2_OVERHEAD];
static int32_t samples[EDGEKD2_MAX_PAYLOAD];
static float probs[255];

static size_t encode_data(int v2, int argc, char **argv) {
    int i;
    uint32_t seq = (uint32_t)strtoul(argv[3], NULL, 10);
    uint32_t t = (uint32_t)strtoul(argv[4], NULL, 10);
    uint8_t c = (uint8_t)atoi(argv[5]), s = (uint8_t)atoi(argv[6]), fmt = (uint8_t)atoi(argv[7]);
    for (i = 8; i < argc; ++i) {
        samples[i - 8] = (int32_t)strtol(argv[i], NULL, 10);
    }
    return v2 ? edgekd2_encode_data(out, sizeof out, seq, t, c, s, fmt, samples)
              : edgekd_encode_data(out, sizeof out, (uint16_t)seq, t, c, s, fmt, samples);
}

static size_t encode_decision(int argc, char **argv) {
    int i;
    for (i = 7; i < argc; ++i) {
        probs[i - 7] = (float)strtod(argv[i], NULL);
    }
    return edgekd2_encode_decision(out, sizeof out, (uint32_t)strtoul(argv[3], NULL, 10),
                                   (uint32_t)strtoul(argv[4], NULL, 10),
                                   (uint8_t)atoi(argv[5]), (float)strtod(argv[6], NULL),
                                   argc > 7 ? probs : NULL, (uint8_t)(argc - 7));
}

static int parse_command(int v2, const char *hex) {
    uint8_t buf[256];
    size_t len = strlen(hex) / 2u, k, n;
    uint8_t op = 0u;
    uint32_t arg = 0u;
    for (k = 0; k < len && k < sizeof buf; ++k) {
        unsigned int byte;
        sscanf(hex + 2 * k, "%2x", &byte);
        buf[k] = (uint8_t)byte;
    }
    n = v2 ? edgekd2_parse_command(buf, len, &op, &arg) : edgekd_parse_command(buf, len, &op, &arg);
    printf("%u %lu %lu\n", (unsigned)op, (unsigned long)arg, (unsigned long)n);
    return 0;
}

int main(int argc, char **argv) {
    size_t n = 0u;
    int v2;
    if (argc < 3) {
        return 2;
    }
    v2 = strcmp(argv[1], "v2") == 0;
    if (argc >= 8 && strcmp(argv[2], "data") == 0) {
        n = encode_data(v2, argc, argv);
    } else if (argc == 3 && strcmp(argv[2], "info") == 0) {
        n = v2 ? edgekd2_encode_info(out, sizeof out, 8u, 200.0f, 0.5f, 1u, 2u, 3u, "armband")
               : edgekd_encode_info(out, sizeof out, 8u, 200.0f, 0.5f, 1u, 2u, 3u, "armband");
    } else if (v2 && argc >= 7 && strcmp(argv[2], "decision") == 0) {
        n = encode_decision(argc, argv);
    } else if (v2 && argc == 3 && strcmp(argv[2], "end") == 0) {
        n = edgekd2_encode_end(out, sizeof out);
    } else if (argc == 4 && strcmp(argv[2], "command") == 0) {
        return parse_command(v2, argv[3]);
    } else {
        return 2;
    }
    if (n == 0u) {
        return 1;
    }
    fwrite(out, 1, n, stdout);
    return 0;
}
