/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A userspace IOAPIC for split-irqchip VMs: the guest's MMIO reaches it
 * through KVM_EXIT_MMIO, it turns pins into MSIs, keeps remote IRR for
 * level-triggered pins, and takes EOIs from KVM_EXIT_IOAPIC_EOI.  It knows
 * nothing of KVM: the owner supplies how to send an MSI and how to publish
 * routes (KVM_SET_GSI_ROUTING), so the logic is unit-tested without a VM.
 * The owner serializes calls (one lock around the model).
 */
#ifndef IRQBENCH_IOAPIC_MODEL_H
#define IRQBENCH_IOAPIC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_DEFAULT_GPA 0xfec00000ull
#define IOAPIC_PINS 24
#define IOAPIC_REG_SELECT 0x00
#define IOAPIC_REG_WINDOW 0x10

/* Redirection table entry bits. */
#define RTE_VECTOR_MASK 0xffull
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST_SHIFT 56

struct ioapic_msi {
	uint64_t address;
	uint32_t data;
};

struct ioapic_model;

struct ioapic_model_ops {
	void (*send_msi)(struct ioapic_model *m, int pin,
			 const struct ioapic_msi *msi);
	/* Redirection entries changed: republish the pins' routes. */
	void (*routes_changed)(struct ioapic_model *m);
};

struct ioapic_model {
	uint32_t id;
	uint32_t select;
	uint64_t rte[IOAPIC_PINS];
	uint32_t line; /* pins whose input is asserted */
	const struct ioapic_model_ops *ops;
	void *owner;
};

void ioapic_model_init(struct ioapic_model *m,
		       const struct ioapic_model_ops *ops, void *owner);
uint32_t ioapic_model_read(struct ioapic_model *m, uint64_t offset);
void ioapic_model_write(struct ioapic_model *m, uint64_t offset,
			uint32_t value);
void ioapic_model_set_line(struct ioapic_model *m, int pin, bool asserted);
/* An EOI broadcast for @vector: clears remote IRR, re-delivers live lines. */
void ioapic_model_eoi(struct ioapic_model *m, uint8_t vector);
/* The MSI that pin @pin sends now (also its GSI route). */
void ioapic_model_msi(const struct ioapic_model *m, int pin,
		      struct ioapic_msi *msi);
bool ioapic_model_remote_irr(const struct ioapic_model *m, int pin);

#endif
