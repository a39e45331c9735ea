// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for lib/bench/halt_wakeup_peer.sh: the same count of VM
 * exits for any KVM program, ours or upstream's, without changing it.  Each
 * vCPU's cumulative binary stats (KVM_GET_STATS_FD, lib/kvm_stats) are read
 * when its fd is closed (kvm_vm_free()) or, for the vCPUs still open, at
 * exit, summed over vCPUs by name and written to $IRQBENCH_EXITS_OUT as
 * "NAME TOTAL" lines (first line "vcpus N").
 */
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kvm_stats.h"

#define MAX_STATS 256

static struct {
	char name[64];
	uint64_t total;
} stats[MAX_STATS];
static int nr_stats, nr_vcpus;

static int (*real_close)(int);

static bool is_vcpu(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, "anon_inode:kvm-vcpu", 19);
}

/* Adds the vCPU's cumulative stats to the totals. */
static void account(int fd)
{
	struct kvm_stats s;
	uint32_t i;
	int k;

	if (kvm_stats_open(&s, fd))
		return;
	nr_vcpus++;
	for (i = 0; i < s.header.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(s.descs + i * s.desc_size);
		uint64_t v;

		if ((d->flags & KVM_STATS_TYPE_MASK) !=
			    KVM_STATS_TYPE_CUMULATIVE ||
		    !kvm_stats_read(&s, d->name, &v))
			continue;
		for (k = 0; k < nr_stats && strcmp(stats[k].name, d->name); k++)
			;
		if (k == nr_stats && nr_stats < MAX_STATS)
			snprintf(stats[nr_stats++].name, sizeof(stats[k].name),
				 "%s", d->name);
		if (k < nr_stats)
			stats[k].total += v;
	}
	kvm_stats_close(&s);
}

int close(int fd)
{
	if (!real_close)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd >= 0 && is_vcpu(fd))
		account(fd);
	return real_close(fd);
}

static void __attribute__((destructor)) report(void)
{
	const char *out = getenv("IRQBENCH_EXITS_OUT");
	struct dirent *e;
	DIR *dir;
	FILE *f;
	int k;

	if (!out)
		return;
	dir = opendir("/proc/self/fd");
	while (dir && (e = readdir(dir)))
		if (e->d_name[0] != '.' && is_vcpu(atoi(e->d_name)))
			account(atoi(e->d_name));
	if (dir)
		closedir(dir);
	f = fopen(out, "w");
	if (!f)
		return;
	fprintf(f, "vcpus %d\n", nr_vcpus);
	for (k = 0; k < nr_stats; k++)
		fprintf(f, "%s %llu\n", stats[k].name,
			(unsigned long long)stats[k].total);
	fclose(f);
}
