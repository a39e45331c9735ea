#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of run.sh fixes (lib/fixes.tsv, lib/report/fixes.py): results
# folders whose records imply each state of each fix (present, absent, not
# measurable here with its reason), and bad input.  No KVM: ~1 s.
# Exit: 0 all passed, 1 a check failed or the set-up did.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_fixes.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export IRQBENCH_RESULTS_ROOT=$TMP/results

# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
# python3 (run.sh fixes): a missing one fails the set-up, never a skip.
set_up build

# run_folder NAME ARCH APICV RECORD...: a results folder; each RECORD is
# "test variant metric value [k=v,k=v]" (value: a number, or text; the
# optional last word: the record's params).
run_folder() {
	local d=$TMP/$1 arch=$2 apicv=$3
	shift 3
	mkdir -p "$d"
	printf '{"schema":1,"arch":"%s","kernel_release":"test"}\n' "$arch" >"$d/meta.json"
	python3 - "$d/results.jsonl" "$apicv" "$@" <<'PY'
import json, sys
out, apicv = sys.argv[1], sys.argv[2] == "1"
with open(out, "w") as f:
    for spec in sys.argv[3:]:
        test, variant, metric, value = spec.split(" ", 3)
        params = {}
        if " " in value:
            value, p = value.split(" ", 1)
            params = dict(kv.split("=") for kv in p.split(","))
        try:
            value = float(value)
        except ValueError:
            pass
        rec = {"test": test, "variant": variant, "metric": metric, "value": value,
               "params": params, "host": {"apicv": apicv, "timing_comparable": True}}
        if isinstance(value, str):
            rec["reason"] = f"because {value}"
        f.write(json.dumps(rec) + "\n")
PY
}

# state FOLDER FIX: the state column of FIX in run.sh fixes FOLDER.
state() {
	"$RUN" fixes "$TMP/$1" | awk -v f="$2" '$1 == f {
		if ($3 == "not") print "not measurable"; else print $3 }'
}
reason() {
	"$RUN" fixes "$TMP/$1" | awk -v f="$2" '$1 == f'
}

E=ioapic_eoi_reuse
HS=highest_stale_pending_ioapic_eoi
RS=split_irqchip_pending_eoi_route_scan
MV=multi_vector_wakeup_irte_owner_blocked_list
IR=irqfd_resample_semantics
GD=gicv4_doorbell_request_barrier

# Debian 6.1: the EOI is lost; 6.12: stale exits; a fixed kernel; this host.
run_folder deb61 x86_64 0 "$E split.dest.self_ipi verdict lost-eoi" "$E split.dest.msi verdict lost-eoi" \
	"$E split.vector.msi verdict fixed"
run_folder deb612 x86_64 0 "$E split.dest.self_ipi verdict stale-exits" "$E split.dest.msi verdict stale-exits" \
	"$E split.vector.msi verdict fixed"
run_folder fixed x86_64 0 "$E split.dest.self_ipi verdict fixed" "$E split.dest.msi verdict fixed" \
	"$E kernel.dest.msi verdict unmeasured"
run_folder pvm x86_64 0 "$E split.dest.self_ipi verdict not-provoked" "$E split.vector.self_ipi verdict not-provoked"

check_eq "6.1: $HS not measurable (EOI lost first)" "$(state deb61 $HS)" "not measurable"
check_eq "6.1: $RS absent" "$(state deb61 $RS)" absent
check_eq "6.12: $HS absent" "$(state deb612 $HS)" absent
check_eq "6.12: $RS present" "$(state deb612 $RS)" present
check_eq "fixed: $HS present" "$(state fixed $HS)" present
check_eq "fixed: $RS present" "$(state fixed $RS)" present
check_eq "kvm_pvm: $HS not measurable" "$(state pvm $HS)" "not measurable"
if reason pvm $HS | grep -q 'not-provoked in split.dest.self_ipi (because not-provoked)'; then
	ok "not measurable: says which value, where, and the record's reason"
else
	not_ok "not measurable: reason" "$(reason pvm $HS)"
fi
if reason deb612 $HS | grep -q 'split.vector'; then
	not_ok "$HS: vector variants (fixed on every kernel) are not evidence"
else
	ok "$HS: vector variants (fixed on every kernel) are not evidence"
fi

# Seed 000: the slope, only with posted interrupts.
run_folder noapicv x86_64 0 "halt_wakeup x ns_per_blocked_vcpu 1 pi_path=none"
run_folder flat x86_64 1 "halt_wakeup x ns_per_blocked_vcpu 1 pi_path=vtd"
run_folder steep x86_64 1 "halt_wakeup x ns_per_blocked_vcpu 80 pi_path=vtd"
check_eq "no APICv: $MV not measurable" "$(state noapicv $MV)" "not measurable"
if reason noapicv $MV | grep -q 'needs posted interrupts.*pi_path=none'; then ok "no posted interrupts: says so"; else not_ok "no posted interrupts: says so" "$(reason noapicv $MV)"; fi
check_eq "flat slope: $MV present" "$(state flat $MV)" present
check_eq "steep slope: $MV absent" "$(state steep $MV)" absent
check_eq "no halt_wakeup records: $MV not measurable" "$(state deb61 $MV)" "not measurable"

# Seed 003 and 002.
run_folder irqfd_ok x86_64 0 "irqfd_resample burst verdict pass" "irqfd_resample async verdict not-provoked"
run_folder irqfd_bad x86_64 0 "irqfd_resample burst verdict pass" "irqfd_resample async verdict fail"
check_eq "irqfd pass: $IR present" "$(state irqfd_ok $IR)" present
check_eq "irqfd fail in one variant: $IR absent" "$(state irqfd_bad $IR)" absent
run_folder arm_ok aarch64 0 "vlpi_doorbell vlpi verdict delivered"
run_folder arm_bad aarch64 0 "vlpi_doorbell vlpi verdict missing-doorbell"
run_folder arm_nop aarch64 0 "vlpi_doorbell vlpi verdict not-provoked"
run_folder arm_x86 x86_64 0 "vlpi_doorbell vlpi verdict delivered"
check_eq "arm64, every vLPI delivered: $GD present" "$(state arm_ok $GD)" present
check_eq "arm64, doorbells missing: $GD absent" "$(state arm_bad $GD)" absent
check_eq "arm64, vLPIs not forwarded: $GD not measurable" "$(state arm_nop $GD)" "not measurable"
check_eq "not arm64: $GD not measurable" "$(state arm_x86 $GD)" "not measurable"
check_eq "x86: $GD not measurable" "$(state deb61 $GD)" "not measurable"
if reason deb61 $GD | grep -q 'needs aarch64'; then ok "x86: says it needs aarch64"; else not_ok "x86: needs aarch64" "$(reason deb61 $GD)"; fi

# Every fix in the table gets a line.
check_eq "one line per fix in lib/fixes.tsv" \
	"$("$RUN" fixes "$TMP/deb61" | tail -n +3 | wc -l | tr -d ' ')" \
	"$(($(grep -v "^#" "$ROOT/lib/fixes.tsv" | grep -c .) - 1))" # less the header

# Default run: results/latest.
mkdir -p "$TMP/results"
ln -s ../deb612 "$TMP/results/latest"
check_eq "no RUN: results/latest" "$(state results/latest $HS)" absent
rc=0
"$RUN" fixes >/dev/null 2>&1 || rc=$?
check_eq "no RUN: exit 0" "$rc" 0

rc=0
IRQBENCH_RESULTS_ROOT=$TMP/none "$RUN" fixes >"$TMP/out" 2>"$TMP/err" || rc=$?
if [[ $rc == 2 && $(wc -l <"$TMP/err") == 1 ]] && grep -q 'no run to read' "$TMP/err"; then
	ok "no results/latest: exit 2, one line"
else
	not_ok "no results/latest: exit 2, one line" "rc=$rc $(cat "$TMP/err")"
fi
rc=0
"$RUN" fixes "$TMP/missing" >"$TMP/out" 2>"$TMP/err" || rc=$?
check_eq "missing folder: exit 2" "$rc" 2
mkdir -p "$TMP/corrupt"
printf '{"test":"a","metric":"b","value":1}\n{oops\n' >"$TMP/corrupt/results.jsonl"
rc=0
"$RUN" fixes "$TMP/corrupt" >"$TMP/out" 2>"$TMP/err" || rc=$?
if [[ $rc == 2 ]] && grep -q "$TMP/corrupt/results.jsonl:2: bad JSON" "$TMP/err"; then
	ok "corrupt JSON: exit 2 naming FILE:LINE"
else
	not_ok "corrupt JSON: exit 2 naming FILE:LINE" "rc=$rc $(cat "$TMP/err")"
fi

tap_done
