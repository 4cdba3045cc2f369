/* Minimal start-up for QEMU's mps2-an386 (Cortex-M4F): vector table, FPU on, .data/.bss,
 * newlib semihosting (rdimon) for printf, exit code through semihosting. Harness only. */
#include <stdint.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start__, __bss_end__;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void exit(int);

void Reset_Handler(void) {
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    uint32_t *s = &__data_load, *d = &__data_start;
    *cpacr |= 0xFu << 20; /* full access to CP10/CP11: the FPU */
    __asm volatile("dsb\n isb");
    while (d < &__data_end) *d++ = *s++;
    for (d = &__bss_start__; d < &__bss_end__;) *d++ = 0;
    initialise_monitor_handles();
    exit(main());
}

void Default_Handler(void) {
    for (;;) {
    }
}

void _init(void) {}
void _fini(void) {}

__attribute__((section(".isr_vector"), used)) const void *const ek_vectors[16] = {
    &__stack_top, (const void *)Reset_Handler, (const void *)Default_Handler,
    (const void *)Default_Handler, (const void *)Default_Handler, (const void *)Default_Handler,
    (const void *)Default_Handler, 0, 0, 0, 0, (const void *)Default_Handler,
    (const void *)Default_Handler, 0, (const void *)Default_Handler,
    (const void *)Default_Handler};
