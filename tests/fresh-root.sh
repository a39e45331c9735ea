#!/bin/bash
# The fresh-machine test: the README's two commands in a clean Debian 12 root.
#
#   tests/fresh-root.sh [--keep]
#
# A machine of this project's kind ships little of what the suite uses, and
# a machine where packages were once installed by hand hides every missing
# set-up step.  This builds the clean root such a machine starts from
# (debootstrap --variant=minbase bookworm, plus what the machines ship before
# the project touches them, plus the machine's own apt sources), clones this
# project (its HEAD) into it, and runs there, as a new user would:
#   make run     must exit 0 and write a results folder;
#   make check   must end "N passed, 0 failed".
# /dev (with /dev/kvm), /proc and /sys are the host's.
#
# The clean root is cached outside the clone (XDG_CACHE_HOME/irqbench/
# fresh-root/, keyed by what it holds); each run works on an overlay of it,
# in its own mount and PID namespace, so the cached root stays clean and
# nothing the run started survives it.  --keep keeps the run's overlay.
# The KVM module builds already in this machine's cache are copied into the
# root, all but one (which the clean root builds itself): in CI they are the
# ones the make check before this made, from the same commit.
# Exit 0 pass, 1 fail, 2 cannot run here (not root, no namespaces).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
keep=
case ${1:-} in
'') ;;
--keep) keep=1 ;;
*) echo "fresh-root.sh: error: unknown argument '$1' (--keep)" >&2 && exit 2 ;;
esac

# What this project's machines have before the project touches them.
shipped=build-essential,git,python3,ca-certificates,xz-utils,zstd,patch,bc,perl,file
suite=bookworm
limit=${IRQBENCH_FRESH_ROOT_TIMEOUT:-2700}

[ "$(id -u)" -eq 0 ] || { echo "fresh-root.sh: error: needs root (debootstrap, chroot, mounts)" >&2 && exit 2; }
"$top/lib/build/setup.sh" fresh || exit 2

cache=${XDG_CACHE_HOME:-$HOME/.cache}/irqbench/fresh-root
mkdir -p "$cache" || exit 2
# The machine's mirror for the suite (apt's view of its own sources).
mirror=$(apt-cache policy 2>/dev/null | awk -v s="$suite/main" '$3 == s && $2 ~ /^https?:/ { print $2; exit }')
mirror=${mirror:-http://deb.debian.org/debian}
key=$(echo "$suite $shipped $mirror" | sha256sum | cut -c1-12)
base=$cache/$suite-minbase-$key
t_start=$SECONDS

echo "TAP version 13"
# shellcheck source=tests/tap.sh
source "$top/tests/tap.sh"

if [ ! -f "$base/.complete" ]; then
	echo "# debootstrap --variant=minbase $suite ($mirror) + $shipped"
	t0=$SECONDS
	rm -rf "$base.tmp"
	if debootstrap --variant=minbase --include="$shipped" "$suite" "$base.tmp" "$mirror" \
		>"$cache/debootstrap.log" 2>&1; then
		touch "$base.tmp/.complete" && rm -rf "$base" && mv "$base.tmp" "$base"
		ok "clean root: debootstrap ($((SECONDS - t0)) s, $(du -sm "$base" | cut -f1) MB)"
	else
		not_ok "debootstrap failed: $(tail -n 3 "$cache/debootstrap.log" | tr '\n' ' ')"
		echo "1..$N" && exit 1
	fi
else
	ok "clean root: cached ($base)"
fi

run=$(mktemp -d "$cache/run.XXXXXX") || exit 2
[ -n "$keep" ] || trap 'rm -rf "$run"' EXIT
mkdir -p "$run/upper" "$run/work" "$run/root"
echo "# clone of $(git -C "$top" log -1 --format='%h %s')"

# Inside the namespaces: the overlay, the machine's apt sources, the host's
# /dev, /proc and /sys, then the README's commands as a new user types them.
cat >"$run/inside.sh" <<'EOF'
set -u
run=$1 base=$2 top=$3 kvm_cache=$4
root=$run/root
mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" || exit 2
# The KVM module builds of this machine's cache (in CI: the make check just
# before, same commit), all but one: the clean root builds that one itself,
# which proves the build path on a fresh machine, and takes the others
# rather than spend CI's time on the same builds again.
if [ -d "$kvm_cache" ]; then
	mkdir -p "$root/root/.cache/irqbench/kvm-modules"
	find "$kvm_cache" -mindepth 1 -maxdepth 1 -type d -exec test -f {}/.built \; -print | sort | tail -n +2 |
		while read -r d; do cp -a "$d" "$root/root/.cache/irqbench/kvm-modules/"; done
	echo "## KVM module builds taken from $kvm_cache: $(ls "$root/root/.cache/irqbench/kvm-modules" | wc -l)"
fi
rm -rf "$root/etc/apt/sources.list.d" "$root/etc/apt/sources.list"
mkdir -p "$root/etc/apt/sources.list.d"
cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$root/etc/apt/sources.list.d/" 2>/dev/null
[ ! -f /etc/apt/sources.list ] || cp /etc/apt/sources.list "$root/etc/apt/"
cp /etc/apt/apt.conf.d/* "$root/etc/apt/apt.conf.d/" 2>/dev/null
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" || exit 2
mkdir -p "$root/root" && git clone -q "$top" "$root/root/irqbench" || exit 2
exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c 'cd /root/irqbench || exit 2
		echo "## make run"; t0=$SECONDS; make run; rc=$?
		echo "## make run: exit $rc, $((SECONDS - t0)) s"
		ls -d results/2*/status.tsv 2>/dev/null | sed "s/^/## results: /"
		echo "## make check"; t0=$SECONDS; make check; rc=$?
		echo "## make check: exit $rc, $((SECONDS - t0)) s"'
EOF
echo "# in the clean root: make run, then make check (log: $run/log)"
# In the background, so that a signal to this script is handled at once:
# unshare ignores SIGTERM and timeout runs it in a process group of its
# own, so only SIGKILL of unshare (--kill-child: then the whole PID
# namespace) stops the clean root's make check with us.
{
	timeout --signal=KILL "$limit" unshare --mount --pid --fork --kill-child --propagation private \
		bash "$run/inside.sh" "$run" "$base" "$top" "${IRQBENCH_KVM_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/irqbench/kvm-modules}"
	echo $? >"$run/rc"
} 2>&1 | tee "$run/log" | sed -u 's/^/    /' &
for sig in TERM INT HUP; do
	# shellcheck disable=SC2064 # $sig now
	trap "pkill -KILL -f -- '$run/inside.sh'; echo 'fresh-root.sh: stopped by SIG$sig; the clean root killed' >&2; exit $((128 + $(kill -l $sig)))" $sig
done
wait $!
trap - TERM INT HUP
rc=$(cat "$run/rc" 2>/dev/null || echo 1)
[ "$rc" -eq 137 ] && not_ok "clean root: over ${limit} s, killed"

in_root() { sed -n "s/^## $1: //p" "$run/log" | tail -n1; }
run_rc=$(in_root 'make run' | sed -n 's/^exit \([0-9]*\),.*/\1/p')
if [ "$run_rc" = 0 ] && [ -n "$(in_root results)" ]; then
	ok "make run: exit 0, $(in_root results | sed 's|/status.tsv||') ($(in_root 'make run' | cut -d, -f2 | tr -d ' '))"
else
	not_ok "make run: $(in_root 'make run' || echo 'did not finish'), results: $(in_root results || echo none)"
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$run/log" | tail -n1)
check_rc=$(in_root 'make check' | sed -n 's/^exit \([0-9]*\),.*/\1/p')
if [ "$check_rc" = 0 ] && [[ $summary == *" passed, 0 failed"* ]]; then
	ok "make check: $summary ($(in_root 'make check' | cut -d, -f2 | tr -d ' '))"
else
	not_ok "make check: exit ${check_rc:-none}, '${summary:-no summary}'"
	grep -E '^FAIL ' "$run/log" | sed 's/^/#   /'
fi
echo "# fresh root: $((SECONDS - t_start)) s in all"
echo "1..$N"
[ -z "$keep" ] || echo "# kept: $run"
echo "$((N - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
