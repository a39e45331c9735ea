// SPDX-License-Identifier: GPL-2.0-only
/*
 * GICv4 vLPI doorbells waking a vCPU blocked in WFI (seed 002).
 *
 * A device MSI forwarded to a guest as a vLPI (VFIO MSI eventfd + KVM MSI
 * route with a device ID + KVM_IRQFD: KVM maps it in the host ITS with
 * VMAPTI) becomes pending for the vPE directly; when the vPE is not
 * resident (the vCPU blocked in WFI) the GIC raises the vPE's doorbell
 * interrupt, whose handler must wake the vCPU with a properly paired
 * KVM_REQ_IRQ_PENDING so that no wakeup is lost between
 * kvm_arch_vcpu_blocking() and the block check.
 *
 * The device is QEMU's "edu" (1234:11e8) bound to vfio-pci: writing its
 * interrupt-raise register (BAR0 + 0x60) sends one MSI.  One vCPU blocks in
 * WFI; each MSI is raised once the vCPU waits (and, when KVM traps WFI, is
 * blocked), and must be handled exactly once in the guest.  Counted: vLPIs
 * handled (guest), MSIs the host's VFIO handler saw (/proc/interrupts
 * vfio-msi: 0 when forwarding works), doorbells (/proc/interrupts
 * GICv4-vpe lines).  Under kvm-arm.wfi_trap_policy=trap every MSI reaches a
 * blocked vCPU, so doorbells >= MSIs; with the default policy a lone vCPU
 * with vLPIs executes WFI without trapping and doorbells are only reported.
 *
 * The control raises MSIs before KVM_IRQFD exists: the host's VFIO handler
 * must count each one and the eventfd must carry each one, which proves the
 * device trigger and the /proc/interrupts counter work.
 *
 * SKIP with the reason: no edu device, no VFIO, no GICv4 (no vPE
 * doorbells), or MSIs not forwarded as vLPIs (not-provoked).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"

#include "guest_code/lpi_wfi_wakeup.h"
#include "lib/arm64/its_vm.h"
#include "lib/arm64/wakeup_verdict.h"
#include "lib/harness.h"
#include "lib/kvm_stats.h"
#include "lib/results.h"
#include "lib/tsc.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00 /* identification: 0x010000ed */
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define DEVICE_ID 0x10 /* the guest ITS device the MSIs claim to come from */
#define CONTROL_MSIS 3

struct edu {
	char bdf[32];
	int container, group, device;
	uint64_t bar0; /* region offset in the device fd */
	int eventfd;
};

struct run {
	struct edu edu;
	struct its_vm its;
	struct lpi_wfi_state *state;
	pthread_barrier_t ready;
	pthread_t vcpu_thread;
	struct kvm_stats stats;
	bool stats_ok, trap_wfi;
	uint32_t msis;
	double lost_after_s;
	uint64_t raised, not_blocked;
};

static struct run *current_run;

/* Sum of the per-CPU counts of /proc/interrupts lines containing @what. */
static uint64_t proc_interrupts(const char *what, int *lines)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	uint64_t sum = 0;
	int ncpus = 0;

	*lines = 0;
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f))
		for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n"))
			ncpus++;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		int c;

		if (!p || !strstr(line, what))
			continue;
		(*lines)++;
		p++;
		for (c = 0; c < ncpus; c++)
			sum += strtoull(p, &p, 10);
	}
	fclose(f);
	return sum;
}

static uint64_t doorbells(int *lines)
{
	return proc_interrupts("GICv4-vpe", lines);
}

static uint64_t host_vfio_msis(struct run *r)
{
	char what[64];
	int lines;

	snprintf(what, sizeof(what), "vfio-msi[0](%s)", r->edu.bdf);
	return proc_interrupts(what, &lines);
}

static bool cmdline_has(const char *word)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, word) != NULL;
}

static void dump_run(void)
{
	struct run *r = current_run;
	uint64_t v = 0;
	int lines;

	if (!r || !r->state)
		return;
	if (r->stats_ok)
		kvm_stats_read(&r->stats, "blocking", &v);
	printf("# state: guest waiting %lu lpis %lu stray %lu (last INTID %u) wfis %lu; "
	       "host raised %lu; KVM blocking %lu; doorbells %lu; host VFIO MSIs %lu\n",
	       r->state->vcpu[0].waiting, r->state->vcpu[0].lpis,
	       r->state->vcpu[0].stray, r->state->vcpu[0].last_stray_intid,
	       r->state->vcpu[0].wfis, r->raised, v, doorbells(&lines),
	       host_vfio_msis(r));
	fflush(stdout);
}

/* ---- the edu device through VFIO ------------------------------------------- */

static bool read_hex(const char *dir, const char *file, unsigned int *v)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok;
}

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool find_edu(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)) && !found) {
		char dir[PATH_MAX];
		unsigned int ven, dev;

		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s",
			 e->d_name);
		if (read_hex(dir, "vendor", &ven) &&
		    read_hex(dir, "device", &dev) && ven == EDU_VENDOR &&
		    dev == EDU_DEVICE) {
			snprintf(bdf, len, "%.31s", e->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* Hands the device to vfio-pci (driver_override), unless it has it. */
static int bind_vfio(const char *bdf, char *why, int len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (strstr(link, "/vfio-pci"))
			return 0;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		write_file(path, bdf);
	}
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		snprintf(why, len, "no vfio-pci driver (modprobe vfio-pci)");
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	if (!write_file(path, "vfio-pci") ||
	    !write_file("/sys/bus/pci/drivers_probe", bdf)) {
		snprintf(why, len, "binding %s to vfio-pci failed: %s", bdf,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int edu_open(struct edu *edu, char *why, int len)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 edu->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(why, len, "%s has no IOMMU group (no IOMMU for VFIO)",
			 edu->bdf);
		return -1;
	}
	link[n] = '\0';
	edu->container = open("/dev/vfio/vfio", O_RDWR);
	if (edu->container < 0 ||
	    ioctl(edu->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(edu->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
		snprintf(why, len,
			 "no VFIO type1v2 container (/dev/vfio/vfio)");
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%.32s", strrchr(link, '/') + 1);
	edu->group = open(path, O_RDWR);
	if (edu->group < 0 ||
	    ioctl(edu->group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(why, len, "VFIO group %.64s not usable", path);
		return -1;
	}
	TEST_ASSERT(!ioctl(edu->group, VFIO_GROUP_SET_CONTAINER,
			   &edu->container),
		    "VFIO_GROUP_SET_CONTAINER");
	TEST_ASSERT(!ioctl(edu->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU),
		    "VFIO_SET_IOMMU");
	edu->device = ioctl(edu->group, VFIO_GROUP_GET_DEVICE_FD, edu->bdf);
	TEST_ASSERT(edu->device >= 0, "VFIO_GROUP_GET_DEVICE_FD %s", edu->bdf);
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	TEST_ASSERT(!ioctl(edu->device, VFIO_DEVICE_GET_REGION_INFO, &reg),
		    "BAR0 region info");
	edu->bar0 = reg.offset;
	return 0;
}

static uint32_t edu_read(struct edu *edu, uint32_t off)
{
	uint32_t v = 0;

	TEST_ASSERT(pread(edu->device, &v, 4, edu->bar0 + off) == 4,
		    "edu read 0x%x", off);
	return v;
}

static void edu_write(struct edu *edu, uint32_t off, uint32_t v)
{
	TEST_ASSERT(pwrite(edu->device, &v, 4, edu->bar0 + off) == 4,
		    "edu write 0x%x", off);
}

/* MSIs are memory writes by the device: bus mastering must be on. */
static void edu_enable_msi(struct edu *edu)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg) };
	struct vfio_irq_set *set;
	char buf[sizeof(*set) + sizeof(int)];
	uint16_t cmd;

	cfg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	TEST_ASSERT(!ioctl(edu->device, VFIO_DEVICE_GET_REGION_INFO, &cfg),
		    "config region info");
	TEST_ASSERT(pread(edu->device, &cmd, 2, cfg.offset + 4) == 2,
		    "read PCI_COMMAND");
	cmd |= 0x6; /* memory space, bus master */
	TEST_ASSERT(pwrite(edu->device, &cmd, 2, cfg.offset + 4) == 2,
		    "write PCI_COMMAND");

	edu->eventfd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(edu->eventfd >= 0, "eventfd");
	set = (struct vfio_irq_set *)buf;
	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(set->data, &edu->eventfd, sizeof(int));
	TEST_ASSERT(!ioctl(edu->device, VFIO_DEVICE_SET_IRQS, set),
		    "VFIO_DEVICE_SET_IRQS (MSI)");
}

static void edu_close(struct edu *edu)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};

	if (edu->device > 0) {
		ioctl(edu->device, VFIO_DEVICE_SET_IRQS, &set);
		close(edu->device);
	}
	if (edu->eventfd > 0)
		close(edu->eventfd);
	if (edu->group > 0)
		close(edu->group);
	if (edu->container > 0)
		close(edu->container);
}

/* ---- control: the software path, before KVM owns the eventfd ---------------- */

static void run_control(struct harness *h, struct run *r)
{
	struct results *res = &h->res;
	uint64_t vfio0 = host_vfio_msis(r), got = 0, v;
	struct pollfd pfd = { .fd = r->edu.eventfd, .events = POLLIN };
	bool ok;
	int i;

	watchdog_stage("control: MSIs through the host's VFIO handler");
	for (i = 0; i < CONTROL_MSIS; i++) {
		edu_write(&r->edu, EDU_IRQ_RAISE, 1);
		if (poll(&pfd, 1, r->lost_after_s * 1000) == 1 &&
		    read(r->edu.eventfd, &v, 8) == 8)
			got += v;
		edu_write(&r->edu, EDU_IRQ_ACK, 1);
	}
	v = host_vfio_msis(r) - vfio0;
	ok = got == CONTROL_MSIS && v == CONTROL_MSIS;
	results_count(res, "control", "eventfd_msis", "count", got);
	results_count(res, "control", "host_vfio_msis", "count", v);
	report_control(
		h, "control", ok,
		"%d edu MSIs: eventfd carried %lu, host VFIO handler counted %lu",
		CONTROL_MSIS, got, v);
}

/* ---- the vLPI run ------------------------------------------------------------- */

static void *vcpu_thread(void *arg)
{
	its_vm_vcpu_loop(arg, &current_run->ready);
	return NULL;
}

/* Waits until the vCPU waits for LPI @seq, and with trapped WFI blocks. */
static bool wait_blocked(struct run *r, uint64_t seq)
{
	uint64_t end = tsc_now() + (uint64_t)(r->lost_after_s / 4 * tsc_hz());
	uint64_t blocking = 1;

	while (tsc_now() < end) {
		if (r->trap_wfi && r->stats_ok)
			kvm_stats_read(&r->stats, "blocking", &blocking);
		if (r->state->vcpu[0].waiting == seq && blocking)
			return true;
		sched_yield();
	}
	return false;
}

static void judge_vlpi(struct harness *h, struct run *r, double *lat,
		       size_t nlat, uint64_t db, uint64_t vfio,
		       uint64_t wakeups)
{
	const struct verdict_kind *verdicts = wakeup_verdicts;
	uint64_t handled = r->state->vcpu[0].lpis;
	struct results *res = &h->res;

	ktap_comment(
		&h->k,
		"vlpi: MSIs raised %lu, vLPIs handled %lu, stray %lu; doorbells %lu; "
		"host VFIO MSIs %lu; KVM wakeups %lu; WFI %s",
		r->raised, handled, r->state->vcpu[0].stray, db, vfio, wakeups,
		r->trap_wfi ? "trapped (wfi_trap_policy=trap)" :
			      "default policy");
	results_count(res, "vlpi", "msis_raised", "count", r->raised);
	results_count(res, "vlpi", "vlpis_handled", "count", handled);
	results_count(res, "vlpi", "doorbells", "count", db);
	results_count(res, "vlpi", "host_vfio_msis", "count", vfio);
	results_count(res, "vlpi", "halt_wakeups", "count", wakeups);
	results_count(res, "vlpi", "not_blocked", "count", r->not_blocked);
	if (r->its.same_counter)
		results_samples(res, "vlpi", "wakeup_latency", "ns", lat, nlat);
	else
		results_skip(res, "vlpi", "wakeup_latency",
			     r->its.why_not_same_counter);

	if (vfio)
		report_verdict(
			h, "vlpi", &verdict_not_provoked,
			"%lu of %lu MSIs went through the host's VFIO handler: not forwarded as vLPIs",
			vfio, r->raised);
	else if (handled != r->raised || r->state->vcpu[0].stray)
		report_verdict(h, "vlpi", &verdicts[WAKEUP_MISCOUNTED],
			       "%lu vLPIs handled for %lu MSIs, %lu stray",
			       handled, r->raised, r->state->vcpu[0].stray);
	else if (r->trap_wfi && db < r->raised - r->not_blocked)
		report_verdict(h, "vlpi", &verdicts[WAKEUP_MISSING_DOORBELL],
			       "%lu doorbells for %lu vLPIs to a blocked vCPU",
			       db, r->raised - r->not_blocked);
	else
		report_verdict(
			h, "vlpi", &verdicts[WAKEUP_DELIVERED],
			"%lu vLPIs, each handled once, 0 host VFIO MSIs, %lu doorbells%s",
			handled, db,
			r->trap_wfi ?
				"" :
				" (not asserted: WFI not trapped, kvm-arm.wfi_trap_policy=trap asserts it)");
}

static void run_vlpi(struct harness *h, struct run *r)
{
	struct lpi_wfi_params *p = &lpi_wfi_params;
	uint32_t gsi = 0, event = 0;
	uint64_t db0, w0 = 0, w1 = 0, vfio0, t0;
	double *lat = calloc(r->msis, sizeof(double));
	char why[160];
	size_t nlat = 0;
	int lines;
	uint32_t i;

	TEST_ASSERT(lat, "out of memory");
	watchdog_stage("vlpi: VM set-up");
	if (its_vm_create(&r->its, 1, DEVICE_ID, lpi_wfi_guest_main,
			  lpi_wfi_irq_handler, why, sizeof(why))) {
		report_skip(h, "vlpi", "verdict", "%s", why);
		free(lat);
		return;
	}
	/* KVM allocates one doorbell per vPE when the vgic uses GICv4. */
	doorbells(&lines);
	if (!lines) {
		snprintf(
			why, sizeof(why),
			"no GICv4 vPE doorbells in /proc/interrupts: KVM runs without GICv4 "
			"(needs a GICv4 host and kvm-arm.vgic_v4_enable=1)");
		report_skip(h, "vlpi", "verdict", "%s", why);
		its_vm_free(&r->its);
		free(lat);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->its = r->its.layout;
	p->expected_lpis[0] = r->msis;
	sync_global_to_guest(r->its.vm, lpi_wfi_params);
	memset(&lpi_wfi_state, 0, sizeof(lpi_wfi_state));
	sync_global_to_guest(r->its.vm, lpi_wfi_state);
	r->state = addr_gva2hva(r->its.vm, (vm_vaddr_t)&lpi_wfi_state);
	r->stats_ok = !kvm_stats_open(&r->stats, r->its.vcpu[0]->fd);

	pthread_barrier_init(&r->ready, NULL, 2);
	TEST_ASSERT(!pthread_create(&r->vcpu_thread, NULL, vcpu_thread,
				    r->its.vcpu[0]),
		    "pthread_create");
	watchdog_stage("vlpi: guest ITS mappings");
	pthread_barrier_wait(&r->ready);
	/* The guest's ITS now translates (device, event 0): KVM can VMAPTI. */
	its_vm_route_msi(&r->its, &gsi, &event, 1);
	TEST_ASSERT(!its_vm_irqfd(&r->its, r->edu.eventfd, gsi, true),
		    "KVM_IRQFD on the VFIO MSI eventfd");

	watchdog_stage("vlpi: MSIs");
	db0 = doorbells(&lines);
	vfio0 = host_vfio_msis(r);
	if (r->stats_ok)
		kvm_stats_read(&r->stats, "halt_wakeup", &w0);
	for (i = 0; i < r->msis; i++) {
		if (!wait_blocked(r, i + 1))
			r->not_blocked++;
		t0 = tsc_now();
		edu_write(&r->edu, EDU_IRQ_RAISE, 1);
		r->raised++;
		if (!its_vm_wait_count(&r->state->vcpu[0].lpis, i + 1,
				       r->lost_after_s)) {
			dump_run();
			report_bail_out(
				h, "vlpi", &wakeup_verdicts[WAKEUP_LOST],
				"vLPI %u not handled %.0f s after the MSI: vCPU left asleep",
				i + 1, r->lost_after_s);
		}
		lat[nlat++] =
			(double)(int64_t)(r->state->vcpu[0].last_lpi_stamp -
					  t0) *
			1e9 / tsc_hz();
		edu_write(&r->edu, EDU_IRQ_ACK, 1);
	}
	pthread_join(r->vcpu_thread, NULL);
	if (r->stats_ok)
		kvm_stats_read(&r->stats, "halt_wakeup", &w1);
	judge_vlpi(h, r, lat, nlat, doorbells(&lines) - db0,
		   host_vfio_msis(r) - vfio0, w1 - w0);

	its_vm_irqfd(&r->its, r->edu.eventfd, gsi, false);
	if (r->stats_ok)
		kvm_stats_close(&r->stats);
	its_vm_free(&r->its);
	free(lat);
}

/* ---- the descriptor ------------------------------------------------------------ */

static unsigned long opt_msis = 20, opt_lost_after = 10;
static const char *opt_device;

static void plan(struct harness *h)
{
	harness_add_case(h, NULL, "control");
	harness_add_case(h, NULL, "vlpi");
}

static void describe(struct harness *h, char *buf, size_t size)
{
	(void)h;
	snprintf(buf, size, "%lu MSIs; WFI %s; counter %lu Hz", opt_msis,
		 cmdline_has("kvm-arm.wfi_trap_policy=trap") ?
			 "trapped (kvm-arm.wfi_trap_policy=trap)" :
			 "default trap policy",
		 tsc_hz());
}

/* Both cases need the edu device: without it both SKIP with the reason. */
static void run(struct harness *h)
{
	struct run *r = calloc(1, sizeof(*r));
	char why[200] = "";

	TEST_ASSERT(r, "out of memory");
	if (opt_device)
		snprintf(r->edu.bdf, sizeof(r->edu.bdf), "%s", opt_device);
	r->msis = opt_msis;
	r->lost_after_s = opt_lost_after;
	r->trap_wfi = cmdline_has("kvm-arm.wfi_trap_policy=trap");
	current_run = r;

	if (!r->edu.bdf[0] && !find_edu(r->edu.bdf, sizeof(r->edu.bdf)))
		snprintf(
			why, sizeof(why),
			"no VFIO-capable test device: no edu (1234:11e8) PCI device (QEMU -device edu)");
	else if (!bind_vfio(r->edu.bdf, why, sizeof(why)))
		edu_open(&r->edu, why, sizeof(why));
	if (!why[0] && edu_read(&r->edu, EDU_ID) >> 16 != 0x0100)
		snprintf(why, sizeof(why), "%s is not an edu device (id 0x%x)",
			 r->edu.bdf, edu_read(&r->edu, EDU_ID));
	if (why[0]) {
		if (harness_wanted(h, "control"))
			report_skip(h, "control", "control", "%s", why);
		if (harness_wanted(h, "vlpi"))
			report_skip(h, "vlpi", "verdict", "%s", why);
		return;
	}
	ktap_comment(&h->k, "device %s (edu) bound to vfio-pci", r->edu.bdf);
	edu_enable_msi(&r->edu);
	if (harness_wanted(h, "control"))
		run_control(h, r);
	if (harness_wanted(h, "vlpi"))
		run_vlpi(h, r);
	edu_close(&r->edu);
}

static const struct harness_option options[] = {
	{ "msis", OPT_UINT, &opt_msis, 1, 1000000,
	  .help = "MSIs the edu device raises" },
	{ "device", OPT_STRING, &opt_device, .max = 31,
	  .help = "PCI address of the edu device (default: found)" },
	{ "lost-after", OPT_UINT, &opt_lost_after, 1, 3600,
	  .help = "seconds after which an unhandled vLPI is lost" },
	{}
};

HARNESS_MAIN(.name = "vlpi_doorbell", .options = options, .timeout = 300,
	     .plan = plan, .describe = describe, .run = run, .dump = dump_run);
