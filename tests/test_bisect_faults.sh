#!/usr/bin/env bash
# run.sh bisect under a real `git bisect run`, on small throwaway histories
# like the README example, with the stand-in runner of tests/fixtures/bisect
# (nothing boots: seconds).  One case per class of exit code: a real --bad
# verdict or a failed test names the culprit (1); what belongs to one commit
# (no boot) is skipped (125); bad usage, unknown verdict or variant names,
# test or runner arguments that are refused, no QEMU, a bad --image,
# --jobs or --config, a failed download abort (128) before anything is
# built or booted, with one "error:" line naming the cause.
# Exit 0 pass, 1 fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
fix=$repo/tests/fixtures/bisect
# shellcheck source=tests/tap.sh
. "$here/tap.sh"
# git (build), jq (kernel): a missing one fails the set-up, never a skip.
set_up build kernel
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_bisect_faults.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

export IRQBENCH_RUN_KERNEL=$fix/runner STUB_LOG=$tmp/runs
printf '#!/bin/sh\nexit 0\n' >"$tmp/qemu" && chmod +x "$tmp/qemu"
export IRQBENCH_QEMU=$tmp/qemu
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
"$fix/make-bzimage" "$tmp/bzImage"

# history STEP...: a fresh repo, one commit "step N" per STEP, whose
# kernel.args holds the stand-in runner's words for that commit.
history() {
	local i=0 s
	rm -rf "$tmp/h" && git init -q "$tmp/h" || return 1
	for s; do
		i=$((i + 1))
		printf '# step %d\n--debian 6.12 %s\n' "$i" "$s" >"$tmp/h/kernel.args"
		git -C "$tmp/h" add kernel.args && git -C "$tmp/h" commit -qm "step $i" || return 1
	done
}
fixed='--stub-status pass --stub-verdicts split.dest.msi=fixed,split.vector.msi=unaffected'
stale='--stub-status pass --stub-verdicts split.dest.msi=stale-exits,split.vector.msi=unaffected'
# A verdict that judges nothing (tests.cfg's verdicts.unjudged: the test
# could not measure, and SKIPs that subtest).
unmeasured='--stub-status pass --stub-verdicts split.dest.msi=unmeasured,split.vector.msi=unaffected'
noboot='--stub-rc 1 --stub-console Kernel-panic'
failed='--stub-status fail --stub-test-rc 1'

# bisect ARGS...: git bisect run run.sh bisect ARGS over the whole history
# (newest bad, oldest good); output in $tmp/out, driver lines in $tmp/lines.
bisect() {
	: >"$tmp/runs"
	(
		cd "$tmp/h" || exit 1
		git bisect start HEAD "$(git rev-list --max-parents=0 HEAD)" >/dev/null &&
			git bisect run "$repo/run.sh" bisect --results "$tmp/results" "$@"
		echo "git-bisect-run-exit $?"
		git bisect log
		git bisect reset >/dev/null
	) >"$tmp/out" 2>&1
	grep -E '^bisect: |error:' "$tmp/out" >"$tmp/lines"
}
step_of() { git -C "$tmp/h" log -1 --format=%s "$1"; }
culprit() { sed -n 's/^\([0-9a-f]\{40\}\) is the first bad commit$/\1/p' "$tmp/out" | head -n1; }

# expect_culprit DESC STEP: git bisect named "step STEP" first bad.
expect_culprit() {
	local c
	c=$(culprit)
	if [ -n "$c" ] && [ "$(step_of "$c")" = "step $2" ]; then
		ok "$1: first bad commit is step $2 ($(grep -c '^bisect: ' "$tmp/lines") commits tested)"
	else
		not_ok "$1: first bad commit is step $2" "$(tail -n 8 "$tmp/out" | tr '\n' '|')"
	fi
}

# expect_abort DESC PATTERN: the driver exited 128 at the first commit
# with one error line matching PATTERN, nothing was booted, and git marked
# no commit good, bad or skipped.
expect_abort() {
	local errs marks
	errs=$(grep -c '^run.sh bisect: error:' "$tmp/lines")
	marks=$(grep -cE '^git bisect (good|bad|skip) ' "$tmp/out")
	if grep -q 'bisect run failed: exit code 128' "$tmp/out" && [ "$errs" = 1 ] &&
		grep '^run.sh bisect: error:' "$tmp/lines" | grep -qE -- "$2" && [ ! -s "$tmp/runs" ] && [ "$marks" = 0 ]; then
		ok "$1: abort (128): $(grep '^run.sh bisect: error:' "$tmp/lines")"
	else
		not_ok "$1: abort (128) matching '$2', nothing booted, no commit marked" \
			"errors=$errs runs=$(wc -l <"$tmp/runs") marks=$marks: $(grep -E 'error|bisect:' "$tmp/out" | head -n 3 | tr '\n' '|')"
	fi
}

# --- what belongs to the commit -------------------------------------------
history "$fixed" "$fixed" "$fixed" "$stale" "$stale" "$stale"
bisect --args-file kernel.args
expect_culprit "a --bad verdict (stale-exits) from step 4 on" 4
check "no commit skipped" test "$(grep -c -- '-> skip' "$tmp/lines")" = 0

history "$fixed" "$fixed" "$failed" "$failed" "$failed" "$failed"
bisect --args-file kernel.args
expect_culprit "a test that ran and failed, without a verdict, is bad" 3

history "$fixed" "$fixed" "$noboot" "$stale" "$stale" "$stale"
bisect --args-file kernel.args
if grep -q 'could be any of' "$tmp/out" && grep -q -- '-> skip (125): kernel did not boot' "$tmp/lines"; then
	ok "a commit that does not boot is skipped (125): git says the culprit is step 3 or 4"
else
	not_ok "a commit that does not boot is skipped (125)" "$(tail -n 6 "$tmp/out" | tr '\n' '|')"
fi

# unmeasured is in ioapic_eoi_reuse's verdicts.unjudged: the default --skip
# (that list) skips it, never calls it bad.
history "$fixed" "$unmeasured" "$unmeasured" "$fixed" "$stale" "$stale"
bisect --args-file kernel.args
expect_culprit "a commit whose only verdicts are unjudged (unmeasured) is skipped, not bad" 5
if grep -q -- '-> skip (125): only skip verdicts: split.dest.msi=unmeasured' "$tmp/lines" &&
	! grep -- '-> bad' "$tmp/lines" | grep -q unmeasured; then
	ok "unmeasured: skip (125), never bad"
else
	not_ok "unmeasured: skip (125), never bad" "$(grep unmeasured "$tmp/lines" | tr '\n' '|')"
fi

# --- the set-up, not the commit: abort before anything boots -------------
history "$fixed" "$fixed" "$fixed" "$stale" "$stale" "$stale"
for opt in --variant --good --args-file --jobs; do
	bisect --args-file kernel.args "$opt"
	expect_abort "$opt without its value (last argument)" "option $opt needs a value"
done
bisect --args-file kernel.args --good fixd
expect_abort "an unknown verdict name (--good fixd)" "no verdict 'fixd'"
bisect --args-file kernel.args --skip not-provoked,unafected
expect_abort "an unknown verdict name (--skip)" "no verdict 'unafected'"
bisect --args-file kernel.args --variant split.destt
expect_abort "an unknown variant (--variant split.destt)" "no variant of ioapic_eoi_reuse contains 'split.destt'"
bisect --args-file kernel.args --variant vector -- --args "--reuses 100 --variant dest"
expect_abort "a variant the test's own --variant leaves out" "no variant .* contains 'vector'"
bisect --args-file kernel.args -- --args "--reuses abc"
expect_abort "a typo in the test's arguments (--args '--reuses abc')" "refuses its arguments .*bad --reuses 'abc'"
bisect --args-file kernel.args -- --smpp 2
expect_abort "a runner option typo (--smpp)" "runner options refused: .*unknown option --smpp"
bisect --args-file kernel.args -- --smp abc
expect_abort "a bad runner value (--smp abc)" "runner options refused: .*--smp wants a number"
# A runner option QEMU itself refuses: run-kernel.sh --check asks the real
# QEMU (IRQBENCH_QEMU empty: qemu-system-x86_64; the stand-in takes
# anything) instead of every commit's boot failing (skipped).
IRQBENCH_QEMU='' bisect --args-file kernel.args -- --cpu Nope
expect_abort "a CPU model QEMU does not know (--cpu Nope)" \
	"runner options refused: run-kernel.sh: error: QEMU refuses these options \(.*-cpu Nope .*\): qemu-system-x86_64: unable to find CPU model 'Nope'$"
IRQBENCH_QEMU=$tmp/no-qemu bisect --args-file kernel.args
expect_abort "QEMU missing" "runner options refused: .*no-qemu not found"
# No QEMU on PATH: a PATH of everything else.
mkdir -p "$tmp/noqemu"
for f in /usr/local/bin/* /usr/bin/* /usr/sbin/*; do
	[ "${f##*/}" = qemu-system-x86_64 ] || ln -sf "$f" "$tmp/noqemu/"
done
PATH=$tmp/noqemu IRQBENCH_QEMU='' bisect --args-file kernel.args
expect_abort "QEMU missing from PATH" "set-up failed .*not on PATH: qemu-system-x86_64"
# One kernel per run: --image and a --debian for the runner are refused
# before anything (run-kernel.sh would refuse them at every commit: skipped).
bisect --image "$tmp/bzImage" --modules none -- --debian 6.12
expect_abort "--image with a --debian after --" "--image and --debian .* exclusive"
bisect --image "$tmp/bzImage" --modules none --args-file kernel.args
expect_abort "--image with a --debian in the --args-file" "--image and --debian \(in kernel.args at [0-9a-f]+\) are exclusive"
bisect --image /etc/hostname
expect_abort "an --image that is not a bzImage" "--image /etc/hostname is not an x86 bzImage"
bisect --args-file kernel.args --jobs abc
expect_abort "--jobs abc" "--jobs wants a number"
bisect --config "$tmp/no-such.config"
expect_abort "a missing --config file" "no such --config file"
bisect
expect_abort "no kernel tree, no --image, no --args-file" "not a kernel tree"
bisect --args-file kernel.args --test no_such_test
expect_abort "an unknown test" "unknown test 'no_such_test'"

# A download failure is the environment: it aborts at the first commit it
# meets (the stand-in runner exits 3 as run-kernel.sh does then).
history "$fixed" "--stub-rc 3" "--stub-rc 3" "--stub-rc 3" "--stub-rc 3" "$stale"
bisect --args-file kernel.args
if grep -q 'bisect run failed: exit code 128' "$tmp/out" &&
	grep '^run.sh bisect: error:' "$tmp/lines" | grep -q 'outside the commit (exit 3): .*download failed' &&
	! grep -qE '^git bisect (good|bad|skip) ' "$tmp/out"; then
	ok "a download failure (runner exit 3) aborts: $(grep '^run.sh bisect: error:' "$tmp/lines")"
else
	not_ok "a download failure (runner exit 3) aborts" "$(grep -E 'error|bisect' "$tmp/out" | head -n 4 | tr '\n' '|')"
fi

# The same --image for every commit does not boot: no commit can be tested,
# abort after that one boot.  An image of the tree's own (rebuilt per commit
# by the caller) that does not boot is that commit's: skipped.
history "$fixed" "$fixed" "$stale"
STUB_RC=1 STUB_CONSOLE=Kernel-panic bisect --image "$tmp/bzImage" --modules none
if grep -q 'bisect run failed: exit code 128' "$tmp/out" && [ "$(grep -c 'error:' "$tmp/lines")" = 2 ] &&
	grep '^run.sh bisect: error:' "$tmp/lines" | grep -q -- "--image .*bzImage did not boot to init .* the same for every commit" &&
	[ "$(wc -l <"$tmp/runs")" = 1 ] && ! grep -qE '^git bisect (good|bad|skip) ' "$tmp/out"; then
	ok "an --image that does not boot, the same for every commit: abort (128) after one boot"
else
	not_ok "an --image that does not boot, the same for every commit: abort (128) after one boot" \
		"runs=$(wc -l <"$tmp/runs"): $(grep -E 'error|bisect:' "$tmp/out" | head -n 3 | tr '\n' '|')"
fi
cp "$tmp/bzImage" "$tmp/h/bzImage"
STUB_RC=1 STUB_CONSOLE=Kernel-panic bisect --image bzImage --modules none
if grep -q 'only skipped commits left' "$tmp/out" && grep -q -- '-> skip (125): kernel did not boot' "$tmp/lines"; then
	ok "an --image of the tree's own that does not boot: skipped (125)"
else
	not_ok "an --image of the tree's own that does not boot: skipped (125)" "$(tail -n 4 "$tmp/out" | tr '\n' '|')"
fi

# The test refused its arguments inside the guest (exit 2): abort as well.
history "$fixed" "--stub-status fail --stub-test-rc 2" "--stub-status fail --stub-test-rc 2" "--stub-status fail --stub-test-rc 2" "--stub-status fail --stub-test-rc 2" "$stale"
bisect --args-file kernel.args
if grep -q 'bisect run failed: exit code 128' "$tmp/out" && grep 'error:' "$tmp/lines" | grep -q "refused its arguments in the guest: .*bad --reuses" &&
	! grep -qE '^git bisect (good|bad|skip) ' "$tmp/out"; then
	ok "a test refusing its arguments in the guest aborts"
else
	not_ok "a test refusing its arguments in the guest aborts" "$(grep -E 'error|bisect' "$tmp/out" | head -n 4 | tr '\n' '|')"
fi
tap_done
