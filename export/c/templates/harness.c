/* Test harness for the generated edgekd library (not part of the library).
 *
 * Host build (reads stdin):   ./harness stream  < samples.bin   (edgekd_sample_t, sample-major)
 *                             ./harness windows < windows.bin   (edgekd_q_t, [C][WINDOW] each)
 * Prints one line per decision: "D end_sample label logits... prob_q15...".
 *
 * QEMU build (-DEK_EMBEDDED, mps2-an386, semihosting): the input is compiled in from
 * harness_data.h, samples are pushed one at a time, and each push is timed with the CMSDK
 * timer 0. Under `qemu-system-arm -icount shift=N` virtual time advances 2^N ns per executed
 * instruction, so timer ticks count instructions (QEMU is not cycle-accurate: instructions,
 * not cycles). Extra lines: "C iters ticks" (a calibration loop of 2 instructions per
 * iteration), "O ticks" (measurement overhead), "T decisions ticks" (one push),
 * "N ticks" (edgekd_classify alone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgekd.h"

static void print_decision(const edgekd_decision_t *d) {
    int i;
    printf("D %lu %u", (unsigned long)d->end_sample, (unsigned)d->label);
    for (i = 0; i < EDGEKD_N_CLASSES; ++i) printf(" %d", (int)d->logits[i]);
    for (i = 0; i < EDGEKD_N_CLASSES; ++i) printf(" %u", (unsigned)d->prob_q15[i]);
    printf("\n");
}

#ifdef EK_EMBEDDED
#include "harness_data.h"

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

static uint32_t ticks(void) { return TIMER0_VALUE; }

#ifdef EK_PROFILE
/* per-layer timer values of the last network run: "L layer ticks" lines */
#define EK_MAX_LAYERS 64
static uint32_t ek_layer_ticks[EK_MAX_LAYERS + 1];
static int ek_layers_seen;
void ek_profile_hook(int layer) {
    if (layer < EK_MAX_LAYERS) ek_layer_ticks[layer + 1] = ticks();
    ek_layers_seen = layer + 1;
}
static void ek_profile_start(void) { ek_layer_ticks[0] = ticks(); }
static void ek_profile_print(void) {
    int i;
    for (i = 0; i < ek_layers_seen && i < EK_MAX_LAYERS; ++i)
        printf("L %d %lu\n", i, (unsigned long)(ek_layer_ticks[i] - ek_layer_ticks[i + 1]));
}
#endif

__attribute__((noinline)) static void spin(uint32_t n) {
    __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n));
}

int main(void) {
    static edgekd_decision_t d[1];
    uint32_t i, a, b;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u;
    for (i = 1000; i <= 4000; i *= 2) {
        a = ticks(); spin(i); b = ticks();
        printf("C %lu %lu\n", (unsigned long)i, (unsigned long)(a - b));
    }
    a = ticks(); b = ticks();
    printf("O %lu\n", (unsigned long)(a - b));
#if EK_MODE == 0
    edgekd_init();
    for (i = 0; i < EK_INPUT_LEN / EDGEKD_N_CHANS; ++i) {
        int32_t k;
        a = ticks();
        k = edgekd_push(ek_input + i * EDGEKD_N_CHANS, 1, d, 1);
        b = ticks();
        printf("T %ld %lu\n", (long)k, (unsigned long)(a - b));
        if (k == 1) print_decision(d);
    }
#else
    for (i = 0; i < EK_INPUT_LEN / (EDGEKD_N_CHANS * EDGEKD_WINDOW); ++i) {
        a = ticks();
        edgekd_classify(ek_input + i * EDGEKD_N_CHANS * EDGEKD_WINDOW, d);
        b = ticks();
        print_decision(d);
        printf("N %lu\n", (unsigned long)(a - b));
    }
#ifdef EK_PROFILE
    ek_profile_start();
    edgekd_classify(ek_input, d);
    ek_profile_print();
#endif
#endif
    return 0;
}
#else
static size_t read_all(void **buf, size_t item) {
    size_t cap = 1 << 16, len = 0, got;
    char *p = malloc(cap);
    while (p && (got = fread(p + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) p = realloc(p, cap *= 2);
    }
    *buf = p;
    return p ? len / item : 0;
}

int main(int argc, char **argv) {
    void *buf;
    size_t n, i;
    edgekd_decision_t *d = malloc(sizeof *d * 64);
    if (argc != 2 || (strcmp(argv[1], "stream") && strcmp(argv[1], "windows"))) {
        fprintf(stderr, "usage: %s stream|windows < input\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "stream")) {
        const edgekd_sample_t *s;
        size_t k = 0;
        n = read_all(&buf, sizeof(edgekd_sample_t) * EDGEKD_N_CHANS);
        s = buf;
        edgekd_init();
        for (i = 0; i < n; ++k) {   /* uneven chunks: decisions must not depend on them */
            size_t chunk = 1 + (k * 7) % 23, j;
            int32_t made;
            if (chunk > n - i) chunk = n - i;
            made = edgekd_push(s + i * EDGEKD_N_CHANS, (uint32_t)chunk, d, 64);
            if (made < 0) return 3;
            for (j = 0; j < (size_t)made; ++j) print_decision(&d[j]);
            i += chunk;
        }
    } else {
        const edgekd_q_t *w;
        n = read_all(&buf, sizeof(edgekd_q_t) * EDGEKD_N_CHANS * EDGEKD_WINDOW);
        w = buf;
        for (i = 0; i < n; ++i) {
            edgekd_classify(w + i * EDGEKD_N_CHANS * EDGEKD_WINDOW, d);
            print_decision(d);
        }
    }
    return 0;
}
#endif
