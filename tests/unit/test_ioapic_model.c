// SPDX-License-Identifier: GPL-2.0-only
/* The userspace IOAPIC of split-irqchip VMs. */
#include <stdbool.h>

#include "lib/ioapic_model.h"
#include "tests/unit/unit.h"

static int msis, route_updates;
static struct ioapic_msi last_msi;

static void send_msi(struct ioapic_model *m, int pin,
		     const struct ioapic_msi *msi)
{
	msis++;
	last_msi = *msi;
}

static void routes_changed(struct ioapic_model *m)
{
	route_updates++;
}

static const struct ioapic_model_ops ops = { send_msi, routes_changed };

static void write_rte(struct ioapic_model *m, int pin, uint64_t rte)
{
	ioapic_model_write(m, IOAPIC_REG_SELECT, 0x10 + 2 * pin + 1);
	ioapic_model_write(m, IOAPIC_REG_WINDOW, rte >> 32);
	ioapic_model_write(m, IOAPIC_REG_SELECT, 0x10 + 2 * pin);
	ioapic_model_write(m, IOAPIC_REG_WINDOW, (uint32_t)rte);
}

int main(void)
{
	struct ioapic_model m;

	ioapic_model_init(&m, &ops, NULL);
	ioapic_model_write(&m, IOAPIC_REG_SELECT, 1);
	CHECK(ioapic_model_read(&m, IOAPIC_REG_WINDOW) == 0x170011,
	      "version: 24 pins");
	ioapic_model_set_line(&m, 10, true);
	CHECK(msis == 0, "masked pin sends nothing");

	write_rte(&m, 10, 0x62 | RTE_LEVEL | 3ull << RTE_DEST_SHIFT);
	CHECK(route_updates == 2,
	      "each changed half republishes the routes (%d)", route_updates);
	CHECK(msis == 1 && ioapic_model_remote_irr(&m, 10),
	      "unmasking an asserted level pin sends");
	CHECK(last_msi.address == 0xfee03000 &&
		      last_msi.data == (0x62 | 1u << 15 | 1u << 14),
	      "MSI: destination 3, vector 0x62, level-triggered (0x%llx 0x%x)",
	      (unsigned long long)last_msi.address, last_msi.data);
	ioapic_model_set_line(&m, 10, true);
	CHECK(msis == 1, "remote IRR holds a level pin until EOI");

	ioapic_model_eoi(&m, 0x63);
	CHECK(msis == 1 && ioapic_model_remote_irr(&m, 10),
	      "an EOI of another vector does nothing");
	ioapic_model_eoi(&m, 0x62);
	CHECK(msis == 2 && ioapic_model_remote_irr(&m, 10),
	      "EOI with the line still asserted delivers again");
	ioapic_model_set_line(&m, 10, false);
	ioapic_model_eoi(&m, 0x62);
	CHECK(msis == 2 && !ioapic_model_remote_irr(&m, 10),
	      "EOI after deassert clears remote IRR");

	/* Mid-ISR reprogram, as the scenario does. */
	ioapic_model_set_line(&m, 10, true);
	write_rte(&m, 10, 0x62 | RTE_LEVEL | 1ull << RTE_DEST_SHIFT);
	CHECK(msis == 3 && ioapic_model_remote_irr(&m, 10),
	      "reprogramming keeps remote IRR of the in-service interrupt");
	ioapic_model_eoi(&m, 0x62);
	CHECK(msis == 4 && last_msi.address == 0xfee01000,
	      "its EOI redelivers the live line to the new destination");
	write_rte(&m, 10, 0x72 | RTE_LEVEL | 1ull << RTE_DEST_SHIFT);
	ioapic_model_eoi(&m, 0x62);
	CHECK(ioapic_model_remote_irr(&m, 10),
	      "EOIs match by vector: the old vector cannot clear a changed pin");
	write_rte(&m, 10, 0x72 | 1ull << RTE_DEST_SHIFT);
	CHECK(!ioapic_model_remote_irr(&m, 10),
	      "edge mode clears remote IRR (as Linux expects)");

	ioapic_model_write(&m, IOAPIC_REG_SELECT, 0x10 + 2 * 10);
	ioapic_model_write(&m, IOAPIC_REG_WINDOW,
			   0x72 | RTE_LEVEL | RTE_REMOTE_IRR);
	CHECK(!(ioapic_model_read(&m, IOAPIC_REG_WINDOW) & RTE_REMOTE_IRR) ||
		      msis > 4,
	      "the guest cannot set remote IRR itself");
	return unit_exit();
}
