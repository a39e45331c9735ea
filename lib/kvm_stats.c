// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/kvm_stats.h"

int kvm_stats_open(struct kvm_stats *s, int kvm_fd)
{
	size_t bytes;

	memset(s, 0, sizeof(*s));
	s->fd = ioctl(kvm_fd, KVM_GET_STATS_FD, NULL);
	if (s->fd < 0)
		return -errno;
	if (pread(s->fd, &s->header, sizeof(s->header), 0) != sizeof(s->header))
		goto fail;
	s->desc_size = sizeof(struct kvm_stats_desc) + s->header.name_size;
	bytes = s->desc_size * s->header.num_desc;
	s->descs = malloc(bytes);
	if (!s->descs || pread(s->fd, s->descs, bytes, s->header.desc_offset) !=
				 (ssize_t)bytes)
		goto fail;
	return 0;
fail:
	kvm_stats_close(s);
	return -EIO;
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->fd > 0)
		close(s->fd);
	free(s->descs);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

bool kvm_stats_read(struct kvm_stats *s, const char *name, uint64_t *value)
{
	uint64_t data[64];
	uint32_t i, j;

	for (i = 0; i < s->header.num_desc; i++) {
		struct kvm_stats_desc *d =
			(void *)(s->descs + i * s->desc_size);
		size_t n = d->size < 64 ? d->size : 64;

		if (strcmp(d->name, name))
			continue;
		if (pread(s->fd, data, n * sizeof(uint64_t),
			  s->header.data_offset + d->offset) !=
		    (ssize_t)(n * sizeof(uint64_t)))
			return false;
		*value = 0;
		for (j = 0; j < n; j++)
			*value += data[j];
		return true;
	}
	return false;
}
