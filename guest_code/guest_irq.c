// SPDX-License-Identifier: GPL-2.0-only
/* Guest-side LAPIC/IOAPIC helpers; see guest_irq.h. */
#include "apic.h"
#include "kvm_util.h"
#include "processor.h"

#include "guest_code/guest_irq.h"
#include "lib/ioapic_model.h"

void guest_irq_lapic_setup(void)
{
	xapic_enable();
	xapic_write_reg(APIC_TASKPRI, 0);
	xapic_write_reg(APIC_LVT0, APIC_LVT_MASKED);
}

static void ioapic_write(uint32_t reg, uint32_t value)
{
	volatile uint32_t *base = (volatile uint32_t *)IOAPIC_DEFAULT_GPA;

	base[IOAPIC_REG_SELECT / 4] = reg;
	base[IOAPIC_REG_WINDOW / 4] = value;
}

void guest_irq_ioapic_write_rte(uint8_t pin, uint8_t vector, uint8_t dest,
				uint64_t flags)
{
	/* High half first: the entry is never live with a stale destination. */
	ioapic_write(0x10 + 2 * pin + 1, (uint32_t)dest << 24);
	ioapic_write(0x10 + 2 * pin, vector | (uint32_t)flags);
}

bool guest_irq_in_service(uint8_t vector)
{
	return xapic_read_reg(APIC_ISR + 0x10 * (vector / 32)) &
	       (1u << (vector % 32));
}

void guest_irq_halt_until(volatile uint32_t *counter, uint32_t target)
{
	asm volatile("cli");
	/* sti;hlt is atomic: no wakeup is lost between the check and hlt. */
	while (*counter < target)
		asm volatile("sti; hlt; cli");
	asm volatile("sti");
}
