/* Test harness: writes frames the Python test cross-checks.
 * usage: test_harness data SEQ TIME_US N_CHANS SPF FMT v0 v1 ...   -> frame bytes on stdout
 *        test_harness info                                          -> an info frame
 *        test_harness command HEXBYTES                              -> "opcode argument consumed" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgekd_v1.h"

int main(int argc, char **argv) {
    static uint8_t out[EDGEKD_MAX_PAYLOAD + EDGEKD_OVERHEAD];
    static int32_t samples[EDGEKD_MAX_PAYLOAD];
    size_t n = 0u;
    int i;
    if (argc >= 7 && strcmp(argv[1], "data") == 0) {
        for (i = 7; i < argc; ++i) {
            samples[i - 7] = (int32_t)strtol(argv[i], NULL, 10);
        }
        n = edgekd_encode_data(out, sizeof out, (uint16_t)strtoul(argv[2], NULL, 10),
                               (uint32_t)strtoul(argv[3], NULL, 10),
                               (uint8_t)atoi(argv[4]), (uint8_t)atoi(argv[5]),
                               (uint8_t)atoi(argv[6]), samples);
    } else if (argc == 2 && strcmp(argv[1], "info") == 0) {
        n = edgekd_encode_info(out, sizeof out, 8u, 200.0f, 0.5f, 1u, 2u, 3u, "armband");
    } else if (argc == 3 && strcmp(argv[1], "command") == 0) {
        uint8_t buf[256];
        size_t len = strlen(argv[2]) / 2u, k;
        uint8_t op = 0u;
        uint32_t arg = 0u;
        for (k = 0; k < len && k < sizeof buf; ++k) {
            unsigned int byte;
            sscanf(argv[2] + 2 * k, "%2x", &byte);
            buf[k] = (uint8_t)byte;
        }
        n = edgekd_parse_command(buf, len, &op, &arg);
        printf("%u %lu %lu\n", (unsigned)op, (unsigned long)arg, (unsigned long)n);
        return 0;
    } else {
        return 2;
    }
    if (n == 0u) {
        return 1;
    }
    fwrite(out, 1, n, stdout);
    return 0;
}
