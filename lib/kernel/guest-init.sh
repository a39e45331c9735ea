#!/bin/sh
# /init of the irqbench kernel-matrix initramfs (busybox sh).
#
# Runs as PID 1 in a QEMU guest built by lib/kernel/mkinitramfs.sh:
#   1. mounts proc, sys, dev, tracefs, debugfs
#   2. loads the KVM modules (decompressed, in dependency order; arm64: KVM
#      is built in, VFIO modules are loaded)
#   3. writes /results/meta.json (lib/run/meta.sh: describes THIS kernel)
#   4. runs each test of /irqbench/tests.tsv under its timeout, KTAP tee'd to
#      the console so the host can stream progress
#   5. sends /results back as base64(tar.gz) between markers on ttyS1
#   6. powers off
# Console lines of our own start with "irqbench-guest:"; the host watches for
# any "irqbench-guest:" line to know the kernel reached userspace.
#
# Why ttyS1 and not 9p/virtio: the 8250 UART is built into every x86 distro
# kernel, so no extra modules are needed and any kernel that boots can report.
# arm64 "virt" has one PL011 (the console): results go to a virtconsole
# (/dev/hvc0, virtio-console is built into Debian's arm64 kernel), named by
# irqbench.results=hvc0 on the kernel command line.

PATH=/bin:/sbin
export PATH
# A foreign busybox could not list its applets when the image was packed.
[ -e /bin/mount ] || /bin/busybox --install -s /bin
RES=/results
# The status schema and exit-code classifier (lib/run/status.sh).
. /irqbench/lib/run/status.sh
MARK_BEGIN=IRQBENCH-RESULTS-BEGIN
MARK_END=IRQBENCH-RESULTS-END

# Uptime prefix: shows where boot-to-result time goes.
say() { echo "irqbench-guest: [$(cut -d' ' -f1 /proc/uptime 2>/dev/null)] $*"; }

# Module parameters on the kernel command line for module $1 (name with _).
module_params() {
	local w
	for w in $(cat /proc/cmdline); do
		case $(echo "${w%%=*}" | tr - _) in
		"$1".*) echo "${w#*.}" ;;
		esac
	done
}

mount_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		say "warning: no tracefs"
	mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
	mkdir -p /tmp "$RES"
	mount -t tmpfs tmpfs /tmp
}

# Load /irqbench/modules/order.<vendor> (one .ko per line, deps first).
# The vendor follows the guest CPU's flags: svm -> amd, vmx -> intel.
load_kvm() {
	vendor=''
	grep -qw svm /proc/cpuinfo && vendor=amd
	grep -qw vmx /proc/cpuinfo && vendor=intel
	[ "$(uname -m)" = aarch64 ] && vendor=arm64
	list=/irqbench/modules/order.$vendor
	if [ -z "$vendor" ]; then
		say "warning: guest CPU has neither svm nor vmx: no KVM"
		return
	fi
	if [ ! -f "$list" ]; then
		say "no KVM modules packed for $vendor (built-in KVM?)"
		return
	fi
	while read -r ko; do
		[ -n "$ko" ] || continue
		name=$(basename "$ko" .ko | tr - _)
		[ -d "/sys/module/$name" ] && continue
		# insmod does not read the command line (modprobe would): pass
		# the module's "name.param=value" words (--append) ourselves.
		# shellcheck disable=SC2046 # one word per parameter
		if ! insmod "/irqbench/modules/$ko" $(module_params "$name") >>"$RES/modules.log" 2>&1; then
			say "insmod $ko failed: $(tail -n 1 "$RES/modules.log")"
		fi
	done <"$list"
	# GNU build IDs let the host check that rebuilt modules were the ones
	# loaded (the note's last 20 bytes are the ID).
	for m in irqbypass ccp kvm kvm_amd kvm_intel vfio vfio_pci; do
		[ -d "/sys/module/$m" ] || continue
		id=$(od -An -v -tx1 "/sys/module/$m/notes/.note.gnu.build-id" 2>/dev/null | tr -d ' \n' | tail -c 40)
		echo "$m ${id:-unknown} taint=$(cat "/sys/module/$m/taint" 2>/dev/null)"
	done >"$RES/kvm_modules.txt"
	if [ -e /dev/kvm ]; then say "/dev/kvm ready (kvm-$vendor)"; else say "warning: no /dev/kvm"; fi
	# arm64: which GIC (v3/v4) and mode KVM found, for the console log.
	[ "$vendor" != arm64 ] || dmesg | grep 'kvm \[' | grep -iE 'gic|mode' | sed 's/^/irqbench-guest: /'
}

write_meta() {
	. /irqbench/env
	if [ -f /irqbench/lib/run/meta.sh ]; then
		IRQBENCH_PROFILE=$PROFILE IRQBENCH_TESTS=$TESTS IRQBENCH_REPO=/irqbench \
			IRQBENCH_BUILD=/irqbench/build sh /irqbench/lib/run/meta.sh "$RES" ||
			say "warning: meta.sh failed"
	fi
	[ -f "$RES/meta.json" ] && return
	# Fallback when the checkout has no lib/run/meta.sh: the bare minimum.
	printf '{"schema": 1, "kernel_release": "%s", "arch": "%s", "dev_kvm": %s}\n' \
		"$(uname -r)" "$(uname -m)" "$([ -e /dev/kvm ] && echo true || echo false)" >"$RES/meta.json"
}

# run_test NAME TIMEOUT ARGS: stdout (KTAP) -> NAME.ktap and the console,
# stderr -> NAME.log; exit status -> status.tsv, classified and written as
# run.sh does (lib/run/status.sh).  SIGTERM at the timeout, SIGKILL 10 s
# later, as run.sh does natively.
run_test() {
	name=$1 to=$2 args=$3
	say "run $name timeout=${to}s args: $args"
	t0=$(date +%s)
	# shellcheck disable=SC2086 # args are split at whitespace, like tests.cfg
	(
		cd "$RES" || exit 1
		IRQBENCH_RESULTS_DIR=$RES timeout -s TERM -k 10 "$to" \
			"/irqbench/bin/$name" $args 2>"$RES/$name.log"
		echo $? >"/tmp/$name.rc"
	) | tee "$RES/$name.ktap"
	rc=$(cat "/tmp/$name.rc" 2>/dev/null || echo 255)
	t1=$(date +%s)
	status_classify "$rc" $((t1 - t0)) "$to"
	status_reason "$rc" "$RES/$name.ktap" "$RES/$name.log"
	status_line "$name" "$STATUS_RESULT" "$rc" "$((t1 - t0))" "$STATUS_REASON" >>"$RES/status.tsv"
	say "end $name rc=$rc $STATUS_RESULT $((t1 - t0))s"
}

run_tests() {
	: >"$RES/status.tsv"
	tab=$(printf '\t')
	while IFS=$tab read -r name to args; do
		[ -n "$name" ] && run_test "$name" "$to" "$args"
	done </irqbench/tests.tsv
}

# base64(tar.gz of /results) between markers on the second serial port.
send_results() {
	tty=ttyS1
	for w in $(cat /proc/cmdline); do
		case $w in irqbench.results=*) tty=${w#irqbench.results=} ;; esac
	done
	dmesg >"$RES/dmesg.txt" 2>&1
	stty -F "/dev/$tty" raw -echo 2>/dev/null
	{
		echo "$MARK_BEGIN"
		tar -C "$RES" -cf - . | gzip -c | base64
		echo "$MARK_END"
	} >"/dev/$tty"
	say "results sent ($(du -sk "$RES" | cut -f1) KiB)"
}

main() {
	mount_fs
	say "init $(uname -r)"
	load_kvm
	write_meta
	say "meta.json written"
	run_tests
	send_results
	say "done"
	sync
	poweroff -f
	# Still here?  Exiting PID 1 panics; panic=-1 + -no-reboot stops QEMU.
	exit 1
}
main
