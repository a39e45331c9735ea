#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Nothing of run-kernel.sh runs on after it: QEMU (a stand-in that starts
# a child of its own, as QEMU's helpers would) and the console streamer
# (tail -F | sed) are taken down when the runner gets SIGTERM or SIGHUP and
# when it gives up on a guest that does not boot; checked by the PIDs the
# runs started.  Its scratch files stay in the cache folder, none in the
# system temp dir; one that SIGKILL left there is removed by the next run.
# Runs started in the same second get folders of their
# own.  A fake bzImage, nothing boots: seconds.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
run=$repo/lib/kernel/run-kernel.sh
# shellcheck source=tests/tap.sh
source "$here/tap.sh"
[ -x /bin/busybox ] || skip_all "no /bin/busybox (busybox-static) for the initramfs and as the static test"
command -v setsid >/dev/null || skip_all "no setsid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kernel_processes.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

"$repo/tests/fixtures/bisect/make-bzimage" "$tmp/bzImage"
cat >"$tmp/qemu" <<'EOS'
#!/bin/sh
# QEMU stand-in: never boots; it and a child of its own note their PIDs.
# FAKE_ONE: one process, as QEMU is (its threads die with it).
echo $$ >>"$FAKE_PIDS"
[ -z "${FAKE_ONE-}" ] || exec sleep 300
sleep 300 &
echo $! >>"$FAKE_PIDS"
wait
EOS
chmod +x "$tmp/qemu"
mkdir -p "$tmp/systmp" "$tmp/cache"
export IRQBENCH_QEMU=$tmp/qemu TMPDIR=$tmp/systmp IRQBENCH_CACHE=$tmp/cache

# descendants PID: PID's children, theirs, and so on.
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}
# start NAME ARGS...: the runner in the background with the stand-in QEMU,
# once it and its helpers run: RUNNER, and their PIDs in $tmp/NAME.pids.
start() {
	local name=$1 i want=2
	[ -z "${FAKE_ONE-}" ] || want=1
	shift
	export FAKE_PIDS=$tmp/$name.qemu
	: >"$FAKE_PIDS"
	"$run" --image "$tmp/bzImage" --modules none --no-build --out "$tmp/$name" "$@" /bin/busybox \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	RUNNER=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(wc -l <"$FAKE_PIDS")" -ge "$want" ] && pgrep -P "$RUNNER" >/dev/null && break
		sleep 0.1
	done
	# The console streamer (tail | sed) starts after QEMU: wait for it
	# rather than a fixed time (0.5 s was once too short under load).
	for ((i = 0; i < 100; i++)); do
		descendants "$RUNNER" | xargs -r ps -o comm= -p | grep -qx tail && break
		sleep 0.1
	done
	{ cat "$FAKE_PIDS"; descendants "$RUNNER"; } | sort -u >"$tmp/$name.pids"
}
# none_alive NAME: every PID the run started is gone (within 3 s).
none_alive() {
	local i p left
	for ((i = 0; i < 30; i++)); do
		left=''
		for p in $(cat "$tmp/$1.pids"); do
			kill -0 "$p" 2>/dev/null && left="$left $p($(ps -o comm= -p "$p"))"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "#   still running:$left"
	return 1
}

for sig in TERM HUP; do
	start "$sig"
	n=$(wc -l <"$tmp/$sig.pids")
	check "SIG$sig: QEMU, its child and tail/sed were running ($n PIDs)" \
		test "$n" -ge 5 -a -n "$(ps -o comm= -p "$(paste -sd, "$tmp/$sig.pids")" | grep -x tail)"
	kill -"$sig" "$RUNNER"
	rc=0
	wait "$RUNNER" || rc=$?
	want=$((128 + $(kill -l "$sig")))
	check_eq "SIG$sig: the runner exits $want" "$rc" "$want"
	# A rare CI failure (exit 1, no line) left nothing to read: keep it.
	[ "$rc" = "$want" ] || sed 's/^/#   runner: /' "$tmp/$sig.err" | tail -n 8
	check "SIG$sig: one line says so" grep -qx "run-kernel.sh: stopped by SIG$sig; QEMU killed, no results" "$tmp/$sig.err"
	check "SIG$sig: nothing it started is left" none_alive "$sig"
done

# A guest that never reaches init: the runner gives up and kills QEMU's group.
start noboot --boot-timeout 1
rc=0
wait "$RUNNER" || rc=$?
check_eq "no boot: exit 1" "$rc" 1
check "no boot: one error line" grep -q 'error: guest kernel did not reach init within 1s; killed QEMU' "$tmp/noboot.err"
check "no boot: nothing it started is left" none_alive noboot

check_eq "no scratch files in the system temp dir" "$(ls -A "$tmp/systmp")" ""
check_eq "the cache's scratch folders are gone too" "$(ls -A "$tmp/cache/tmp" 2>/dev/null)" ""

# SIGKILL: no trap runs.  QEMU (--pdeathsig) and tail (--pid) still go
# with the runner, and its scratch folder is in the cache, not the system
# temp dir.
export FAKE_ONE=1
start KILL
unset FAKE_ONE
kill -KILL "$RUNNER"
wait "$RUNNER" 2>/dev/null
check "SIGKILL: QEMU, tail and sed were running ($(wc -l <"$tmp/KILL.pids") PIDs)" \
	test -n "$(ps -o comm= -p "$(paste -sd, "$tmp/KILL.pids")" | grep -x tail)"
check "SIGKILL: nothing it started is left" none_alive KILL
check_eq "SIGKILL: no scratch files in the system temp dir" "$(ls -A "$tmp/systmp")" ""
killed=$(ls -d "$tmp"/cache/tmp/run.* 2>/dev/null)
check "SIGKILL: its scratch folder is left in the cache only" test -n "$killed"
# The next run removes it (its owner is gone), and keeps a live one's.
mkdir -p "$tmp/cache/tmp/run.alive" && echo "$$ $(awk '{ print $22 }' /proc/$$/stat)" >"$tmp/cache/tmp/run.alive/.owner"
start after --boot-timeout 1
wait "$RUNNER" 2>/dev/null
check_eq "the next run removed the killed run's scratch folder, not a live one's" "$(ls "$tmp/cache/tmp")" "run.alive"
rm -rf "$tmp/cache/tmp"

# A download that fails is said to be one (exit 3, the environment), not a
# boot failure: an apt-get that cannot reach the archive, an empty cache.
mkdir -p "$tmp/noapt"
printf '#!/bin/sh\necho "E: Failed to fetch (no network)" >&2\nexit 100\n' >"$tmp/noapt/apt-get"
chmod +x "$tmp/noapt/apt-get"
expect_error 3 "fetch-debian.sh: error: download failed: apt-get (download|update)" "a failed download: exit 3, 'download failed'" -- \
	env PATH="$tmp/noapt:$PATH" IRQBENCH_CACHE="$tmp/nocache" "$run" --debian 6.12 --no-build /bin/busybox

# The same on the --kvm-patch path: the headers package of the image's
# kernel (one the system's apt lists, faked) cannot be fetched.  Not "cannot
# install" with exit 2, which run.sh bisect reads as a skip of the commit.
mkdir -p "$tmp/noapt-kvm" "$tmp/mods"
printf '#!/bin/sh\necho "E: Failed to fetch http://deb.debian.org/debian/pool/main/l/linux/x.deb  Temporary failure resolving deb.debian.org" >&2\nexit 100\n' >"$tmp/noapt-kvm/apt-get"
cat >"$tmp/noapt-kvm/apt-cache" <<'EOS'
#!/bin/sh
# apt-cache stand-in: the system's lists know every package, at one version.
case $1 in
pkgnames) echo "$2" ;;
show) printf 'Package: %s\nVersion: 6.12.0-1\n' "$2" ;;
esac
EOS
chmod +x "$tmp/noapt-kvm/apt-get" "$tmp/noapt-kvm/apt-cache"
echo "--- a/x" >"$tmp/kvm.patch"
if ((EUID == 0)); then
	expect_error 3 "build-kvm-modules.sh: error: download failed: .*linux-headers-6.12.0-fake" \
		"--kvm-patch, a failed download of the headers: exit 3, 'download failed'" -- \
		env PATH="$tmp/noapt-kvm:$PATH" IRQBENCH_CACHE="$tmp/nocache" XDG_CACHE_HOME="$tmp/xdg" \
		"$run" --image "$tmp/bzImage" --modules "$tmp/mods" --kvm-patch "$tmp/kvm.patch" --no-build /bin/busybox
else
	skip "--kvm-patch, a failed download of the headers" "needs root (setup.sh installs only as root)"
fi

# A read-only --out: one line, exit 2, before anything is fetched.
mkdir -p "$tmp/ro"
if ((EUID == 0)) && mount -t tmpfs -o size=64k,ro irqbench-test "$tmp/ro" 2>/dev/null; then
	expect_error 2 "run-kernel.sh: error: cannot write in --out directory $tmp/ro: Read-only file system$" "read-only --out" -- \
		"$run" --image "$tmp/bzImage" --modules none --no-build --out "$tmp/ro" /bin/busybox
	expect_error 2 "run-kernel.sh: error: cannot create --out directory $tmp/ro/sub: Read-only file system$" "read-only --out (a new subfolder)" -- \
		"$run" --image "$tmp/bzImage" --modules none --no-build --out "$tmp/ro/sub" /bin/busybox
	umount "$tmp/ro"
else
	skip "read-only --out" "needs root (mount -t tmpfs -o ro)"
fi

# A results folder that fills up while the guest's results are unpacked:
# exit 3, one line saying so (the stand-in QEMU of test_kernel_places sends
# a results folder at once).
mkdir -p "$tmp/full"
if ((EUID == 0)) && mount -t tmpfs -o size=64k irqbench-test "$tmp/full" 2>/dev/null; then
	head -c 1M /dev/zero >"$tmp/full/filler" 2>/dev/null
	expect_error 3 "run-kernel.sh: error: results folder full: cannot write .* into $tmp/full/run$" \
		"results folder full: exit 3, one line" -- \
		env IRQBENCH_QEMU="$repo/tests/fixtures/places/qemu" FAKE_PIDS="$tmp/full.qemu" \
		"$run" --image "$tmp/bzImage" --modules none --no-build --append fake.sleep=0 --out "$tmp/full/run" /bin/busybox
	# Room for the console and the serial stream, not for the unpacked
	# results (500 records, ~160 KiB): the disk fills while the guest's
	# results.jsonl is written.  What was written stays readable: every
	# line parses, the last one ends in a newline.
	rm -f "$tmp/full/filler" && rm -rf "$tmp/full/run"
	expect_error 3 "run-kernel.sh: error: results folder full: cannot write the guest's results into $tmp/full/run2$" \
		"results folder full while unpacking the results: exit 3, one line" -- \
		env IRQBENCH_QEMU="$repo/tests/fixtures/places/qemu" FAKE_PIDS="$tmp/full.qemu" \
		"$run" --image "$tmp/bzImage" --modules none --no-build --append "fake.sleep=0 fake.records=500" --out "$tmp/full/run2" /bin/busybox
	f=$tmp/full/run2/results.jsonl
	check "results folder full while unpacking: results.jsonl was being written ($(stat -c %s "$f" 2>/dev/null) bytes)" test -e "$f"
	check "results folder full while unpacking: every line of results.jsonl parses, none torn" \
		"$PYTHON" -c 'import json, sys
data = open(sys.argv[1]).read()
assert data == "" or data.endswith("\n"), "last line torn: %r" % data[-60:]
for line in data.splitlines():
    json.loads(line)' "$f"
	umount "$tmp/full"
else
	skip "results folder full" "needs root (mount -t tmpfs)"
	skip "results folder full while unpacking the results" "needs root (mount -t tmpfs)"
fi

# Two runners started together: two results folders, never one.  A date
# stand-in pins the folder's timestamp, so they collide for sure (not only
# when they start in the same second); the QEMU stand-in of
# test_kernel_places sends results, so both runs complete.
mkdir -p "$tmp/fixdate"
printf '#!/bin/sh\n# date stand-in: the results folder stamp is one fixed second; the rest is the real date.\n[ "$*" = "+%%Y%%m%%d-%%H%%M%%S" ] && { echo 20260101-000000; exit 0; }\nexec %s "$@"\n' \
	"$(command -v date)" >"$tmp/fixdate/date"
chmod +x "$tmp/fixdate/date"
export IRQBENCH_RESULTS_ROOT=$tmp/results FAKE_PIDS=$tmp/par.qemu
: >"$FAKE_PIDS"
for i in 1 2; do
	PATH="$tmp/fixdate:$PATH" IRQBENCH_QEMU="$repo/tests/fixtures/places/qemu" \
		"$run" --image "$tmp/bzImage" --modules none --no-build --append fake.sleep=1 /bin/busybox >"$tmp/par$i" 2>&1 &
	eval "p$i=\$!"
done
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
d1=$(sed -n 's/^results: //p' "$tmp/par1")
d2=$(sed -n 's/^results: //p' "$tmp/par2")
check "two runners at once: two folders ($(basename "$d1"), $(basename "$d2"))" test -n "$d1" -a -n "$d2" -a "$d1" != "$d2"
check_eq "two runners at once, the same second (date stand-in): NAME and NAME-2" \
	"$(printf '%s\n' "${d1##*/}" "${d2##*/}" | sort | tr '\n' ' ')" \
	"20260101-000000-6.12.0-fake 20260101-000000-6.12.0-fake-2 "
check_eq "two runners at once: both exit 0" "$rc1 $rc2" "0 0"
# complete DIR: the guest's status.tsv and a whole results.jsonl.
complete() {
	[ "$(cut -f1,2 "$1/status.tsv" 2>/dev/null)" = "busybox	PASS" ] &&
		"$PYTHON" -c 'import json, sys
data = open(sys.argv[1]).read()
assert data.endswith("\n")
[json.loads(l) for l in data.splitlines()]' "$1/results.jsonl"
}
check "two runners at once: the first folder is complete" complete "$d1"
check "two runners at once: the second folder is complete" complete "$d2"

# --out that cannot be used is refused before anything starts.
mkdir -p "$tmp/full" && echo x >"$tmp/full/notes"
expect_error 2 "error: --out $tmp/full exists and is not empty" "--out not empty" -- "$run" --image "$tmp/bzImage" --modules none --no-build --out "$tmp/full" /bin/busybox
# (the repo's cache: whether the archive has a series is in the private apt
# lists, fetched once, ~21 MB, and shared with the kernel tests)
expect_error 2 "error: Debian's archive has no 5.10 kernel.*usage: run.sh kernel --debian SERIES" "--debian 5.10 (not in the archive) names run.sh kernel's usage" -- env IRQBENCH_CACHE="$repo/.cache" "$run" --debian 5.10
expect_error 2 "error: --debian wants a Debian series .*usage: run.sh kernel" "--debian 5.x names run.sh kernel's usage" -- "$run" --debian 5.x
expect_error 2 "error: --smp wants a number" "--smp abc" -- "$run" --smp abc --image "$tmp/bzImage"
# Options QEMU itself refuses: --check asks the real QEMU (IRQBENCH_QEMU
# empty: qemu-system-x86_64, the stand-in takes anything), started paused
# and quit at once; its own error line, exit 2, not a boot failure later.
expect_error 2 "run-kernel.sh: error: QEMU refuses these options \(-machine q35 -accel tcg,thread=[a-z]+ -cpu Nope -smp 2 -m 2048\): qemu-system-x86_64: unable to find CPU model 'Nope'$" \
	"--check --cpu Nope: QEMU's own refusal, exit 2" -- env IRQBENCH_QEMU= "$run" --check --cpu Nope /bin/busybox
check "--check with the default options: QEMU takes them (exit 0)" env IRQBENCH_QEMU= "$run" --check /bin/busybox
expect_error 2 "run-kernel.sh: error: --debian and --image are exclusive$" "--check --image with --debian: refused up front" -- \
	"$run" --check --image "$tmp/bzImage" --debian 6.12 /bin/busybox
expect_error 2 "error: --kvm-patch needs a patch file" "empty --kvm-patch" -- "$run" --kvm-patch "" --image "$tmp/bzImage"
: >"$tmp/empty.patch"
expect_error 2 "error: --kvm-patch .*empty.patch is empty" "--kvm-patch of an empty file" -- "$run" --kvm-patch "$tmp/empty.patch" --image "$tmp/bzImage"
tap_done
