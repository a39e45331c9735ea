// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/trace_counter.h"

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };

static int read_event_id(const char *system, const char *event, long *id)
{
	char path[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/%s/%s/id",
			 tracefs_dirs[i], system, event);
		f = fopen(path, "r");
		if (!f)
			continue;
		i = fscanf(f, "%ld", id);
		fclose(f);
		return i == 1 ? 0 : -1;
	}
	return -1;
}

/* One event per CPU (@tids NULL) or per thread; 0 or -1 with tc->why. */
static int open_events(struct trace_counter *tc, const char *system,
		       const char *event, const char *filter, const pid_t *tids,
		       int n)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.disabled = 0,
	};
	struct rlimit nofile;
	long id;
	int i, fd;

	memset(tc, 0, sizeof(*tc));
	if (read_event_id(system, event, &id)) {
		/* tracefs may simply not be mounted yet. */
		mount("nodev", tracefs_dirs[0], "tracefs", 0, NULL);
		if (read_event_id(system, event, &id)) {
			snprintf(tc->why, sizeof(tc->why),
				 "no tracepoint %s:%s in tracefs", system,
				 event);
			return -1;
		}
	}
	tc->fds = calloc(n, sizeof(*tc->fds));
	if (!tc->fds) {
		snprintf(tc->why, sizeof(tc->why), "out of memory");
		return -1;
	}
	attr.config = id;
	for (i = 0; i < n; i++) {
		fd = syscall(__NR_perf_event_open, &attr, tids ? tids[i] : -1,
			     tids ? -1 : i, -1, PERF_FLAG_FD_CLOEXEC);
		/* A counter per thread of a 1024-vCPU VM outgrows a soft limit. */
		if (fd < 0 && errno == EMFILE &&
		    !getrlimit(RLIMIT_NOFILE, &nofile) &&
		    nofile.rlim_cur < nofile.rlim_max) {
			nofile.rlim_cur = nofile.rlim_max;
			if (!setrlimit(RLIMIT_NOFILE, &nofile)) {
				i--;
				continue;
			}
		}
		if (fd < 0 && !tids && errno == ENODEV)
			continue; /* offline CPU */
		if (fd < 0) {
			snprintf(tc->why, sizeof(tc->why),
				 "perf_event_open(%s:%s): %s", system, event,
				 strerror(errno));
			goto fail;
		}
		tc->fds[tc->nr_fds++] = fd;
		if (filter && ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter)) {
			snprintf(tc->why, sizeof(tc->why),
				 "filter '%s' on %s:%s: %s", filter, system,
				 event, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	trace_counter_close(tc);
	return -1;
}

int trace_counter_open(struct trace_counter *tc, const char *system,
		       const char *event, const char *filter)
{
	return open_events(tc, system, event, filter, NULL,
			   sysconf(_SC_NPROCESSORS_CONF));
}

int trace_counter_open_tasks(struct trace_counter *tc, const char *system,
			     const char *event, const char *filter,
			     const pid_t *tids, int nr_tids)
{
	return open_events(tc, system, event, filter, tids, nr_tids);
}

void trace_counter_reset(struct trace_counter *tc)
{
	int i;

	for (i = 0; i < tc->nr_fds; i++)
		ioctl(tc->fds[i], PERF_EVENT_IOC_RESET, 0);
}

uint64_t trace_counter_read(struct trace_counter *tc)
{
	uint64_t sum = 0, v;
	int i;

	for (i = 0; i < tc->nr_fds; i++)
		if (read(tc->fds[i], &v, sizeof(v)) == sizeof(v))
			sum += v;
	return sum;
}

void trace_counter_close(struct trace_counter *tc)
{
	int i;

	for (i = 0; i < tc->nr_fds; i++)
		close(tc->fds[i]);
	tc->nr_fds = 0;
	free(tc->fds);
	tc->fds = NULL;
}
