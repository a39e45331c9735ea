#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# meta.sh OUTDIR: write OUTDIR/meta.json, describing the machine (or guest)
# a run happens on, so that results can be compared and bisected later.
#
# POSIX sh + awk only: it also runs under busybox in the kernel-matrix
# initramfs guest, where it must describe the guest kernel.
#
# Inputs (environment, all optional):
#   IRQBENCH_PROFILE   profile of the run           -> "profile"
#   IRQBENCH_TESTS     space-separated test names   -> "tests"
#   IRQBENCH_BUILD     build dir (default REPO/build): ksrc.version, irqbench.version
#   IRQBENCH_REPO      irqbench checkout (default: two levels above this file)
#
# Keys written (strings unless noted; null when unknown):
#   schema (number, 1), date (UTC ISO 8601), profile, tests (array),
#   kernel_release (uname -r), kernel_version (uname -v), arch (uname -m),
#   hostname, cmdline (/proc/cmdline), cpu_model, ncpus (number, online CPUs),
#   numa_nodes ([{node, cpus (the cpulist), ncpus}], null without NUMA),
#   hypervisor (bool: x86 "hypervisor" CPU flag, i.e. running in a VM/nested),
#   dev_kvm (bool), kvm_vendor (first of kvm_intel/kvm_amd/kvm_pvm loaded),
#   kvm_modules ({module: {param: "value"}} for kvm_intel, kvm_amd, kvm_pvm,
#   kvm when present in /sys/module; values are the raw sysfs strings),
#   host_load ({load1, load5, load15 (numbers), raw}), ksrc_version
#   (first line of $BUILD/ksrc.version), irqbench_version (git describe
#   --always --dirty, else first line of $BUILD/irqbench.version).

set -u

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: meta.sh OUTDIR" >&2
	exit 2
fi
out=$1
if [ ! -d "$out" ]; then
	echo "meta.sh: no directory $out" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=${IRQBENCH_REPO:-$(cd "$here/../.." && pwd)}
build=${IRQBENCH_BUILD:-$repo/build}

# JSON string escaping, byte by byte: \" \\ and \uXXXX for control
# characters.  A character loop rather than gsub(), because backslashes in
# gsub replacements differ between awk implementations.
# shellcheck disable=SC2016 # awk code, not shell
JSON_ESC_AWK='
BEGIN {
	for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
	esc["\n"] = "\\n"; esc["\t"] = "\\t"; esc["\r"] = "\\r"
	esc["\""] = "\\\""; esc["\\"] = "\\\\"
}
{ s = (NR > 1) ? s "\n" $0 : $0 }
END {
	o = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		o = o ((c in esc) ? esc[c] : c)
	}
	printf "\"%s\"", o
}'

# json_str VALUE: VALUE as a JSON string.
json_str() {
	printf '%s' "$1" | LC_ALL=C awk "$JSON_ESC_AWK"
}

# json_str_or_null VALUE: as json_str, but null for an empty VALUE.
json_str_or_null() {
	if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi
}

# json_num_or_null VALUE: VALUE if it is a plain decimal number, else null.
json_num_or_null() {
	case $1 in
	'' | *[!0-9.]* | *.*.* | .*) printf 'null' ;;
	*) printf '%s' "$1" ;;
	esac
}

# first_line FILE: first line of FILE, empty if unreadable.
first_line() {
	[ -r "$1" ] || return 0
	head -n 1 "$1" 2>/dev/null || true
}

cpu_model() {
	[ -r /proc/cpuinfo ] || return 0
	# x86: "model name"; arm64 has no name, only implementer/part ids.
	awk '
	function val(line) { sub(/^[^:]*:[ \t]*/, "", line); return line }
	/^model name[ \t]*:/ { print val($0); found = 1; exit }
	/^Processor[ \t]*:/ && !proc { proc = val($0) }
	/^CPU implementer[ \t]*:/ && !impl { impl = val($0) }
	/^CPU part[ \t]*:/ && !part { part = val($0) }
	END {
		if (found) exit
		if (proc != "") print proc
		else if (impl != "") print "implementer " impl " part " part
	}' /proc/cpuinfo 2>/dev/null
}

ncpus() {
	if [ -r /sys/devices/system/cpu/online ]; then
		# "0-3,6,8-9" -> 7
		awk -F, '{
			for (i = 1; i <= NF; i++) {
				if (split($i, r, "-") == 2) n += r[2] - r[1] + 1
				else if ($i != "") n++
			}
		} END { print n + 0 }' /sys/devices/system/cpu/online 2>/dev/null
	elif [ -r /proc/cpuinfo ]; then
		grep -c '^processor' /proc/cpuinfo 2>/dev/null
	fi
}

# numa_nodes: [{"node": N, "cpus": "0-3", "ncpus": 4}, ...] from sysfs (what
# libnuma reads; lib/placement uses that, less the process's affinity), null
# without NUMA in the kernel.
numa_nodes() {
	sep=
	for d in /sys/devices/system/node/node[0-9]*; do
		[ -r "$d/cpulist" ] || continue
		list=$(first_line "$d/cpulist")
		n=$(printf '%s\n' "$list" | awk -F, '{
			for (i = 1; i <= NF; i++) {
				if (split($i, r, "-") == 2) n += r[2] - r[1] + 1
				else if ($i != "") n++
			}
		} END { print n + 0 }')
		[ -n "$sep" ] || printf '['
		printf '%s{"node": %s, "cpus": %s, "ncpus": %s}' "$sep" "${d##*/node}" \
			"$(json_str "$list")" "$n"
		sep=', '
	done
	if [ -n "$sep" ]; then printf ']'; else printf 'null'; fi
}

hypervisor_flag() {
	if ! grep -q '^flags' /proc/cpuinfo 2>/dev/null; then
		printf 'null'               # not x86: no such flag to look at
	elif grep -Eq '^flags.*[[:space:]]hypervisor([[:space:]]|$)' /proc/cpuinfo; then
		printf 'true'
	else
		printf 'false'
	fi
}

irqbench_version() {
	v=
	if command -v git >/dev/null 2>&1; then
		v=$(git -C "$repo" describe --always --dirty 2>/dev/null) || v=
	fi
	[ -n "$v" ] || v=$(first_line "$build/irqbench.version")
	printf '%s' "$v"
}

# module_params MOD: {"param": "value", ...} from /sys/module/MOD/parameters.
module_params() {
	printf '{'
	sep=
	for f in /sys/module/"$1"/parameters/*; do
		[ -f "$f" ] || continue
		printf '%s%s: ' "$sep" "$(json_str "${f##*/}")"
		# Some parameters are write-only: null rather than a failure.
		if v=$(cat "$f" 2>/dev/null); then json_str "$v"; else printf 'null'; fi
		sep=', '
	done
	printf '}'
}

kvm_modules() {
	printf '{'
	sep=
	for m in kvm_intel kvm_amd kvm_pvm kvm; do
		[ -d "/sys/module/$m" ] || continue
		printf '%s\n    %s: ' "$sep" "$(json_str "$m")"
		module_params "$m"
		sep=,
	done
	[ -z "$sep" ] || printf '\n  '
	printf '}'
}

kvm_vendor() {
	for m in kvm_intel kvm_amd kvm_pvm; do
		if [ -d "/sys/module/$m" ]; then
			json_str "$m"
			return
		fi
	done
	printf 'null'
}

tests_array() {
	printf '['
	sep=
	set -f                              # names are split, never globbed
	# shellcheck disable=SC2086
	for t in ${IRQBENCH_TESTS-}; do
		printf '%s%s' "$sep" "$(json_str "$t")"
		sep=', '
	done
	set +f
	printf ']'
}

host_load() {
	raw=$(first_line /proc/loadavg)
	# shellcheck disable=SC2086
	set -- $raw
	printf '{"load1": %s, "load5": %s, "load15": %s, "raw": %s}' \
		"$(json_num_or_null "${1-}")" "$(json_num_or_null "${2-}")" \
		"$(json_num_or_null "${3-}")" "$(json_str_or_null "$raw")"
}

write_meta() {
	if [ -e /dev/kvm ]; then dev_kvm=true; else dev_kvm=false; fi
	printf '{\n'
	printf '  "schema": 1,\n'
	printf '  "date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
	printf '  "profile": %s,\n' "$(json_str_or_null "${IRQBENCH_PROFILE-}")"
	printf '  "tests": %s,\n' "$(tests_array)"
	printf '  "kernel_release": %s,\n' "$(json_str_or_null "$(uname -r)")"
	printf '  "kernel_version": %s,\n' "$(json_str_or_null "$(uname -v)")"
	printf '  "arch": %s,\n' "$(json_str_or_null "$(uname -m)")"
	printf '  "hostname": %s,\n' "$(json_str_or_null "$(uname -n)")"
	printf '  "cmdline": %s,\n' "$(json_str_or_null "$(first_line /proc/cmdline)")"
	printf '  "cpu_model": %s,\n' "$(json_str_or_null "$(cpu_model)")"
	printf '  "ncpus": %s,\n' "$(json_num_or_null "$(ncpus)")"
	printf '  "numa_nodes": %s,\n' "$(numa_nodes)"
	printf '  "hypervisor": %s,\n' "$(hypervisor_flag)"
	printf '  "dev_kvm": %s,\n' "$dev_kvm"
	printf '  "kvm_vendor": %s,\n' "$(kvm_vendor)"
	printf '  "kvm_modules": %s,\n' "$(kvm_modules)"
	printf '  "host_load": %s,\n' "$(host_load)"
	printf '  "ksrc_version": %s,\n' "$(json_str_or_null "$(first_line "$build/ksrc.version")")"
	printf '  "irqbench_version": %s\n' "$(json_str_or_null "$(irqbench_version)")"
	printf '}\n'
}

# Write next to the target and rename, so a reader never sees half a file.
write_meta >"$out/meta.json.tmp" && mv -f "$out/meta.json.tmp" "$out/meta.json"
