// SPDX-License-Identifier: GPL-2.0-only
#ifdef __x86_64__
#include <cpuid.h>
#endif
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/host.h"

bool host_module_param(const char *module, const char *param, char *buf,
		       int size)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 param);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/*
 * x86: "model name".  arm64 has none: "CPU implementer" and "CPU part" (the
 * MIDR fields, e.g. 0x41/0xd0c = Arm Neoverse N1) say which core it is.
 */
static void read_cpu_model(char *buf, int size)
{
	char line[256], implementer[32] = "", part[32] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *value;

		if (!colon)
			continue;
		value = colon + 1 + strspn(colon + 1, " \t");
		value[strcspn(value, "\n")] = '\0';
		if (!strncmp(line, "model name", 10)) {
			snprintf(buf, size, "%s", value);
			break;
		}
		if (!implementer[0] && !strncmp(line, "CPU implementer", 15))
			snprintf(implementer, sizeof(implementer), "%s", value);
		if (!part[0] && !strncmp(line, "CPU part", 8))
			snprintf(part, sizeof(part), "%s", value);
	}
	fclose(f);
	if (!strcmp(buf, "unknown") && implementer[0])
		snprintf(buf, size, "implementer %s part %s", implementer,
			 part[0] ? part : "?");
}

static bool host_under_tcg(void)
{
#ifdef __x86_64__
	unsigned int eax, sig[3], ecx;

	__cpuid(1, eax, sig[0], ecx, sig[1]);
	if (!(ecx & (1u << 31))) /* no hypervisor */
		return false;
	__cpuid(0x40000000, eax, sig[0], sig[1], sig[2]);
	return !memcmp(sig, "TCGTCGTCGTCG", 12);
#else
	return false;
#endif
}

void host_facts_read(struct host_facts *h)
{
	static const char *const vendors[] = { "kvm_intel", "kvm_amd",
					       "kvm_pvm" };
	struct utsname u;
	char path[64], val[16];
	unsigned int i;
	FILE *f;

	memset(h, 0, sizeof(*h));
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	read_cpu_model(h->cpu, sizeof(h->cpu));
	snprintf(h->kvm_module, sizeof(h->kvm_module), "none");
	for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", vendors[i]);
		if (!access(path, F_OK)) {
			snprintf(h->kvm_module, sizeof(h->kvm_module), "%s",
				 vendors[i]);
			break;
		}
	}
	if ((host_module_param("kvm_intel", "enable_apicv", val, sizeof(val)) ||
	     host_module_param("kvm_amd", "avic", val, sizeof(val))) &&
	    (val[0] == 'Y' || val[0] == '1'))
		h->apicv = true;
	h->under_tcg = host_under_tcg();
	f = fopen(
		"/sys/devices/system/clocksource/clocksource0/current_clocksource",
		"r");
	if (f) {
		if (fgets(h->clocksource, sizeof(h->clocksource), f))
			h->clocksource[strcspn(h->clocksource, "\n")] = '\0';
		fclose(f);
	}
}
