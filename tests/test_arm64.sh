#!/usr/bin/env bash
# arm64 (issue 7, seed 002): cross-build and TCG guest runs.
#   build:  `make ARCH=arm64 static` cross-builds the arm64 tests (static
#           aarch64 ELF in build-static-arm64/); on an arm64 host the same
#           Makefile builds natively
#   input:  the runner's arm64 options reject bad input with one line
#   boot:   Debian 6.12 arm64 under qemu-system-aarch64 TCG, GICv3 and GICv4
#           (+ kvm-arm.wfi_trap_policy=trap): lpi_wfi_wakeup and
#           vlpi_doorbell run in nested KVM; counts are asserted (every LPI /
#           vLPI handled once, control passes, doorbells >= vLPIs under
#           trap, no host VFIO MSI once forwarded), never times.
#           Both guests boot at once (run.sh kernel --places); ~15 s per
#           boot once cached; the first run downloads ~95 MB.
# IRQBENCH_KERNEL_TESTS=none skips the boots.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
run=$repo/lib/kernel/run-kernel.sh
level=${IRQBENCH_KERNEL_TESTS:-boot}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
# check_expr DESC EXPR: ok if the shell expression EXPR holds.
check_expr() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }


# jsonl RUN TEST VARIANT METRIC: the record's value.
value() {
	jq -r --arg t "$2" --arg v "$3" --arg m "$4" \
		'select(.test == $t and .variant == $v and .metric == $m) | .value' \
		"$1/results.jsonl" 2>/dev/null | head -n1
}

echo "TAP version 13"
# ---- cross-build --------------------------------------------------------------
set_up build ksrc kernel arm64 check
t0=$SECONDS
if ! nice make -C "$repo" -s --no-print-directory ARCH=arm64 static >"$tmp/make.log" 2>&1; then
	not_ok "make ARCH=arm64 static: $(grep -m3 -E 'error|Error' "$tmp/make.log" | tr '\n' ' ')"
	tap_done
fi
ok "make ARCH=arm64 static ($((SECONDS - t0)) s)"
for p in lpi_wfi_wakeup vlpi_doorbell; do
	bin=$repo/build-static-arm64/arm64/$p
	if file "$bin" 2>/dev/null | grep -q 'ARM aarch64.*statically linked' ||
		{ readelf -h "$bin" 2>/dev/null | grep -q AArch64 && ! readelf -l "$bin" | grep -q INTERP; }; then
		ok "$p is a static aarch64 binary"
	else
		not_ok "$p is not a static aarch64 binary"
	fi
done

# ---- bad input: no boot ------------------------------------------------------
expect_error 2 'gic must be 3 or 4' "--gic 5" -- "$run" --arch arm64 --gic 5 --image /etc/hostname
expect_error 2 'gic is for --arch arm64' "--gic 4 on x86_64" -- "$run" --gic 4 --image /etc/hostname
expect_error 2 'arch must be' "--arch mips" -- "$run" --arch mips --image /etc/hostname
expect_error 2 'not an arm64 Image' "x86 file as an arm64 image" -- "$run" --arch arm64 --image /etc/hostname --modules none
# A whole-kernel build (lib/kernel/build-arm64-kernel.sh) needs the series.
expect_error 2 'need --debian SERIES' "arm64 --kvm-patch without --debian" -- \
	"$run" --arch arm64 --kvm-patch "$repo/tests/fixtures/mutants/doorbell-lost.patch" --image /etc/hostname
expect_error 2 'build-kernel is for --arch arm64' "--build-kernel on x86_64" -- "$run" --build-kernel --debian 6.12
expect_error 2 'kvm-src rebuilds x86 KVM modules' "--kvm-src on arm64" -- "$run" --arch arm64 --kvm-src /tmp --debian 6.12

[ "$level" = none ] && tap_done

if ! "$repo/lib/kernel/fetch-debian.sh" --arch arm64 6.12 >"$tmp/env" 2>"$tmp/fetch.err"; then
	not_ok "fetch-debian.sh --arch arm64 6.12: $(tail -n1 "$tmp/fetch.err")"
	tap_done
fi
ok "Debian arm64 kernel and busybox: $(sed -n 's/^KVER=//p' "$tmp/env")"
expect_error 2 'does not run on aarch64' "x86 test under --arch arm64" -- \
	"$run" --arch arm64 --debian 6.12 --no-build ioapic_eoi_reuse

# Both guests at once (run.sh kernel --places, -j: the number of CPUs), each
# running both tests with the nested profile's sizes: GICv3, and GICv4 with
# trapped WFI.
printf '%s\n' "gicv3 | --arch arm64 --debian 6.12 --gic 3" \
	"gicv4 | --arch arm64 --debian 6.12 --gic 4 --append kvm-arm.wfi_trap_policy=trap" >"$tmp/places"
t0=$SECONDS
nice "$run" --places "$tmp/places" -j "$(nproc)" --no-build --quiet --out "$tmp/p" \
	lpi_wfi_wakeup vlpi_doorbell >"$tmp/p.out" 2>"$tmp/p.err"
echo "# both guests in parallel (-j $(nproc)): $((SECONDS - t0)) s, exit $?; load after: $(cat /proc/loadavg)"
for g in 3 4; do
	if [ "$(awk -F '\t' -v n="gicv$g" '$1 == n { print $2 }' "$tmp/p/summary.tsv" 2>/dev/null)" = PASS ]; then
		ok "GICv$g guest: both tests pass or skip ($(grep -o 'boot to result: .*' "$tmp/p/gicv$g.log"))"
	else
		not_ok "GICv$g guest: $(tail -n 4 "$tmp/p/gicv$g.log" "$tmp/p.err" 2>/dev/null | tr '\n' ' ')"
	fi
done

# Every variant delivered, each LPI handled exactly once, control passed.
check_lpis() {
	local d=$1 gic=$2 v inj got
	check_expr "GICv$gic: lpi_wfi_wakeup control passed" \
		'[ "$(value "$d" lpi_wfi_wakeup control.unmapped_event control)" = pass ]'
	for v in signal_msi irqfd irqfd+spi; do
		inj=$(value "$d" lpi_wfi_wakeup "$v" lpis_injected)
		got=$(value "$d" lpi_wfi_wakeup "$v" lpis_handled)
		check_expr "GICv$gic: $v: $got of ${inj:-?} LPIs handled, verdict delivered" \
			'[ -n "$inj" ] && [ "$inj" -gt 0 ] && [ "$got" = "$inj" ] &&
			[ "$(value "$d" lpi_wfi_wakeup "$v" verdict)" = delivered ]'
	done
	check_expr "GICv$gic: KTAP names are the records' variants (both tests)" \
		'python3 "$here/tap.py" names "$d/lpi_wfi_wakeup.ktap" "$d/results.jsonl" lpi_wfi_wakeup &&
		python3 "$here/tap.py" names "$d/vlpi_doorbell.ktap" "$d/results.jsonl" vlpi_doorbell'
	inj=$(value "$d" lpi_wfi_wakeup irqfd+spi spis_injected)
	got=$(value "$d" lpi_wfi_wakeup irqfd+spi spis_handled)
	check_expr "GICv$gic: irqfd+spi: $got of ${inj:-?} concurrent SPIs handled" \
		'[ -n "$inj" ] && [ "$inj" -gt 0 ] && [ "$got" = "$inj" ]'
}

# ---- GICv3: emulated ITS; no vPE doorbells, so vlpi_doorbell SKIPs --------
check_lpis "$tmp/p/gicv3" 3
check_expr "GICv3: vlpi_doorbell SKIPs for want of GICv4" \
	'grep -q "^ok 2 vlpi # SKIP .*GICv4" "$tmp/p/gicv3/vlpi_doorbell.ktap"'
check_expr "GICv3: meta.json gic_version 3" \
	'[ "$(jq -r .kernel_runner.gic_version "$tmp/p/gicv3/meta.json" 2>/dev/null)" = 3 ]'

# ---- GICv4 with trapped WFI: vLPIs, doorbells ------------------------------
check_lpis "$tmp/p/gicv4" 4
d=$tmp/p/gicv4
raised=$(value "$d" vlpi_doorbell vlpi msis_raised)
handled=$(value "$d" vlpi_doorbell vlpi vlpis_handled)
db=$(value "$d" vlpi_doorbell vlpi doorbells)
check_expr "GICv4: vlpi_doorbell control: the host's VFIO handler saw the edu MSIs" \
	'[ "$(value "$d" vlpi_doorbell control control)" = pass ]'
check_expr "GICv4: $handled of ${raised:-?} vLPIs handled, none lost" \
	'[ -n "$raised" ] && [ "$raised" -gt 0 ] && [ "$handled" = "$raised" ]'
check_expr "GICv4: forwarded: 0 MSIs through the host's VFIO handler" \
	'[ "$(value "$d" vlpi_doorbell vlpi host_vfio_msis)" = 0 ]'
check_expr "GICv4 + wfi_trap_policy=trap: doorbells ${db:-?} >= vLPIs ${raised:-?}" \
	'[ -n "$db" ] && [ -n "$raised" ] && [ "$db" -ge "$raised" ]'
check_expr "GICv4: vlpi verdict delivered" \
	'[ "$(value "$d" vlpi_doorbell vlpi verdict)" = delivered ]'
check_expr "GICv4: meta.json gic_version 4" \
	'[ "$(jq -r .kernel_runner.gic_version "$d/meta.json" 2>/dev/null)" = 4 ]'

tap_done
