#!/usr/bin/env bash
# Tests of lib/kernel/bisect.sh's verdict -> exit code mapping (0 good,
# 1 bad, 125 skip, 128 abort), with a stand-in runner (IRQBENCH_RUN_KERNEL)
# that writes canned results: no kernel, no QEMU, a few seconds.
# Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
bisect=$repo/lib/kernel/bisect.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kernel_bisect.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
"$repo/lib/build/setup.sh" build kernel || { echo "Bail out! set-up failed"; exit 1; }

# Stand-in runner (tests/fixtures/bisect/runner): STUB_STATUS (status.tsv
# verdict, empty = no results), STUB_VERDICTS ("variant=verdict ..."),
# STUB_CONSOLE (qemu.log), STUB_RC; a fake bzImage, a fake QEMU.
fix=$repo/tests/fixtures/bisect
"$fix/make-bzimage" "$tmp/bzImage"
printf '#!/bin/sh\nexit 0\n' >"$tmp/qemu" && chmod +x "$tmp/qemu"
export IRQBENCH_QEMU=$tmp/qemu

# case WANT DESC ENV... -- BISECT-ARGS...
case_() {
	local want=$1 desc=$2 rc envs=()
	shift 2
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env IRQBENCH_RUN_KERNEL="$fix/runner" "${envs[@]}" "$bisect" --tree "$tmp" --image "$tmp/bzImage" \
		--results "$tmp/results" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ $rc = "$want" ]; then echo "ok $n - $desc -> $rc"; else
		failed=1; echo "not ok $n - $desc: exit $rc, want $want ($(cat "$tmp/out") $(tail -n1 "$tmp/err"))"; fi
}

echo "TAP version 13"
case_ 1 "stale-exits is bad by default" STUB_STATUS=PASS STUB_VERDICTS="split.dest.msi=stale-exits split.vector.msi=unaffected" --
case_ 0 "fixed plus unaffected vector variants is good" STUB_STATUS=PASS STUB_VERDICTS="split.dest.msi=fixed split.vector.msi=unaffected" --
case_ 0 "all fixed is good" STUB_STATUS=PASS STUB_VERDICTS="split.dest.msi=fixed" --
case_ 0 "verdict decides even when the test exits 1" STUB_STATUS=FAIL STUB_RC=1 STUB_VERDICTS="a=fixed" --
case_ 0 "--good stale-exits --bad fixed (find the fix)" STUB_STATUS=PASS STUB_VERDICTS="a=stale-exits" -- --good stale-exits --bad fixed
case_ 1 "--good stale-exits --bad fixed, fixed is bad" STUB_STATUS=PASS STUB_VERDICTS="a=fixed" -- --good stale-exits --bad fixed
case_ 0 "--variant filters records" STUB_STATUS=PASS STUB_VERDICTS="split.dest.msi=fixed split.vector.msi=stale-exits" -- --variant split.dest
case_ 0 "--good list with two verdicts" STUB_STATUS=PASS STUB_VERDICTS="a=fixed b=lost-eoi" -- --good fixed,lost-eoi
case_ 125 "only not-provoked is skip" STUB_STATUS=PASS STUB_VERDICTS="a=not-provoked" --
case_ 125 "only unmeasured (tests.cfg verdicts.unjudged) is skip by default" STUB_STATUS=PASS STUB_VERDICTS="a=unmeasured b=unaffected" --
case_ 1 "an unjudged verdict named in --bad is bad, not skipped" STUB_STATUS=PASS STUB_VERDICTS="a=unmeasured" -- --bad unmeasured
case_ 125 "test SKIP is skip" STUB_STATUS=SKIP STUB_RC=0 --
case_ 1 "test failure without verdict is bad, never skip" STUB_STATUS=FAIL STUB_RC=1 --
case_ 1 "test timeout without verdict is bad" STUB_STATUS=FAIL STUB_REASON="timeout after 9s" STUB_RC=1 --
case_ 125 "boot failure is skip" STUB_RC=1 STUB_CONSOLE="Kernel panic - not syncing: VFS" --
case_ 1 "guest died while the test ran is bad" STUB_RC=1 STUB_CONSOLE="irqbench-guest: [3.1] run ioapic_eoi_reuse timeout=180s args:" --
case_ 125 "runner refused the kernel (exit 2) is skip" STUB_RC=2 --
case_ 125 "pass without verdict is skip" STUB_STATUS=PASS --
case_ 128 "unknown test aborts the bisect" STUB_STATUS=PASS -- --test no_such_test
case_ 128 "unknown option aborts" -- --frobnicate
case_ 125 "a skipped verdict record (value null) is skip, not bad" STUB_STATUS=skip STUB_VERDICTS="a=null" --
case_ 128 "the test refused its arguments in the guest (exit 2) aborts" STUB_STATUS=fail STUB_TEST_RC=2 --
case_ 128 "runner exit 3 (download failed) aborts" STUB_RC=3 --
echo "1..$n"
exit $failed
