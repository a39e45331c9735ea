#!/bin/bash
# x86/ioapic_eoi_reuse at small N on this host's /dev/kvm: the outcome this
# host must give.  On kvm_pvm (the ISR bit is already clear inside the ISR)
# every mid-ISR variant must be not-provoked, never a verdict, while the
# split-irqchip controls count about N EOI exits and the in-kernel ones about
# N IOAPIC acks (kvm:kvm_ack_irq), or SKIP with the reason the tracepoint
# could not be opened.  On a real KVM host the controls must pass and every
# variant must reach one of the four verdicts.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${IRQBENCH_BUILD:-$top/build}/x86/ioapic_eoi_reuse
n=200
[ -e /dev/kvm ] || { echo "# SKIP no /dev/kvm on this machine"; exit 4; }
[ -x "$bin" ] || { echo "not ok 1 $bin not built"; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
IRQBENCH_RESULTS_DIR=$out "$bin" --reuses $n --timeout 120 >"$out/ktap" 2>"$out/log"
rc=$?
cat "$out/ktap"

PYTHONPATH="$top/tests" python3 - "$out" "$n" "$rc" <<'PY'
import json, sys
out, n, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ktap = open(out + "/ktap").read().splitlines()
recs = [json.loads(l) for l in open(out + "/results.jsonl")]
from tap import check, check_exit, check_names, done

lines = [l for l in ktap if l.startswith(("ok ", "not ok "))]
plan = int([l for l in ktap if l.startswith("1..")][0][3:])
check(len(lines) == plan == 18, f"18 variants reported ({len(lines)} of plan {plan})")
by = {}
for r in recs:
    by.setdefault(r["variant"], {})[r["metric"]] = r
check(len(by) == 18, f"JSON records for every variant ({len(by)})")
check_names("\n".join(ktap), recs, "ioapic_eoi_reuse")
need = {"reuses", "in_service_in_isr_guest", "in_service_in_isr_host", "eoi_exits",
        "first_eoi_exits", "remote_irr_after_eoi", "redelivered", "wall_time"}
missing = {v: sorted(need - set(m)) for v, m in by.items() if need - set(m)}
check(not missing, f"each variant has its metrics {missing or ''}")
# In-kernel: the verdict's count (ioapic_acks) is a count or a skip with a
# reason; eoi_exits (EOI-induced exits) is counted only with APICv on VMX.
acks = {v: m.get("ioapic_acks") for v, m in by.items() if v.startswith("kernel.")}
check(all(a and (a["value"] is not None or a.get("skipped")) for a in acks.values()),
      f"each in-kernel variant has an ioapic_acks count or its skip reason")
check(not any("ioapic_acks" in m for v, m in by.items() if v.startswith("split.")),
      "no ioapic_acks record in split mode (the IOAPIC is the test's own)")
apicv_vmx = recs[0]["host"]["apicv"] and recs[0]["host"]["kvm_module"] == "kvm_intel"
if not apicv_vmx:
    check(all(m["eoi_exits"]["value"] is None and m["eoi_exits"].get("skipped")
              for v, m in by.items() if v.startswith("kernel.")),
          "in-kernel eoi_exits skipped with the reason (no APICv on VMX here)")
check(all(r["kernel"] and r["host"]["kvm_module"] for r in recs), "records carry kernel and host")

kvm_pvm = recs[0]["host"]["kvm_module"] == "kvm_pvm"
for v, m in sorted(by.items()):
    line = next(l for l in lines if l.split(" # ")[0].endswith(" " + v))
    provoked = m["in_service_in_isr_guest"]["value"] and m["in_service_in_isr_host"]["value"]
    if ".control." in v:
        counted = m["eoi_exits"] if v.startswith("split.") else m["ioapic_acks"]
        e = counted["value"]
        if e is None:
            check("# SKIP" in line and counted["skipped"] in line,
                  f"{v}: control SKIPs with why {counted['metric']} is uncounted")
        else:
            check(n - 1 <= e <= n + 2 and line.startswith("ok") and "SKIP" not in line,
                  f"{v}: control counts about N ({counted['metric']} {e} of {n})")
        continue
    verdict = m["verdict"]["value"]
    if kvm_pvm:
        check(not provoked and verdict == "not-provoked" and "# SKIP not-provoked" in line
              and m["verdict"]["reason"], f"{v}: not-provoked with its reason on kvm_pvm")
    else:
        check(verdict in ("not-provoked", "lost-eoi", "stale-exits", "fixed", "unmeasured", "unaffected"),
              f"{v}: a verdict ({verdict})")
        check(provoked or verdict == "not-provoked", f"{v}: no verdict without the precondition")
# Exit status: what the KTAP lines say, on every host (tap.ktap_exit); a
# run whose verdicts were not provoked is never a pass.
check_exit(rc, "\n".join(ktap), "ioapic_eoi_reuse")
if kvm_pvm:
    check(rc == 4, f"kvm_pvm, nothing provoked: exit status {rc} is a skip (4)")
done()
PY
