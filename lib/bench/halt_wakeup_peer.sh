#!/bin/bash
# Peer agreement of x86/halt_wakeup (seed 000): the IPI round trip at M=2
# vCPUs (vCPU 0 sends, vCPU 1 halts: upstream's shape) against upstream
# xapic_ipi_test on the same host, both as IPIs per second, in two
# placements: both vCPUs on one CPU (upstream under taskset, ours P=1) and
# on two CPUs (upstream unpinned, ours P=2).  A benchmark, not a test: it
# prints both figures, their ratio and the load, and fails only if a program
# fails.  Both are built from the same kernel tree (make peers builds
# xapic_ipi_test from it, unmodified).  Exits per round trip come from one
# source for both: an LD_PRELOAD shim (lib/bench/kvm_exits_shim.c, built by
# make peers) sums every vCPU's binary stats (exits, halt_exits,
# irq_injections, insn_emulation) when the program frees its VM; round
# trips: the IPIs upstream sent, ours every wakeup it sent (cell, control,
# the stop).  insn_emulation is the cost to watch where KVM emulates every
# instruction a vCPU runs with IF clear (kvm_pvm): the ISRs and both
# senders, which never enable interrupts.
#   lib/bench/halt_wakeup_peer.sh [SECONDS]      (default 10 per program)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${IRQBENCH_BUILD:-$top/build}
secs=${1:-10}
make -s -C "$top" programs peers >/dev/null || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')

# peer PLACEMENT PCPUS [taskset...]: one row.
peer() {
	local place=$1 pcpus=$2 sent wakes rc
	shift 2
	echo "# $place: load before $(cut -d' ' -f1-3 /proc/loadavg)"
	IRQBENCH_EXITS_OUT=$out/peer.exits LD_PRELOAD=$build/peer/kvm_exits.so \
		"$@" "$build/peer/xapic_ipi_test" -s "$secs" >"$out/peer" 2>&1 || { cat "$out/peer"; exit 1; }
	sent=$(sed -n 's/^Sending vCPU sent \([0-9]*\) IPIs.*/\1/p' "$out/peer")
	# About as many round trips as upstream made, capped by one phase's size.
	wakes=$((sent > 4096 ? 4096 : (sent < 1000 ? 1000 : sent)))
	rm -f "$out/results.jsonl"
	IRQBENCH_RESULTS_DIR=$out IRQBENCH_EXITS_OUT=$out/ours.exits LD_PRELOAD=$build/peer/kvm_exits.so \
		"$build/x86/halt_wakeup" --vcpus 2 --pcpus "$pcpus" --sources ipi \
		--orders rr --halt-poll on --wakes "$wakes" >"$out/ours" 2>&1
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 4 ] || { cat "$out/ours"; exit 1; }
	echo "# $place: load after $(cut -d' ' -f1-3 /proc/loadavg)"
	python3 - "$out" "$sent" "$secs" "$place" "$pcpus" <<'PY'
import json, sys
out, sent, secs, place, pcpus = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
peer = sent / secs
recs = [json.loads(l) for l in open(out + "/results.jsonl")]
def cell(metric):
    return next(r for r in recs if r["variant"] == f"ipi.rr.poll-on.p{pcpus}.m2" and r["metric"] == metric)
r, lat = cell("wakeups_per_sec"), cell("wakeup_latency")
ours = r["value"]
ratio = ours / peer if peer else float("nan")
print(f"{place}: upstream xapic_ipi_test {peer:.0f} IPIs/s; irqbench halt_wakeup {ours:.0f} IPIs/s "
      f"(send-to-ISR p50 {lat['summary']['p50'] / 1000:.1f} us, p99 {lat['summary']['p99'] / 1000:.1f} us); "
      f"ratio {ratio:.3f} ({'meets' if ratio >= 0.97 else 'below'} the goal of 0.97: the harness costs nothing the peer does not)")


def exits(path):
    with open(path) as f:
        return {k: int(v) for k, v in (line.split() for line in f)}


# Every wakeup ours sent: the cell's, the control's, one stop per target.
trips = {"upstream": sent,
         "irqbench": sum(m["value"] for m in recs if m["metric"] in ("interrupts_sent", "control_wakeups")) + 1}
for who, path in (("upstream", out + "/peer.exits"), ("irqbench", out + "/ours.exits")):
    try:
        e = exits(path)
    except (OSError, ValueError) as err:
        print(f"{place}: {who}: no exit counts ({err})")
        continue
    n = trips[who]
    print(f"{place}: {who}: {n} round trips, {e.get('vcpus', 0)} vCPUs; per round trip: "
          + ", ".join(f"{k} {e[k] / n:.3f}" for k in ("exits", "halt_exits", "irq_injections", "insn_emulation") if k in e and n))
PY
}

peer "one CPU (P=1)" 1 taskset -c "$cpu"
peer "two CPUs (P=2, upstream unpinned)" 2
