/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest side of arm64/lpi_wfi_wakeup and arm64/vlpi_doorbell (seed 002):
 * each vCPU blocks in WFI (interrupts masked around the check, so that no
 * wakeup can be lost between the check and the WFI) until it has handled
 * the LPIs (and SPIs) the host announced, counting every interrupt and
 * stamping each LPI with CNTVCT_EL0 on handler entry.  Shared by guest and
 * host: the host writes lpi_wfi_params before the run and reads
 * lpi_wfi_state (guest memory) while the vCPUs run.
 */
#ifndef IRQBENCH_GUEST_LPI_WFI_WAKEUP_H
#define IRQBENCH_GUEST_LPI_WFI_WAKEUP_H

#include <stdint.h>

#include "lib/arm64/its_vm.h"

/* GUEST_SYNC stage: GIC, LPIs and ITS mappings ready, about to block. */
#define LPI_WFI_STAGE_READY 1

struct lpi_wfi_params {
	struct its_layout its;
	/* Interrupts each vCPU waits for before it ends (GUEST_DONE). */
	uint64_t expected_lpis[ITS_VM_MAX_VCPUS];
	uint64_t expected_spis[ITS_VM_MAX_VCPUS];
	/* Route and enable SPI ITS_VM_SPI_BASE + k (edge) to vCPU k. */
	uint32_t use_spis;
};

struct lpi_wfi_vcpu {
	/* LPIs handled so far + 1, written before each WFI: "waiting". */
	volatile uint64_t waiting;
	volatile uint64_t lpis; /* own LPI (ITS_VM_LPI_BASE + vCPU index) */
	volatile uint64_t spis; /* own SPI */
	volatile uint64_t stray; /* any other INTID (misrouted) */
	volatile uint64_t spurious; /* IAR read 1023 */
	volatile uint64_t wfis; /* WFI instructions that returned */
	volatile uint64_t last_lpi_stamp; /* CNTVCT at the latest LPI's entry */
	volatile uint32_t last_stray_intid;
} __attribute__((aligned(64))); /* vCPUs do not share cache lines */

struct lpi_wfi_state {
	struct lpi_wfi_vcpu vcpu[ITS_VM_MAX_VCPUS];
	volatile uint32_t nr_ready; /* vCPUs with LPIs enabled */
	volatile uint32_t its_ready; /* vCPU 0 mapped the device */
	volatile uint32_t stop; /* the host gives up: leave the WFI loop */
};

extern struct lpi_wfi_params lpi_wfi_params;
extern struct lpi_wfi_state lpi_wfi_state;

void lpi_wfi_guest_main(void);
struct ex_regs;
void lpi_wfi_irq_handler(struct ex_regs *regs);

#endif
