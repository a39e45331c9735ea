// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "apic.h"
#include "kvm_util.h"

#include "guest_code/guest_irq.h"
#include "lib/x86/lapic.h"

bool lapic_vector_in_service(struct kvm_vcpu *vcpu, uint8_t vector)
{
	struct kvm_lapic_state lapic;
	uint32_t isr;

	vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
	memcpy(&isr, &lapic.regs[APIC_ISR + 0x10 * (vector / 32)], sizeof(isr));
	return isr & (1u << (vector % 32));
}
