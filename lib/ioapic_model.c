// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "lib/ioapic_model.h"

#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_RTE0 0x10
#define IOAPIC_VERSION 0x11

/* Bits the guest cannot write: delivery status and remote IRR. */
#define RTE_RO_BITS ((1ull << 12) | RTE_REMOTE_IRR)

void ioapic_model_init(struct ioapic_model *m,
		       const struct ioapic_model_ops *ops, void *owner)
{
	int pin;

	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->owner = owner;
	for (pin = 0; pin < IOAPIC_PINS; pin++)
		m->rte[pin] = RTE_MASKED;
}

void ioapic_model_msi(const struct ioapic_model *m, int pin,
		      struct ioapic_msi *msi)
{
	uint64_t e = m->rte[pin];

	msi->address = 0xfee00000ull | ((e >> RTE_DEST_SHIFT) & 0xff) << 12 |
		       (e & RTE_DEST_LOGICAL ? 1u << 2 : 0);
	/* vector, delivery mode (bits 8-10), and level trigger (bit 15). */
	msi->data = (e & 0x7ff) | (e & RTE_LEVEL ? 1u << 15 | 1u << 14 : 0);
}

bool ioapic_model_remote_irr(const struct ioapic_model *m, int pin)
{
	return m->rte[pin] & RTE_REMOTE_IRR;
}

static void service(struct ioapic_model *m, int pin)
{
	struct ioapic_msi msi;
	uint64_t *e = &m->rte[pin];

	if (*e & RTE_MASKED || !(m->line & (1u << pin)))
		return;
	if (*e & RTE_LEVEL) {
		/* A level pin sends once until the EOI clears remote IRR. */
		if (*e & RTE_REMOTE_IRR)
			return;
		*e |= RTE_REMOTE_IRR;
	}
	ioapic_model_msi(m, pin, &msi);
	m->ops->send_msi(m, pin, &msi);
}

uint32_t ioapic_model_read(struct ioapic_model *m, uint64_t offset)
{
	uint32_t reg = m->select;

	if (offset == IOAPIC_REG_SELECT)
		return m->select;
	if (offset != IOAPIC_REG_WINDOW)
		return 0;
	if (reg == IOAPIC_REG_ID)
		return m->id << 24;
	if (reg == IOAPIC_REG_VERSION)
		return (IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	if (reg >= IOAPIC_REG_RTE0 && reg < IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS) {
		uint64_t e = m->rte[(reg - IOAPIC_REG_RTE0) / 2];

		return reg & 1 ? e >> 32 : (uint32_t)e;
	}
	return 0;
}

void ioapic_model_write(struct ioapic_model *m, uint64_t offset, uint32_t value)
{
	uint32_t reg = m->select;
	uint64_t *e, old;
	int pin;

	if (offset == IOAPIC_REG_SELECT) {
		m->select = value & 0xff;
		return;
	}
	if (offset != IOAPIC_REG_WINDOW)
		return;
	if (reg == IOAPIC_REG_ID) {
		m->id = (value >> 24) & 0xf;
		return;
	}
	if (reg < IOAPIC_REG_RTE0 || reg >= IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS)
		return;

	pin = (reg - IOAPIC_REG_RTE0) / 2;
	e = &m->rte[pin];
	old = *e;
	if (reg & 1)
		*e = (*e & 0xffffffffull) | (uint64_t)value << 32;
	else
		*e = (*e & ~0xffffffffull) | (value & ~(uint32_t)RTE_RO_BITS) |
		     (*e & RTE_RO_BITS);
	/* As hardware (and Linux expects): edge mode clears remote IRR. */
	if (!(*e & RTE_LEVEL))
		*e &= ~RTE_REMOTE_IRR;
	if (*e != old)
		m->ops->routes_changed(m);
	service(m, pin);
}

void ioapic_model_set_line(struct ioapic_model *m, int pin, bool asserted)
{
	bool was = m->line & (1u << pin);

	if (asserted)
		m->line |= 1u << pin;
	else
		m->line &= ~(1u << pin);
	/* Edge pins fire on the rising edge, level pins while asserted. */
	if (asserted && (!was || m->rte[pin] & RTE_LEVEL))
		service(m, pin);
}

void ioapic_model_eoi(struct ioapic_model *m, uint8_t vector)
{
	int pin;

	for (pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *e = &m->rte[pin];

		/* EOIs match by vector, as the IOAPIC's EOI broadcast does. */
		if ((*e & RTE_VECTOR_MASK) != vector || !(*e & RTE_REMOTE_IRR))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		service(m, pin);
	}
}
