// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest code of the LPI / vLPI WFI wakeup scenarios (seed 002); see
 * lpi_wfi_wakeup.h for the protocol with the host.
 */
#include <linux/sizes.h>

#include "kvm_util.h"
#include "processor.h"

#include "gic.h"
#include "gic_v3.h"
#include "gic_v3_its.h"

#include "guest_code/lpi_wfi_wakeup.h"
#include "lib/tsc.h"

/* lib_features.h: how the tree's lib encodes the MAPC target. */
#ifndef IRQBENCH_LIB_ITS_MAPC_TARGET_SHIFT
#define IRQBENCH_LIB_ITS_MAPC_TARGET_SHIFT 0
#endif

struct lpi_wfi_params lpi_wfi_params;
struct lpi_wfi_state lpi_wfi_state;

#define P lpi_wfi_params
#define S lpi_wfi_state

void lpi_wfi_irq_handler(struct ex_regs *regs)
{
	uint64_t now = tsc_now();
	uint32_t intid = gic_get_and_ack_irq();
	struct lpi_wfi_vcpu *me = &S.vcpu[guest_get_vcpuid()];

	if (intid == IAR_SPURIOUS) {
		me->spurious++;
		return;
	}
	if (intid == ITS_VM_LPI_BASE + guest_get_vcpuid()) {
		me->last_lpi_stamp = now;
		me->lpis++;
	} else if (intid == ITS_VM_SPI_BASE + guest_get_vcpuid()) {
		me->spis++;
	} else {
		me->last_stray_intid = intid;
		me->stray++;
	}
	gic_set_eoi(intid);
}

/* vCPU 0: collection k on vCPU k, event k of the device -> LPI of vCPU k. */
static void map_device(void)
{
	void *cmdq = (void *)P.its.cmdq;
	uint32_t k;

	its_init(P.its.collection_table, ITS_VM_TABLE_SIZE, P.its.device_table,
		 ITS_VM_TABLE_SIZE, P.its.cmdq, ITS_VM_TABLE_SIZE);
	for (k = 0; k < P.its.nr_vcpus; k++)
		its_send_mapc_cmd(cmdq, k << IRQBENCH_LIB_ITS_MAPC_TARGET_SHIFT,
				  k, true);
	its_send_mapd_cmd(cmdq, P.its.device_id, P.its.itt, ITS_VM_TABLE_SIZE,
			  true);
	for (k = 0; k < P.its.nr_vcpus; k++)
		its_send_mapti_cmd(cmdq, P.its.device_id, k, k,
				   ITS_VM_LPI_BASE + k);
	for (k = 0; k < P.its.nr_vcpus; k++)
		its_send_invall_cmd(cmdq, k);
}

static void route_spi_here(uint32_t intid)
{
	/* Affinity routing: IROUTER holds the target's MPIDR affinity. */
	uint64_t aff = read_sysreg(mpidr_el1) & 0xff00ffffffUL;

	writeq(aff, GICD_BASE_GVA + GICD_IROUTER + 8 * intid);
	gic_irq_set_config(intid, true);
	gic_irq_enable(intid);
}

static void setup_gic(uint32_t me)
{
	gic_init(GIC_V3, P.its.nr_vcpus);
	gic_rdist_enable_lpis(P.its.prop_table, ITS_VM_TABLE_SIZE,
			      P.its.pend_tables + me * ITS_VM_TABLE_SIZE);
	if (P.use_spis)
		route_spi_here(ITS_VM_SPI_BASE + me);
	__atomic_fetch_add(&S.nr_ready, 1, __ATOMIC_SEQ_CST);
	if (me == 0) {
		/* The ITS maps collections to redistributors with LPIs on. */
		while (S.nr_ready < P.its.nr_vcpus)
			cpu_relax();
		map_device();
		__atomic_store_n(&S.its_ready, 1, __ATOMIC_SEQ_CST);
	}
	while (!S.its_ready)
		cpu_relax();
}

void lpi_wfi_guest_main(void)
{
	uint32_t id = guest_get_vcpuid();
	struct lpi_wfi_vcpu *me = &S.vcpu[id];

	setup_gic(id);
	GUEST_SYNC(LPI_WFI_STAGE_READY);

	/*
	 * Masked check, WFI, unmask: WFI wakes on a pending interrupt even
	 * while it is masked, so the only way to sleep through an LPI is for
	 * KVM to lose its wakeup.
	 */
	local_irq_disable();
	while (!S.stop && (me->lpis < P.expected_lpis[id] ||
			   me->spis < P.expected_spis[id])) {
		me->waiting = me->lpis + 1;
		dsb(sy);
		wfi();
		me->wfis++;
		local_irq_enable();
		isb();
		local_irq_disable();
	}
	local_irq_enable();
	GUEST_DONE();
}
