/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exact event counts from kvm:* tracepoints through perf_event_open, with an
 * optional filter (e.g. "vector == 34" on kvm:kvm_eoi).  Counting needs no
 * trace buffer, so nothing is lost under load.
 */
#ifndef IRQBENCH_TRACE_COUNTER_H
#define IRQBENCH_TRACE_COUNTER_H

#include <stdint.h>
#include <sys/types.h>

struct trace_counter {
	int nr_fds;
	int *fds; /* one per CPU, or one per thread */
	char why[160]; /* why it is unavailable, when open fails */
};

/*
 * Counts @system:@event on every CPU (KVM fires some events outside the vCPU
 * thread, e.g. from irqfd work).  Mounts tracefs if needed.  Returns 0, or
 * -1 with tc->why set: the metric is then SKIPped with that reason.
 */
int trace_counter_open(struct trace_counter *tc, const char *system,
		       const char *event, const char *filter);
/*
 * Counts @system:@event fired by the threads @tids only, wherever they run:
 * for events a vCPU thread fires itself (kvm_vcpu_wakeup, kvm_inj_virq).
 * Unlike a common_pid filter it holds in a PID namespace (a container),
 * where gettid() is not the TID the tracepoint records.
 */
int trace_counter_open_tasks(struct trace_counter *tc, const char *system,
			     const char *event, const char *filter,
			     const pid_t *tids, int nr_tids);
void trace_counter_reset(struct trace_counter *tc);
uint64_t trace_counter_read(struct trace_counter *tc);
void trace_counter_close(struct trace_counter *tc);

#endif
