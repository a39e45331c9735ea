// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-probe: the kernel runner's self-test program (static, no irqbench lib).
 * Checks that /dev/kvm works in the guest: KVM_GET_API_VERSION, KVM_CREATE_VM
 * and KVM_CREATE_VCPU.  Prints KTAP; appends one JSON line to
 * $IRQBENCH_RESULTS_DIR/results.jsonl.  Exit 0 pass, 1 fail, 4 skip (no
 * /dev/kvm), like the irqbench tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

static void record(const char *metric, const char *value)
{
	const char *dir = getenv("IRQBENCH_RESULTS_DIR");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f,
		"{\"test\":\"kvm_probe\",\"variant\":\"-\",\"metric\":\"%s\",\"value\":\"%s\"}\n",
		metric, value);
	fclose(f);
}

int main(void)
{
	struct utsname u;
	int kvm, vm, vcpu, api;

	uname(&u);
	printf("KTAP version 1\n1..3\n# kernel %s\n", u.release);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("ok 1 # SKIP /dev/kvm: %s\nok 2 # SKIP\nok 3 # SKIP\n",
		       strerror(errno));
		record("dev_kvm", "absent");
		return 4;
	}
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	printf("%s 1 api_version %d\n",
	       api == KVM_API_VERSION ? "ok" : "not ok", api);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	printf("%s 2 create_vm\n", vm >= 0 ? "ok" : "not ok");
	vcpu = vm >= 0 ? ioctl(vm, KVM_CREATE_VCPU, 0) : -1;
	printf("%s 3 create_vcpu\n", vcpu >= 0 ? "ok" : "not ok");
	record("dev_kvm", vcpu >= 0 ? "works" : "broken");
	printf("# totals: pass:%d fail:%d\n",
	       (api == KVM_API_VERSION) + (vm >= 0) + (vcpu >= 0),
	       (api != KVM_API_VERSION) + (vm < 0) + (vcpu < 0));
	return api == KVM_API_VERSION && vm >= 0 && vcpu >= 0 ? 0 : 1;
}
