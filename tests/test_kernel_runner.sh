#!/usr/bin/env bash
# Tests of lib/kernel/run-kernel.sh (the kernel-matrix runner).
#   bad input: one-line error, exit 2/1, no boot (seconds)
#   boot:      Debian 6.12 under QEMU TCG: /dev/kvm works in the guest and a
#              static test's KTAP and JSON came back (~10 s once cached; the
#              first run downloads ~107 MB); that folder exports as JUnit
#              and KCIDB (tests/export_valid.sh)
#   patched:   (IRQBENCH_KERNEL_TESTS=full) the fixture KVM patch builds and
#              the guest loads the rebuilt kvm.ko (~1 min the first time)
# IRQBENCH_KERNEL_TESTS=none skips the boots.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
run=$repo/lib/kernel/run-kernel.sh
level=${IRQBENCH_KERNEL_TESTS:-boot}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kernel_runner.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
# shellcheck source=tests/export_valid.sh
source "$here/export_valid.sh"


set_up build ksrc kernel

echo "TAP version 13"
# ---- bad input, no download or boot ----------------------------------------
expect_error 2 'no such kernel image' "missing image" -- "$run" --image "$tmp/nope" "$repo/tests/test_kernel_runner.sh"
expect_error 2 'not an x86 bzImage' "not a bzImage" -- "$run" --image /etc/hostname "$repo/tests/test_kernel_runner.sh"
expect_error 2 'not found' "qemu missing" -- env IRQBENCH_QEMU=/nonexistent/qemu "$run" --image /etc/hostname
expect_error 2 'unknown option' "unknown option" -- "$run" --frobnicate
expect_error 2 'accel must be' "bad --accel" -- "$run" --accel xen --image /etc/hostname

[ "$level" = none ] && tap_done

# ---- with a real Debian 6.12 image (downloaded once, cached) ---------------
if ! env=$("$repo/lib/kernel/fetch-debian.sh" 6.12 2>"$tmp/fetch.err"); then
	echo "# fetch-debian.sh 6.12 failed: $(tail -n1 "$tmp/fetch.err")"
	echo "# boot tests skipped (no Debian kernel)"
	tap_done
fi
eval "$env"
ok "fetch-debian.sh 6.12 -> $KVER"
t0=$SECONDS
"$repo/lib/kernel/fetch-debian.sh" 6.12 >/dev/null 2>"$tmp/fetch2.err"
if [ $((SECONDS - t0)) -le 2 ] && ! grep -q download "$tmp/fetch2.err"; then ok "second fetch is cached"; else not_ok "second fetch downloaded again"; fi

# Static probe: opens /dev/kvm, creates a VM and a vCPU, prints KTAP.
probe=$tmp/kvm_probe
gcc -O2 -static -o "$probe" "$repo/lib/kernel/kvm-probe.c" || skip_all "cannot build a static binary"

# Same image, but the sublevel of its version string is all nines (or all
# eights, if it already was): same length, and the modules no longer match.
fake=$tmp/vmlinuz-fake
cp "$IMAGE" "$fake"
off=$(grep -abo -m1 "$KVER (" "$fake" | cut -d: -f1)
fake_kver=$(perl -pe 's/^(\d+\.\d+\.)(\d+)/my ($v, $n) = ($1, $2); $v . ($n =~ \/^9+$\/ ? "8" : "9") x length($n)/e' <<<"$KVER")
if [ -z "$off" ] || [ "$fake_kver" = "$KVER" ]; then
	echo "Bail out! cannot find or change '$KVER' in $IMAGE"
	exit 1
fi
printf '%s' "$fake_kver" | dd of="$fake" bs=1 seek="$off" conv=notrunc status=none
expect_error 2 'vermagic mismatch' "modules do not match the image (vermagic)" -- "$run" --image "$fake" --modules "$MODULES" "$probe"

mkdir -p "$tmp/nokvm" && : >"$tmp/nokvm/modules.dep"
expect_error 2 'no KVM modules' "kernel without KVM modules" -- "$run" --image "$IMAGE" --modules "$tmp/nokvm" "$probe"
expect_error 2 'unknown test' "unknown test name" -- "$run" --image "$IMAGE" --modules "$MODULES" no_such_test
mkdir -p "$tmp/full" && touch "$tmp/full/x"
expect_error 2 'not empty' "--out not empty" -- "$run" --image "$IMAGE" --modules "$MODULES" --out "$tmp/full" "$probe"

# A bzImage whose payload is cut off: boots nowhere, killed at --boot-timeout.
head -c 3000000 "$IMAGE" >"$tmp/vmlinuz-cut"
t0=$SECONDS
expect_error 1 'did not reach init|no results' "image that does not boot" -- \
	"$run" --image "$tmp/vmlinuz-cut" --modules "$MODULES" --boot-timeout 20 --out "$tmp/cut" --quiet "$probe"
echo "# non-booting image reported in $((SECONDS - t0)) s"

# A guest that hangs before init (panic=0 after a panic: spins forever).
t0=$SECONDS
expect_error 1 'did not reach init within 15s' "hanging guest killed at --boot-timeout" -- \
	"$run" --image "$IMAGE" --modules "$MODULES" --boot-timeout 15 --append "rdinit=/nope root=/dev/nope panic=0" \
	--out "$tmp/hang" --quiet "$probe"
echo "# hanging guest killed after $((SECONDS - t0)) s"

# ---- real boot: nested KVM in Debian 6.12 ----------------------------------
t0=$SECONDS
if "$run" --debian 6.12 --out "$tmp/boot" --quiet "$probe" >"$tmp/boot.out" 2>"$tmp/boot.err"; then
	ok "boot Debian 6.12, kvm_probe passes ($((SECONDS - t0)) s: $(grep -o 'boot to result: .*' "$tmp/boot.err"))"
else
	not_ok "boot Debian 6.12 (exit $?): $(tail -n 3 "$tmp/boot.err" "$tmp/boot.out")"
fi
grep -q '^ok 3 create_vcpu' "$tmp/boot/kvm_probe.ktap" 2>/dev/null && ok "KTAP came back: /dev/kvm works in the guest" || not_ok "no KTAP from the guest"
grep -q '"value":"works"' "$tmp/boot/results.jsonl" 2>/dev/null && ok "results.jsonl came back" || not_ok "no results.jsonl"
[ "$(jq -r .kernel_release "$tmp/boot/meta.json" 2>/dev/null)" = "$KVER" ] && ok "meta.json describes the guest kernel ($KVER)" || not_ok "meta.json kernel_release is not $KVER"
[ "$(jq -r .timing_comparable "$tmp/boot/meta.json" 2>/dev/null)" = false ] && ok "TCG: timing_comparable false" || not_ok "timing_comparable not false under TCG"
grep -q 'emulation cost' "$tmp/boot.out" && ok "TCG note printed" || not_ok "no TCG note"
[ -s "$tmp/boot/qemu.log" ] && [ -f "$tmp/boot/kvm_probe.log" ] && ok "qemu.log and <test>.log present" || not_ok "qemu.log/<test>.log missing"
# The folder a real guest brought back exports as it is (JUnit, KCIDB).
export_valid "$tmp/boot" "the guest's results folder"

# ---- patched KVM modules (slow the first time: module build) ---------------
if [ "$level" = full ]; then
	t0=$SECONDS
	if "$run" --debian 6.12 --kvm-patch "$repo/tests/fixtures/kvm-fix/highest_stale_pending_ioapic_eoi.patch" \
		--out "$tmp/patched" --quiet "$probe" >"$tmp/p.out" 2>"$tmp/p.err" &&
		grep -q '^kvm .* taint=OE' "$tmp/patched/kvm_modules.txt"; then
		ok "fixture patch builds; guest loads the rebuilt kvm.ko ($((SECONDS - t0)) s)"
	else
		not_ok "patched KVM run: $(tail -n 3 "$tmp/p.err")"
	fi
fi

tap_done
