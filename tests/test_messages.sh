#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Messages that say what is wrong: make KSRC=<typo> or a KSRC with a space
# fails with one line naming the reason and leaves build/ksrc.path alone (so
# the next plain make rebuilds nothing); halt_wakeup names the value it
# refuses.  Seconds.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
build=${IRQBENCH_BUILD:-$repo/build}
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_messages.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

if [ -f "$build/ksrc.path" ]; then
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
else
	skip "make KSRC=<typo> and KSRC with a space" "no $build/ksrc.path (run make first)"
fi

bin=$build/x86/halt_wakeup
if [ -x "$bin" ]; then
	rc=0
	"$bin" --wakes 10 --inject-lost-wakeup 99999 >/dev/null 2>"$tmp/err" || rc=$?
	check_eq "halt_wakeup --inject-lost-wakeup 99999: exit 2" "$rc" 2
	check "halt_wakeup --inject-lost-wakeup 99999: the line names the value" \
		grep -qx "halt_wakeup: --inject-lost-wakeup 99999 is past --wakes" "$tmp/err"
else
	skip "halt_wakeup --inject-lost-wakeup" "no $bin"
fi
tap_done
