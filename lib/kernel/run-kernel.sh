#!/usr/bin/env bash
# run-kernel.sh: boot an x86-64 or arm64 kernel in QEMU, load its KVM, run
# irqbench tests inside (nested KVM) and bring the results back.
#
# usage: run-kernel.sh (--image BZIMAGE [--modules DIR|none] | --debian SERIES)
#          [--arch x86_64|arm64] [--gic 3|4]
#          [--accel tcg|kvm] [--cpu MODEL] [--smp N] [--mem MB]
#          [--timeout S] [--boot-timeout S] [--out DIR] [--profile P]
#          [--kvm-src DIR | --kvm-patch FILE] [--build-kernel] [--args "ARGS"] [--append "CMDLINE"] [--no-build]
#          [--test-args NAME=ARGS]... [--quiet] [--check] [TESTS...]
#
# Several places in one call (lib/kernel/places.sh): --debian 6.1,6.12,
# --kvm-patch/--kvm-src more than once (--kvm-patch none: Debian's own
# KVM), --places FILE, -j N, --place-timeout S, --list-places: booted
# concurrently, one results folder per place and a summary.
#
#        run-kernel.sh --debian list [--arch x86_64|arm64]
#
# --debian SERIES: the newest Debian kernel of a series the archive has (6.1,
# 6.12, 7.2, 7.3 ...; lib/kernel/fetch-debian.sh); --debian list prints them
# with their suite; --debian newest:SUITE is the newest series of SUITE
# (newest:trixie-backports: the newest upstream kernel Debian packages).
#
# TESTS are test names from tests.cfg (binary: build-static/<program>, built
# with `make static`) or paths to static executables (run without args).
# No TESTS: every test of the profile for the guest's arch.  Test args:
# args.<profile> from tests.cfg, or --args for every test named, or
# --test-args NAME=ARGS for test NAME alone (wins over both).  Default
# profile: nested under TCG (sizes that finish under emulation), quick with
# --accel kvm.
#
# --arch arm64 (default: x86_64): qemu-system-aarch64 -M virt,virtualization=on,
# gic-version=3 (--gic 4: GICv4.0, and kvm-arm.vgic_v4_enable=1 on the guest
# command line), -cpu max, an SMMUv3 and QEMU's "edu" PCI device (1234:11e8,
# for VFIO tests), results on a virtconsole.  --debian fetches Debian's arm64
# kernel and busybox-static:arm64; the tests are cross-built with
# `make ARCH=arm64 static` (build-static-arm64/).  KVM is built into arm64
# kernels, so there --kvm-patch FILE builds a whole kernel: Debian's
# linux-source of the --debian series, minimal for QEMU virt
# (lib/kernel/arm64-virt.config), FILE applied, cached
# (lib/kernel/build-arm64-kernel.sh); --build-kernel builds the same kernel
# without a patch (a mutant's clean twin).  --kvm-src is x86 only.
#
# Results: results/<timestamp>-<kernel release>/ (-2, -3... for runs started
# in the same second; or --out, new or empty): meta.json of the
# GUEST kernel (+ "kernel_runner", and "timing_comparable": false under TCG),
# results.jsonl, <test>.ktap, <test>.log, status.tsv, dmesg.txt, qemu.log.
# The results dir is printed last on stdout as "results: DIR".
#
# Environment: IRQBENCH_QEMU (QEMU binary), IRQBENCH_TCG_THREAD (single
# (default) or multi), IRQBENCH_CACHE (downloads and
# builds, default .cache/), IRQBENCH_STATIC_BUILD (default build-static/, or
# build-static-<arch>/ for a guest arch other than the host's).
#
# --check: only check the options, QEMU and the tests, fetch and boot
# nothing (run.sh bisect asks this before its first build); QEMU is started
# once with the run's machine, accel, CPU, vCPUs and memory, paused and
# without a kernel, and quits at once: options it refuses are an error
# (exit 2) here, not a boot failure later.
#
# Exit: 0 all tests passed or skipped; 1 boot failure, timeout, a test
# failed; 2 bad input (missing image, no KVM modules, vermagic mismatch,
# no qemu, unknown test); 3 the environment failed (a download, the
# results folder cannot be written).
set -euo pipefail
. "$(dirname "$0")/common.sh"
# shellcheck source=../run/table.sh
. "$REPO_ROOT/lib/run/table.sh"
# shellcheck source=../run/outdir.sh
. "$REPO_ROOT/lib/run/outdir.sh"

QEMU=${IRQBENCH_QEMU:-}

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

image='' modules='' debian='' accel=tcg cpu='' smp=2 mem=2048 timeout='' boot_timeout=90 arch=x86_64 gic=3
tcg_thread=${IRQBENCH_TCG_THREAD:-single} append_extra='' out='' profile='' kvm_src='' kvm_patch='' build=1 quiet=0 tests=() test_args='' have_args=0
have_out=0 have_kvm_src=0 have_kvm_patch=0 check=0 build_kernel=0
declare -A test_args_of=()
# Several places (lib/kernel/places.sh): the options that pick the places go
# to it by name, every other one to each place as it was given.
multi=0 multi_args=() place_args=() kvm_variants=0
parse_args() {
	local opt
	while [ $# -gt 0 ]; do
		opt=$1
		case $opt in
		-j | --jobs | --places | --place-timeout)
			[ $# -ge 2 ] || die 2 "option $opt needs a value (try --help)"
			multi=1 multi_args+=("$1" "$2")
			shift 2
			continue
			;;
		--list-places) multi=1 multi_args+=("$1"); shift; continue ;;
		--test-args)
			[ $# -ge 2 ] || die 2 "option $opt needs a value (try --help)"
			[[ $2 == ?*=* ]] || die 2 "--test-args wants NAME=ARGS, not '$2'"
			test_args_of[${2%%=*}]=${2#*=}
			place_args+=("$1" "$2")
			shift 2
			continue
			;;
		--image | --modules | --debian | --arch | --gic | --accel | --cpu | --smp | --mem | --timeout | \
			--boot-timeout | --out | --profile | --kvm-src | --kvm-patch | --args | --append)
			[ $# -ge 2 ] || die 2 "option $opt needs a value (try --help)"
			case $opt in
			--image) image=$2 ;;
			--modules) modules=$2 ;;
			--debian) debian=$2 ;;
			--arch) arch=$2 ;;
			--gic) gic=$2 ;;
			--accel) accel=$2 ;;
			--cpu) cpu=$2 ;;
			--smp) smp=$2 ;;
			--mem) mem=$2 ;;
			--timeout) timeout=$2 ;;
			--boot-timeout) boot_timeout=$2 ;;
			--out) out=$2; have_out=1 ;;
			--profile) profile=$2 ;;
			--kvm-src) kvm_src=$2; have_kvm_src=1 ;;
			--kvm-patch) kvm_patch=$2; have_kvm_patch=1 ;;
			--args) test_args=$2; have_args=1 ;;
			--append) append_extra=$2 ;;
			esac
			case $opt in
			--debian) [[ $2 != *,* ]] || multi=1; multi_args+=("$1" "$2") ;;
			--kvm-patch | --kvm-src)
				kvm_variants=$((kvm_variants + 1))
				[ "$kvm_variants" = 1 ] && [ "$opt $2" != "--kvm-patch none" ] || multi=1
				multi_args+=("$1" "$2")
				;;
			--out) multi_args+=("$1" "$2") ;;
			*) place_args+=("$1" "$2") ;;
			esac
			shift 2
			;;
		--no-build) build=0; place_args+=("$1"); shift ;;
		--build-kernel) build_kernel=1; place_args+=("$1"); shift ;;
		--quiet) quiet=1; place_args+=("$1"); shift ;;
		--check) check=1; place_args+=("$1"); shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; tests+=("$@"); break ;;
		-*) die 2 "unknown option $1 (try --help)" ;;
		*) tests+=("$1"); shift ;;
		esac
	done
	if [ $multi = 1 ]; then
		[ -z "${IRQBENCH_PLACE:-}" ] || die 2 "place $IRQBENCH_PLACE: one kernel and one KVM per place"
		exec "$KERNEL_LIB_DIR/places.sh" "${multi_args[@]}" -- "${place_args[@]}" "${tests[@]}"
	fi
	# One kernel: known before the set-up step or a newest:SUITE look-up.
	[ -z "$debian" ] || [ -z "$image" ] || die 2 "--debian and --image are exclusive"
	# Numbers first: QEMU would only say so after the kernel was fetched.
	case $smp in '' | *[!0-9]* | 0) die 2 "--smp wants a number of vCPUs > 0, not '$smp'" ;; esac
	case $mem in '' | *[!0-9]* | 0) die 2 "--mem wants megabytes > 0, not '$mem'" ;; esac
	case $boot_timeout in '' | *[!0-9]* | 0) die 2 "--boot-timeout wants seconds > 0, not '$boot_timeout'" ;; esac
	# (whether the archive has the series is fetch-debian.sh's to say)
	case $debian in '' | list | [0-9]*.[0-9]* | newest:?*) ;; *) die 2 "--debian wants a Debian series (6.1, 6.12, 7.3 ...), newest:SUITE or list, not '$debian' (usage: run.sh kernel --debian SERIES|list ...; try --help)" ;; esac
	[ $have_out = 0 ] || [ -n "$out" ] || die 2 "--out needs a directory"
	[ $have_kvm_patch = 0 ] || [ -n "$kvm_patch" ] || die 2 "--kvm-patch needs a patch file, not an empty name"
	[ $have_kvm_src = 0 ] || [ -n "$kvm_src" ] || die 2 "--kvm-src needs a kernel tree, not an empty name"
	[ -z "$kvm_patch" ] || [ -s "$kvm_patch" ] || [ ! -f "$kvm_patch" ] || die 2 "--kvm-patch $kvm_patch is empty"
	case $accel in tcg | kvm) ;; *) die 2 "--accel must be tcg or kvm" ;; esac
	case $arch in
	x86_64 | x86 | amd64) arch=x86_64 ;;
	arm64 | aarch64) arch=arm64 ;;
	*) die 2 "--arch must be x86_64 or arm64" ;;
	esac
	case $gic in 3 | 4) ;; *) die 2 "--gic must be 3 or 4" ;; esac
	[ "$gic" = 3 ] || [ "$arch" = arm64 ] || die 2 "--gic is for --arch arm64"
	if [ -z "$QEMU" ]; then
		QEMU=qemu-system-x86_64
		[ "$arch" = x86_64 ] || QEMU=qemu-system-aarch64
	fi
	# pauth-impdef: QEMU's own pointer-auth hash, far cheaper under TCG.
	[ -n "$cpu" ] || case $accel-$arch in
	tcg-x86_64) cpu=EPYC ;;
	tcg-arm64) cpu=max,pauth-impdef=on ;;
	*) cpu=host ;;
	esac
	[ -n "$profile" ] || { [ "$accel" = tcg ] && profile=nested || profile=quick; }
	[ -z "$kvm_src" ] || [ -z "$kvm_patch" ] || die 2 "--kvm-src and --kvm-patch are exclusive"
	[ "$arch" = x86_64 ] || [ -z "$kvm_src" ] ||
		die 2 "--kvm-src rebuilds x86 KVM modules; on arm64 (KVM built in) --kvm-patch builds a whole kernel"
	[ "$arch" = x86_64 ] || [ -z "$kvm_patch" ] || build_kernel=1
	[ $build_kernel = 0 ] || [ "$arch" = arm64 ] || die 2 "--build-kernel is for --arch arm64 (x86: --kvm-patch rebuilds the KVM modules only)"
	[ $build_kernel = 0 ] || [ -n "$debian" ] ||
		die 2 "--build-kernel and an arm64 --kvm-patch need --debian SERIES (the source and the guest's busybox)"
	[ -z "$kvm_patch" ] || [ -f "$kvm_patch" ] || die 2 "no such patch: $kvm_patch"
	[ -z "$kvm_src" ] || [ -d "$kvm_src" ] || die 2 "no such directory: $kvm_src"
	[ -z "$kvm_patch" ] || kvm_patch=$(realpath "$kvm_patch")
	[ -z "$kvm_src" ] || kvm_src=$(realpath "$kvm_src")
	case $timeout in '' | *[!0-9]*) [ -z "$timeout" ] || die 2 "--timeout wants seconds" ;; esac
}

# Resolve --debian / --image / --modules into IMAGE, KVER, MODULES.
KVER=''
resolve_kernel() {
	if [ -n "$debian" ]; then
		local env
		env=$("$KERNEL_LIB_DIR/fetch-debian.sh" --arch "$(deb_arch)" "$debian") || exit $?
		eval "$env"
		image=$IMAGE
		[ -n "$modules" ] || modules=$MODULES
		[ -z "${BUSYBOX:-}" ] || busybox=$BUSYBOX
		if [ $build_kernel = 1 ]; then
			image=$("$KERNEL_LIB_DIR/build-arm64-kernel.sh" --kver "$KVER" --pkgver "$PKGVER" \
				${kvm_patch:+--patch "$kvm_patch"}) || exit $?
			modules=none
			KVM_SOURCE="built-in, kernel built (lib/kernel/arm64-virt.config)${kvm_patch:+ + patch:$kvm_patch}"
		fi
	fi
	[ -n "$image" ] || die 2 "need --image BZIMAGE or --debian SERIES"
	[ -f "$image" ] || die 2 "no such kernel image: $image"
	if [ "$arch" = arm64 ]; then
		KVER=$(arm64_image_release "$image") || die 2 "$image is not an arm64 Image"
	else
		KVER=$(bzimage_release "$image") || die 2 "$image is not an x86 bzImage"
	fi
	[ -n "$KVER" ] || die 2 "$image has no kernel version string"
	if [ -z "$modules" ]; then
		# A kernel installed on this machine: its modules are in /lib/modules.
		[ -d "/lib/modules/$KVER" ] ||
			die 2 "no modules for $KVER: pass --modules DIR (lib/modules/$KVER) or --modules none (KVM built in)"
		modules=/lib/modules/$KVER
	fi
	if [ "$modules" != none ]; then
		[ -d "$modules" ] || die 2 "no such modules dir: $modules"
		# Accept an install root (INSTALL_MOD_PATH) as well as lib/modules/<ver>.
		[ -d "$modules/lib/modules/$KVER" ] && modules=$modules/lib/modules/$KVER
		modules=$(realpath "$modules")
	fi
}

# Rebuilt KVM modules for --kvm-src/--kvm-patch (cached by source hash).
KVM_OVERRIDE='' KVM_SOURCE=packaged
build_kvm() {
	[ -n "$kvm_src$kvm_patch" ] && [ $build_kernel = 0 ] || return 0
	[ "$modules" != none ] || die 2 "--kvm-src/--kvm-patch need packaged modules (not --modules none)"
	if [ -n "$kvm_patch" ]; then
		KVM_OVERRIDE=$("$KERNEL_LIB_DIR/build-kvm-modules.sh" --kver "$KVER" --patch "$kvm_patch") || exit $?
		KVM_SOURCE="patch:$kvm_patch"
	else
		KVM_OVERRIDE=$("$KERNEL_LIB_DIR/build-kvm-modules.sh" --kver "$KVER" --src "$kvm_src") || exit $?
		KVM_SOURCE="src:$kvm_src"
	fi
}

# Debian's and the kernel's names of the guest arch.
deb_arch() { [ "$arch" = arm64 ] && echo arm64 || echo amd64; }
karch() { [ "$arch" = arm64 ] && echo arm64 || echo x86; }
uname_arch() { [ "$arch" = arm64 ] && echo aarch64 || echo x86_64; }
busybox=/bin/busybox

# check_tests: fill TESTS from the profile when none were named; every name
# must be a test of the table for the guest's arch (checked before anything
# is fetched or built).
check_tests() {
	local t ua
	ua=$(uname_arch)
	table_load "$(table_default_file)" || die 2 "bad test table"
	if [ ${#tests[@]} -eq 0 ]; then
		for t in $(table_tests); do
			table_in_profile "$t" "$profile" && table_arch_ok "$t" "$ua" && tests+=("$t")
		done
		[ ${#tests[@]} -gt 0 ] || die 2 "no $ua tests in profile $profile"
	fi
	for t in "${tests[@]}"; do
		if [[ $t == */* ]]; then
			[ -x "$t" ] || die 2 "not an executable: $t"
			continue
		fi
		table_has "$t" || die 2 "unknown test: $t (see tests.cfg)"
		table_arch_ok "$t" "$ua" || die 2 "test $t does not run on $ua (arch = $(table_get "$t" arch))"
	done
	for t in "${!test_args_of[@]}"; do
		[[ " ${tests[*]} " == *" $t "* ]] || die 2 "--test-args $t=...: $t is not a test of this run"
	done
}

# Test list -> $work/tests.tsv (name, host binary, timeout, args).
STATIC_BUILD=''
TOTAL_TEST_TIMEOUT=0
select_tests() {
	local tsv=$1 t name bin to args need_build=0 ua
	ua=$(uname_arch)
	# Same layout as the Makefile: a foreign arch builds in its own dir.
	STATIC_BUILD=${IRQBENCH_STATIC_BUILD:-$REPO_ROOT/build-static}
	if [ -z "${IRQBENCH_STATIC_BUILD:-}" ] && [ "$ua" != "$(uname -m)" ]; then
		STATIC_BUILD=$REPO_ROOT/build-static-$(karch)
	fi
	for t in "${tests[@]}"; do
		[[ $t == */* ]] || need_build=1
	done
	if [ $need_build = 1 ] && [ $build = 1 ]; then
		log "make ARCH=$(karch) static"
		make -C "$REPO_ROOT" --no-print-directory ARCH="$(karch)" static >&2 || die 2 "make static failed"
	fi
	: >"$tsv"
	for t in "${tests[@]}"; do
		if [[ $t == */* ]]; then
			name=$(basename "$t"); bin=$(realpath "$t"); to=60; args=
		else
			name=$t; bin=$STATIC_BUILD/$(table_get "$t" program)
			to=$(table_get "$t" timeout); args=$(table_args "$t" "$profile")
		fi
		[ $have_args = 0 ] || args=$test_args
		[ -z "${test_args_of[$name]+set}" ] || args=${test_args_of[$name]}
		printf '%s\t%s\t%s\t%s\n' "$name" "$bin" "$to" "$args" >>"$tsv"
		TOTAL_TEST_TIMEOUT=$((TOTAL_TEST_TIMEOUT + to + 10))
	done
}

# The machine QEMU is started with: the base options (no default devices,
# no display, -no-reboot) in QEMU_BASE_ARGS, machine, accel, CPU, vCPUs and
# memory in QEMU_MACHINE_ARGS.  One place for the run (start_qemu) and for
# --check's question to QEMU (probe_qemu), so the two cannot drift apart.
QEMU_BASE_ARGS=(-nodefaults -no-reboot -display none) QEMU_MACHINE_ARGS=()
qemu_machine_args() {
	# Single-threaded TCG by default: with MTTCG (thread=multi) the guest
	# kernel sometimes oopses on an int3 in __schedule while KVM flips the
	# preempt-notifier static key (cross-modifying code race; 1 run in 3
	# here).  It costs little: 14 s vs 13 s for the same run.
	local accel_opt=$accel machine=q35
	[ "$accel" != tcg ] || accel_opt="tcg,thread=$tcg_thread"
	# arm64 virt: EL2 for KVM, the GIC asked for, an SMMUv3 in front of
	# the PCI bus so that VFIO can own the edu device.
	[ "$arch" != arm64 ] || machine=virt,virtualization=on,gic-version=$gic,iommu=smmuv3
	QEMU_MACHINE_ARGS=(-machine "$machine" -accel "$accel_opt" -cpu "$cpu" -smp "$smp" -m "$mem")
}

# --check: QEMU itself says whether it takes these options (a CPU model it
# does not know, KVM it cannot use, memory it cannot set up, too many
# vCPUs).  Without this a refusal shows only at run time, where it looks
# like a kernel that does not boot (run.sh bisect would skip every commit).
# QEMU starts with exactly the run's machine options, paused (-S), no
# kernel, and is told over QMP on stdin to quit at once; a QEMU that does
# not quit within QEMU_PROBE_TIMEOUT s is killed.
QEMU_PROBE_TIMEOUT=20
probe_qemu() {
	local err rc=0 line qmp=$'{"execute":"qmp_capabilities"}\n{"execute":"quit"}'
	qemu_machine_args
	err=$(timeout -k 2 "$QEMU_PROBE_TIMEOUT" "$QEMU" "${QEMU_BASE_ARGS[@]}" "${QEMU_MACHINE_ARGS[@]}" \
		-S -qmp stdio <<<"$qmp" 2>&1 >/dev/null) || rc=$?
	[ $rc != 0 ] || return 0
	case $rc in 124 | 137)
		die 3 "QEMU did not quit within ${QEMU_PROBE_TIMEOUT}s when asked about these options (${QEMU_MACHINE_ARGS[*]})" ;;
	esac
	# QEMU's own error line: the first "qemu-system-...: " line that is not
	# a warning ("failed to initialize kvm" comes after KVM's own line),
	# else the last line that is not a warning.
	line=$(printf '%s\n' "$err" | grep -v -e '^[[:space:]]*$' -e 'warning:' |
		awk -v p="${QEMU##*/}: " 'index($0, p) == 1 { print; found = 1; exit } { last = $0 } END { if (!found) print last }')
	die 2 "QEMU refuses these options (${QEMU_MACHINE_ARGS[*]}): ${line:-$QEMU exited $rc and said nothing}"
}

# Start QEMU in the background; console -> qemu.log, results -> results.serial.
QEMU_PID=''
start_qemu() {
	# quiet: console chatter costs 10-20 s under TCG.  panic=-1 + -no-reboot:
	# a panicking guest ends QEMU at once instead of waiting for the timeout.
	local initrd=$1 append="quiet panic=-1 oops=panic" args
	qemu_machine_args
	# arm64 virt: one PL011 only, so the results take a virtconsole (hvc0).
	if [ "$arch" = arm64 ]; then
		append="console=ttyAMA0 $append irqbench.results=hvc0"
		[ "$gic" = 3 ] || append="$append kvm-arm.vgic_v4_enable=1"
	else
		append="console=ttyS0 $append"
		# QEMU TCG's TSC is one host-derived clock for every vCPU, but
		# under load its clocksource watchdog sees read-back delays of
		# milliseconds and marks the TSC unstable; KVM then no longer
		# keeps its vCPUs' TSCs on one timeline (halt_wakeup's stamps).
		[ "$accel" != tcg ] || append="$append tsc=reliable"
	fi
	append="$append $append_extra"
	args=("${QEMU_BASE_ARGS[@]}" "${QEMU_MACHINE_ARGS[@]}"
		-kernel "$image" -initrd "$initrd" -append "$append"
		-chardev "file,id=con,path=$out/qemu.log" -serial chardev:con)
	if [ "$arch" = arm64 ]; then
		args+=(-device virtio-serial-pci -chardev "file,id=res,path=$work/results.serial"
			-device virtconsole,chardev=res -device edu)
	else
		args+=(-serial "file:$work/results.serial")
	fi
	echo "$QEMU ${args[*]}" >"$work/qemu.cmd"
	# --pdeathsig: a SIGKILL of this script, which no trap sees, takes
	# QEMU down with it too.
	setsid setpriv --pdeathsig KILL "$QEMU" "${args[@]}" </dev/null >"$work/qemu.stderr" 2>&1 &
	QEMU_PID=$!
	STARTED_GROUPS+=("$QEMU_PID")
}

# QEMU and the console streamer (tail | sed) each run in a process group of
# their own (setsid: not a group leader here, so it execs in place and the
# PID is the group's).  Every way out of this script (the end, an error
# under set -e, SIGTERM/SIGINT/SIGHUP) goes through on_exit, which takes
# the groups down: nothing of ours runs on after us.
STARTED_GROUPS=()
stop_groups() {
	local g i alive
	[ ${#STARTED_GROUPS[@]} -gt 0 ] || return 0
	for g in "${STARTED_GROUPS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
	for ((i = 0; i < 20; i++)); do
		alive=0
		for g in "${STARTED_GROUPS[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
		[ $alive = 1 ] || break
		sleep 0.1
	done
	for g in "${STARTED_GROUPS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
	STARTED_GROUPS=()
}
work=''
on_exit() {
	# Under set -e a failing command here would make the exit status 1,
	# whatever exit or signal brought us here (a CI run saw SIGHUP end in
	# exit 1, cause not reproduced): the clean-up says what fails, and the
	# status stays.
	set +e
	stop_groups
	[ -z "$work" ] || rm -rf "$work"
}
on_signal() {
	trap - "$1"
	echo "run-kernel.sh: stopped by SIG$1${QEMU_PID:+; QEMU killed, no results}" >&2
	exit "$2"
}

# Wait for QEMU to exit, streaming the console; kill it when it has not
# reached our init after $boot_timeout s, or is still running after $timeout.
# Sets WAIT_REASON (empty when QEMU exited by itself).
WAIT_REASON=''
wait_qemu() {
	local t0=$SECONDS tailpid='' start
	start=$(date +%s.%N)
	if [ $quiet = 0 ]; then
		# shellcheck disable=SC2016 # $1, $2 are sh's
		# (tail --pid: it ends when this script does, even by SIGKILL; sed then)
		setsid sh -c 'tail -n +1 -F --pid="$2" "$1" 2>/dev/null | sed -u "s/^/  | /"' sh "$out/qemu.log" $$ &
		tailpid=$!
		STARTED_GROUPS+=("$tailpid")
	fi
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if ((SECONDS - t0 >= timeout)); then
			WAIT_REASON="timed out after ${timeout}s"
		elif ((SECONDS - t0 >= boot_timeout)) && ! grep -q 'irqbench-guest:' "$out/qemu.log" 2>/dev/null; then
			WAIT_REASON="kernel did not reach init within ${boot_timeout}s"
		fi
		if [ -n "$WAIT_REASON" ]; then
			kill -- "-$QEMU_PID" 2>/dev/null; sleep 1; kill -9 -- "-$QEMU_PID" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_ERR=$(grep -v "warning: TCG doesn't support" "$work/qemu.stderr" | tail -n1 || true)
	BOOT_SECONDS=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	if [ -n "$tailpid" ]; then
		sleep 0.3 # let tail print the last lines
		kill -- "-$tailpid" 2>/dev/null || true
		wait "$tailpid" 2>/dev/null || true
	fi
}

# A write into $out failed: say why (a full folder is the common case),
# exit 3 (the environment), never a raw cp error and exit 1.
out_write_failed() {
	outdir_full "$out" && die 3 "results folder full: cannot write $1 into $out"
	die 3 "cannot write $1 into $out"
}

# Decode the base64(tar.gz) between the markers on ttyS1 into $out.
extract_results() {
	local f=$work/results.serial
	grep -q IRQBENCH-RESULTS-END "$f" 2>/dev/null || return 1
	cp "$f" "$out/results.serial"
	tr -d '\r' <"$f" | sed -n '/^IRQBENCH-RESULTS-BEGIN$/,/^IRQBENCH-RESULTS-END$/p' |
		sed '1d;$d' | base64 -d | tar -xzf - -C "$out"
}

# With --kvm-src/--kvm-patch, the guest must have loaded OUR kvm.ko: compare
# its GNU build ID (guest: /sys/module/kvm/notes) with the rebuilt one.
check_kvm_override() {
	[ -n "$KVM_OVERRIDE" ] || return 0
	local want got
	want=$(readelf -n "$KVM_OVERRIDE/kvm.ko" | awk '/Build ID:/ { print $3 }')
	got=$(awk '$1 == "kvm" { print $2 }' "$out/kvm_modules.txt" 2>/dev/null)
	[ "$want" = "$got" ] && return 0
	echo "run-kernel.sh: error: guest kvm.ko build ID '${got:-none}' is not the rebuilt '$want'" >&2
	return 1
}

# The guest died before sending results: recover each test's KTAP from the
# console (init tees it there) into <test>.ktap.console, and say which test
# was running.  Prints a short reason.
salvage_console() {
	local log=$out/qemu.log running
	awk -v out="$out" '
	/irqbench-guest: .* run / { for (i = 1; i < NF; i++) if ($i == "run") name = $(i + 1)
	                            file = out "/" name ".ktap.console"; next }
	/irqbench-guest:/ { file = ""; next }
	file != "" { print > file }' "$log" 2>/dev/null || true # no console at all: nothing to salvage
	running=$(awk '/irqbench-guest: .* run / { for (i = 1; i < NF; i++) if ($i == "run") t = $(i + 1) }
		/irqbench-guest: .* end / { t = "" } END { print t }' "$log" 2>/dev/null) || true
	if grep -q 'Kernel panic' "$log" 2>/dev/null; then
		echo "guest kernel panicked${running:+ while $running ran}"
	elif [ -n "$running" ]; then
		echo "guest died while $running ran"
	elif grep -q 'irqbench-guest:' "$log" 2>/dev/null; then
		echo "guest reached init but sent no results"
	else
		echo "kernel did not reach init (boot failure?)"
	fi
}

# Host-side additions to the guest's meta.json.
annotate_meta() {
	local m=$out/meta.json qv
	[ -f "$m" ] || return 0
	# A write that fails below is the folder's; a meta.json that is not JSON
	# is the guest's, kept as it came.
	jq -e . "$m" >/dev/null 2>&1 || { log "the guest's meta.json is not JSON: left as it came"; return 0; }
	qv=$("$QEMU" --version | head -n1)
	local runner
	runner=$(jq -n --arg accel "$accel" --arg cpu "$cpu" --arg image "$image" \
		--arg kver "$KVER" --arg kvm "$KVM_SOURCE" --arg kvmdir "$KVM_OVERRIDE" --arg qemu "$qv" \
		--argjson smp "$smp" --argjson boot "$BOOT_SECONDS" --arg arch "$arch" \
		--arg gic "$([ "$arch" = arm64 ] && echo "$gic")" \
		'{accel:$accel, cpu:$cpu, smp:$smp, image:$image, image_release:$kver,
		  kvm_modules:$kvm, kvm_modules_dir:$kvmdir, qemu:$qemu, boot_to_result_s:$boot,
		  arch:$arch} + (if $gic == "" then {} else {gic_version:($gic | tonumber)} end)')
	jq --argjson r "$runner" --argjson tc "$([ "$accel" = tcg ] && echo false || echo true)" \
		'. + {kernel_runner: $r, timing_comparable: $tc}' "$m" >"$m.tmp" 2>/dev/null && mv "$m.tmp" "$m" ||
		{ rm -f "$m.tmp"; out_write_failed meta.json; }
}

# One line per test, plus the verdict records of results.jsonl.
report() {
	local name result rc secs reason fails=0
	while IFS=$'\t' read -r name result rc secs reason; do
		echo "$name: $result (exit $rc, ${secs}s)${reason:+: $reason}"
		case $result in PASS | SKIP) ;; *) fails=$((fails + 1)) ;; esac
	done <"$out/status.tsv"
	if [ -s "$out/results.jsonl" ]; then
		jq -r 'select(.metric == "verdict") | "  \(.test) \(.variant // "-"): \(.value // "skipped")\(if .reason then " (\(.reason))" elif .skipped then " (\(.skipped))" else "" end)"' \
			"$out/results.jsonl" 2>/dev/null || true
	fi
	return $((fails > 0))
}

main() {
	parse_args "$@"
	[ "$debian" != list ] || exec "$KERNEL_LIB_DIR/fetch-debian.sh" --arch "$(deb_arch)" list
	# (3: apt could not fetch, the environment; 2: any other set-up failure)
	setup_pkgs kernel $([ "$arch" = arm64 ] && echo arm64) || { [ $? = 3 ] && exit 3; exit 2; }
	# newest:SUITE: the series it names today (the archive says; exit 2 for
	# a suite without kernels, 3 when the lists cannot be fetched).
	if [[ $debian == newest:* ]]; then
		local suite=${debian#newest:}
		debian=$("$KERNEL_LIB_DIR/fetch-debian.sh" --arch "$(deb_arch)" newest "$suite") || exit $?
		log "--debian newest:$suite: $debian"
	fi
	command -v "$QEMU" >/dev/null || die 2 "$QEMU not found (package list: lib/build/packages.list)"
	check_tests
	# --check: the options, QEMU and the tests are usable (run.sh bisect
	# asks before its first build); nothing is fetched or booted, QEMU is
	# only asked whether it takes the options.
	if [ $check = 1 ]; then
		probe_qemu
		exit 0
	fi
	trap on_exit EXIT
	trap 'on_signal TERM 143' TERM
	trap 'on_signal INT 130' INT
	trap 'on_signal HUP 129' HUP
	# --out first: a folder that cannot be used is known before a download.
	if [ -n "$out" ]; then
		# Never mix two runs' files in one folder.
		[ ! -e "$out" ] || [ -z "$(ls -A "$out" 2>/dev/null)" ] || die 2 "--out $out exists and is not empty"
		outdir_check_out "$out" || die 2 "$OUTDIR_ERR"
		out=$(realpath "$out")
	fi
	resolve_kernel
	build_kvm

	# Scratch space in the cache, not the system temp dir.
	scratch_new run || die 3 "cannot create a scratch folder in $CACHE_DIR/tmp"
	work=$SCRATCH
	select_tests "$work/tests.tsv"
	"$KERNEL_LIB_DIR/mkinitramfs.sh" --out "$work/initramfs.cpio.gz" --kver "$KVER" \
		--modules "$modules" ${KVM_OVERRIDE:+--kvm-override "$KVM_OVERRIDE"} \
		--tests "$work/tests.tsv" --profile "$profile" --arch "$arch" --busybox "$busybox" || exit $?

	[ -n "$timeout" ] || timeout=$((boot_timeout + TOTAL_TEST_TIMEOUT + 30))
	if [ -z "$out" ]; then
		outdir_new "${IRQBENCH_RESULTS_ROOT:-$REPO_ROOT/results}" "$(date +%Y%m%d-%H%M%S)-$KVER" || die 3 "$OUTDIR_ERR"
		out=$(realpath "$OUTDIR_NEW")
	fi
	log "kernel $KVER ($arch$([ "$arch" = x86_64 ] || echo ", GICv$gic")), KVM $KVM_SOURCE, accel $accel cpu $cpu, timeout ${timeout}s"
	[ "$accel" = tcg ] && echo "note: --accel tcg: latency/timing figures are emulation cost, not comparable (timing_comparable=false); counts and verdicts are valid"

	start_qemu "$work/initramfs.cpio.gz"
	wait_qemu
	cp "$work/qemu.cmd" "$out/" 2>/dev/null || out_write_failed qemu.cmd
	[ ! -s "$work/qemu.stderr" ] || cp "$work/qemu.stderr" "$out/" 2>/dev/null || out_write_failed qemu.stderr
	if [ -n "$WAIT_REASON" ]; then
		salvage_console >/dev/null
		echo "results: $out"
		die 1 "guest $WAIT_REASON; killed QEMU (console: $out/qemu.log)"
	fi
	if ! extract_results; then
		local why f
		# Unpacking cut short (a full disk): no torn last line, what was
		# written whole stays readable.
		for f in results.jsonl status.tsv; do outdir_cut_partial "$out/$f"; done
		outdir_full "$out" && out_write_failed "the guest's results"
		why=$(salvage_console)
		echo "results: $out"
		die 1 "$why; no results (console: $out/qemu.log${QEMU_ERR:+, qemu: $QEMU_ERR})"
	fi
	check_kvm_override || exit 1
	annotate_meta
	log "boot to result: ${BOOT_SECONDS}s"
	local rc=0
	report || rc=1
	echo "results: $out"
	return $rc
}
main "$@"
