#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Messages that say what is wrong: make KSRC=<typo> or a KSRC with a space
# fails with one line naming the reason and leaves build/ksrc.path alone (so
# the next plain make rebuilds nothing), as does a tree whose headers or
# selftests set-up fails; halt_wakeup names the value it
# refuses; a /dev/kvm that is not KVM is a SKIP with the reason, and exit
# codes are classified as what they are.  Seconds.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
build=${IRQBENCH_BUILD:-$repo/build}
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_messages.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

# make check builds before it tests: no build/ksrc.path, no
# halt_wakeup on x86, is a failure here, not a skip.
if [ ! -f "$build/ksrc.path" ]; then
	not_ok "make KSRC=<typo> and KSRC with a space" "no $build/ksrc.path (run make first)"
else
	cp "$build/ksrc.path" "$tmp/ksrc.path"
	rc=0
	make -s -C "$repo" BUILD="$build" KSRC="$tmp/no-such-tree" >/dev/null 2>"$tmp/err" || rc=$?
	check "make KSRC=<typo>: fails" test "$rc" != 0
	check "make KSRC=<typo>: says the tree does not exist" grep -q "KSRC=$tmp/no-such-tree: no such directory" "$tmp/err"
	check "make KSRC=<typo>: build/ksrc.path untouched" cmp -s "$tmp/ksrc.path" "$build/ksrc.path"
	mkdir -p "$tmp/a b"
	rc=0
	make -s -C "$repo" BUILD="$build" KSRC="$tmp/a b" >/dev/null 2>"$tmp/err" || rc=$?
	check "make KSRC='a b': fails" test "$rc" != 0
	check "make KSRC='a b': one line naming the space as the reason" \
		grep -q "KSRC='$tmp/a b' has a space" "$tmp/err"
	check "make KSRC='a b': build/ksrc.path untouched" cmp -s "$tmp/ksrc.path" "$build/ksrc.path"
fi

# A tree that passes the check (a Makefile, tools/testing/selftests/kvm/
# Makefile) but fails its set-up: headers_install fails (tree "hdr"), or
# the headers install and the selftests' variables cannot be read (tree
# "vars").  The last good set-up stays: ksrc.path, kheaders/ and
# selftests.mk as they were.  A throwaway BUILD (a copy of what a good
# build leaves there), never the real one.
mkdir -p "$tmp/hdr/tools/testing/selftests/kvm" "$tmp/vars/tools/testing/selftests/kvm"
printf 'headers_install:\n\t@echo "no headers here" >&2; exit 1\n' >"$tmp/hdr/Makefile"
printf 'all:\n' >"$tmp/hdr/tools/testing/selftests/kvm/Makefile"
# (the recipe's $$ is make's $: a shell variable)
printf 'headers_install:\n\t@mkdir -p $(INSTALL_HDR_PATH)/include/linux && echo "/* fake */" >$(INSTALL_HDR_PATH)/include/linux/kvm.h\n' \
	>"$tmp/vars/Makefile"
printf '$(error this selftests Makefile is broken)\n' >"$tmp/vars/tools/testing/selftests/kvm/Makefile"
# same_tree A B: no difference between the two folders (shown if any).
same_tree() {
	diff -r "$1" "$2" >"$tmp/diff" && return 0
	sed 's/^/#   /' "$tmp/diff"
	return 1
}
for t in hdr vars; do
	b=$tmp/build-$t
	mkdir -p "$b/kheaders/include/linux"
	echo /good/tree >"$b/ksrc.path"
	echo "/* good */" >"$b/kheaders/include/linux/kvm.h"
	echo "SELFTESTS_LIBKVM := good" >"$b/selftests.mk"
	cp -r "$b" "$tmp/before-$t"
	rc=0
	make -s -C "$repo" BUILD="$b" KSRC="$tmp/$t" >/dev/null 2>"$tmp/err" || rc=$?
	check "make KSRC=<a tree whose set-up fails ($t)>: fails" test "$rc" != 0
	check "make KSRC=<a tree whose set-up fails ($t)>: ksrc.path, kheaders/, selftests.mk unchanged, no staging left" \
		same_tree "$tmp/before-$t" "$b"
done

bin=$build/x86/halt_wakeup
if [ "$(uname -m)" != x86_64 ]; then
	skip "halt_wakeup --inject-lost-wakeup" "an x86 program"
elif [ ! -x "$bin" ]; then
	not_ok "halt_wakeup --inject-lost-wakeup" "$bin not built (make programs)"
else
	rc=0
	"$bin" --wakes 10 --inject-lost-wakeup 99999 >/dev/null 2>"$tmp/err" || rc=$?
	check_eq "halt_wakeup --inject-lost-wakeup 99999: exit 2" "$rc" 2
	check "halt_wakeup --inject-lost-wakeup 99999: the line names the value" \
		grep -qx "halt_wakeup: --inject-lost-wakeup 99999 is past --wakes" "$tmp/err"
fi
# /dev/kvm that is not a KVM device (bound to /dev/null): the test SKIPs
# with the reason, never "crashed (signal 126)".
if ((EUID == 0)) && [ -x "$bin" ]; then
	rc=0
	# shellcheck disable=SC2016 # $1, $2 are sh's
	unshare -m sh -c 'mount --bind /dev/null /dev/kvm && exec "$1" run halt_wakeup --out "$2"' sh \
		"$repo/run.sh" "$tmp/kvmnull" >"$tmp/out" 2>&1 || rc=$?
	check_eq "/dev/kvm bound to /dev/null: run.sh run exits 0 (a skip)" "$rc" 0
	check_eq "/dev/kvm bound to /dev/null: SKIP (exit 4) with the reason" \
		"$(cut -f1-3,5 "$tmp/kvmnull/status.tsv" 2>/dev/null | tr '\t' '|')" \
		"halt_wakeup|SKIP|4|/dev/kvm is not a usable KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device)"
else
	skip "/dev/kvm bound to /dev/null" "needs root (mount --bind) and $bin"
fi
# The one classifier of exit codes (lib/run/status.sh): 254 is a selftests
# assertion, 126 could not start, only 129..192 are signals.
# shellcheck source=lib/run/status.sh
source "$repo/lib/run/status.sh"
for c in "254|FAIL|assertion failed (exit 254, TEST_ASSERT)" "126|FAIL|could not start (exit 126)" \
	"139|FAIL|crashed (signal 11)" "4|SKIP|" "2|FAIL|bad input (exit 2)"; do
	status_classify "${c%%|*}" 1 10
	check_eq "exit ${c%%|*}: ${c#*|}" "${c%%|*}|$STATUS_RESULT|$STATUS_WHY" "$c"
done
tap_done
