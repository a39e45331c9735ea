#!/bin/bash
# The one set-up step: installs the Debian packages of lib/build/packages.list
# that the named groups need and this machine lacks, then checks that every
# command those groups name is on PATH.  Silent when nothing is missing.
#
#   setup.sh GROUP... [--pkg NAME...]
#
# GROUP: build ksrc kernel arm64 check fresh browser, or all (every group but
# fresh and browser).
# --pkg NAME installs a package of an on-demand family of the list (a name
# ending in *, e.g. linux-headers-6.12.57+deb12-amd64).
# Exit 0 when set up; 2 with one line when it cannot be: not root and
# packages missing (the line is the apt-get command to run), a package apt
# cannot install, a command still missing afterwards, bad arguments; 3 with
# one "download failed" line when apt could not fetch (the network, the
# mirror: the environment, not the package).
set -u
here=$(dirname "$(readlink -f "$0")")
# (IRQBENCH_PACKAGE_LIST: another list, for the set-up's own tests.)
list=${IRQBENCH_PACKAGE_LIST:-$here/packages.list}
groups=() extra=()

die() {
	echo "irqbench: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--pkg)
		[ $# -ge 2 ] || die "setup.sh: --pkg needs a package name"
		extra+=("$2")
		shift 2
		;;
	all) groups+=(build ksrc kernel arm64 check) && shift ;;
	build | ksrc | kernel | arm64 | check | fresh | browser) groups+=("$1") && shift ;;
	*) die "setup.sh: unknown group '$1' (build ksrc kernel arm64 check fresh browser all)" ;;
	esac
done
[ ${#groups[@]} -gt 0 ] || [ ${#extra[@]} -gt 0 ] || die "usage: setup.sh GROUP... [--pkg NAME...]"
[ -r "$list" ] || die "setup.sh: cannot read $list"

native=$(dpkg --print-architecture 2>/dev/null) || die "not a Debian system (no dpkg): install the packages of $list by hand"

# The list's lines of the wanted groups for this host: "package commands".
wanted() {
	local g
	for g in "${groups[@]}"; do
		awk -F '\t+' -v g="$g" -v arch="$native" '
			/^#/ || NF < 5 { next }
			$1 == g && ($2 == "any" || $2 == arch) && $3 !~ /\*$/ {
				print $3, ($4 == "-" ? "" : $4)
			}' "$list"
	done
}

# On-demand names must belong to a family the list declares.
for p in "${extra[@]}"; do
	awk -F '\t+' -v p="$p" '!/^#/ && $3 ~ /\*$/ { f = substr($3, 1, length($3) - 1)
		if (substr(p, 1, length(f)) == f) ok = 1 } END { exit !ok }' "$list" ||
		die "setup.sh: $p is not in $list"
done

mapfile -t lines < <(wanted | sort -u)
pkgs=("${extra[@]}")
for l in "${lines[@]}"; do pkgs+=("${l%% *}"); done

# Installed packages as name:arch ("all" packages count as native).
declare -A have=()
while read -r name arch status; do
	[ "$status" = installed ] || continue
	[ "$arch" = all ] && arch=$native
	have[$name:$arch]=1
done < <(dpkg-query -W -f='${Package} ${Architecture} ${db:Status-Status}\n' 2>/dev/null)

missing=()
for p in "${pkgs[@]}"; do
	case $p in *:*) key=$p ;; *) key=$p:$native ;; esac
	[ -n "${have[$key]:-}" ] || missing+=("$p")
done

# install_failed LOG: one line with apt's first error; exit 3 when apt
# could not fetch (lists or packages), else 2.
install_failed() {
	local why fetch='Failed to fetch|Unable to fetch|Some index files failed to download|Temporary failure resolving|Could not resolve|Could not connect|Connection (failed|timed out)'
	if why=$(grep -m1 -E "$fetch" "$1"); then
		echo "irqbench: download failed: apt-get install ${missing[*]}: $why (log: $1)" >&2
		exit 3
	fi
	die "apt-get install ${missing[*]} failed: $(grep -m1 '^E:' "$1" || tail -n1 "$1") (log: $1)"
}

install() {
	local log arch p
	[ "$(id -u)" -eq 0 ] ||
		die "missing packages; run as root: apt-get install -y --no-install-recommends ${missing[*]}"
	local cache=${XDG_CACHE_HOME:-$HOME/.cache}/irqbench
	mkdir -p "$cache" && log=$(mktemp "$cache/setup.XXXXXX.log") ||
		die "cannot write the set-up log under $cache"
	# One apt at a time: parallel make jobs and runners share the lock.
	exec 9>"${log%/*}/setup.lock" && flock 9
	echo "irqbench: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# PKG:ARCH (libnuma-dev:arm64 for the cross build) needs the foreign
	# architecture known to dpkg, and package lists that include it.
	for p in "${missing[@]}"; do
		arch=${p#*:}
		[ "$arch" != "$p" ] && [ "$arch" != "$native" ] || continue
		dpkg --print-foreign-architectures | grep -qx "$arch" && continue
		echo "irqbench: dpkg --add-architecture $arch" >&2
		dpkg --add-architecture "$arch" && apt-get update -qq >>"$log" 2>&1 ||
			die "enabling the $arch architecture failed (log: $log)"
	done
	# A fresh machine may have no package lists yet: update only when needed.
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
		apt-get update -q >>"$log" 2>&1 &&
			apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
			install_failed "$log"
	fi
	rm -f "$log"
}
[ ${#missing[@]} -eq 0 ] || install

absent=()
for l in "${lines[@]}"; do
	read -r pkg cmds <<<"$l"
	for c in $cmds; do
		command -v "$c" >/dev/null || absent+=("$c ($pkg)")
	done
done
[ ${#absent[@]} -eq 0 ] || die "set-up incomplete: not on PATH: ${absent[*]}"
exit 0
