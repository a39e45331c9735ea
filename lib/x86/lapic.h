/* SPDX-License-Identifier: GPL-2.0-only */
/* The host's view of a vCPU's local APIC (KVM_GET_LAPIC). */
#ifndef IRQBENCH_X86_LAPIC_H
#define IRQBENCH_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_vcpu;

/* Is @vector's bit set in the vCPU's in-service register (ISR)? */
bool lapic_vector_in_service(struct kvm_vcpu *vcpu, uint8_t vector);

#endif
