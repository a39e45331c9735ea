# SPDX-License-Identifier: GPL-2.0-only
"""TAP checks for the Python parts of tests/test_*.sh (tests/tap.sh's twin):
one "ok N what" / "not ok N what" line per check; done() prints the plan and
exits 0 if all passed, else 1.  Run with PYTHONPATH=<repo>/tests."""
import sys

_num = 0
_failed = 0


def check(ok, what):
    global _num, _failed
    _num += 1
    print(("ok" if ok else "not ok"), _num, what)
    _failed += not ok


def done():
    print(f"1..{_num}")
    sys.exit(1 if _failed else 0)


def ktap_names(ktap):
    """The names of a KTAP stream's top-level results, in order."""
    import re
    return [m.group(1) for m in re.finditer(r"^(?:not )?ok \d+ (\S+)", ktap, re.M)]


def ktap_exit(ktap, metric_skips=()):
    """The exit status a harness program owes for its KTAP output (a
    string), as lib/ktap.c's ktap_exit_code() gives it: 1 if a result
    failed ("not ok" without "# TODO"), the results do not match the plan
    or it bailed out; else 4 if a case was skipped; else 0.  metric_skips:
    the names whose "ok ... # SKIP" is one optional metric's
    (KTAP_SKIP_METRIC), which does not make the run a skip."""
    import re
    lines = ktap.splitlines()
    results = [line for line in lines if line.startswith(("ok ", "not ok "))]
    plans = [int(m.group(1)) for m in (re.match(r"1\.\.(\d+)$", line) for line in lines) if m]
    failed = [line for line in results if line.startswith("not ok") and "# TODO" not in line]
    skipped = [m.group(1) for m in map(re.compile(r"ok \d+ (\S+) # SKIP").match, results)
               if m and m.group(1) not in metric_skips]
    if failed or plans != [len(results)] or any(line.startswith("Bail out!") for line in lines):
        return 1
    return 4 if skipped else 0


def check_exit(rc, ktap, what, metric_skips=()):
    """rc is the exit status ktap_exit() says ktap owes: a skip never
    reads as a pass, nor a failure as a skip."""
    want = ktap_exit(ktap, metric_skips)
    check(rc == want, f"{what}: exit status {rc}, as its KTAP lines say ({want})")


def names_problem(ktap, recs):
    """KTAP names equal the records' variants (lib/harness.h): every result
    has records under its name, and every record's variant is a result's
    name or lies under one ("same" owns "same.periodic").  "" if so, else
    what is wrong."""
    names = ktap_names(ktap)
    variants = {r["variant"] for r in recs}
    unrecorded = [n for n in names if n not in variants]
    orphans = sorted(v for v in variants
                     if not any(v == n or v.startswith(n + ".") for n in names))
    return ("no KTAP result" if not names else "") + \
        (f"no record: {unrecorded[:5]} " if unrecorded else "") + \
        (f"no KTAP line: {orphans[:5]}" if orphans else "")


def check_names(ktap, recs, what):
    problem = names_problem(ktap, recs)
    check(not problem, f"{what}: {len(ktap_names(ktap))} KTAP names are the records' variants"
          + (f"; {problem}" if problem else ""))

def node_cpus():
    """How many CPUs this process may use on each NUMA node that has one
    (sysfs, which libnuma reads too); without NUMA in sysfs, one node of
    them all."""
    import glob
    import os
    allowed, counts = os.sched_getaffinity(0), []
    for f in glob.glob("/sys/devices/system/node/node[0-9]*/cpulist"):
        cpus = set()
        for part in filter(None, open(f).read().strip().split(",")):
            lo, _, hi = part.partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
        if cpus & allowed:
            counts.append(len(cpus & allowed))
    return counts or [len(allowed)]


def numa_nodes():
    """NUMA nodes with a CPU this process may use."""
    return len(node_cpus())


def check_cross_node(ktap_path, jsonl_path, rc, what, metric_skips=()):
    """A --placement cross-node run: with one NUMA node every case SKIPs
    with the reason (exit 4) and its records say so; with more, it runs
    (no failure, the exit status its KTAP lines owe: ktap_exit()) and every
    record carries node_placement=cross-node."""
    import json
    import os
    ktap = open(ktap_path).read()
    recs = ([json.loads(line) for line in open(jsonl_path)]
            if os.path.exists(jsonl_path) else [])
    results = [line for line in ktap.splitlines() if line.startswith(("ok ", "not ok "))]
    placed = bool(recs) and all(r.get("params", {}).get("node_placement") == "cross-node" for r in recs)
    if numa_nodes() == 1:
        check(rc == 4 and results and placed and
              all(" # SKIP cross-node: needs two NUMA nodes" in line for line in results) and
              all(r["value"] is None and "NUMA node" in r.get("skipped", "") for r in recs),
              f"{what} --placement cross-node on one NUMA node: {len(results)} cases SKIP with the reason (exit {rc})")
    else:
        want = ktap_exit(ktap, metric_skips)
        check(rc == want and results and placed and not [line for line in results if line.startswith("not ok")],
              f"{what} --placement cross-node on {numa_nodes()} nodes: ran, records say cross-node "
              f"(exit {rc}, its KTAP lines say {want})")
    check_names(ktap, recs, f"{what} --placement cross-node")


if __name__ == "__main__":
    # tap.py names KTAP RESULTS.JSONL TEST: the check for shell tests
    # (exit 0 if it holds, else 1 with what is wrong on stdout).
    import json
    if len(sys.argv) != 5 or sys.argv[1] != "names":
        sys.exit("usage: tap.py names KTAP RESULTS.JSONL TEST")
    try:
        ktap = open(sys.argv[2]).read()
        recs = [r for r in map(json.loads, open(sys.argv[3])) if r["test"] == sys.argv[4]]
    except (OSError, ValueError) as e:
        print(e)
        sys.exit(1)
    problem = names_problem(ktap, recs)
    if problem:
        print(problem)
    sys.exit(1 if problem else 0)
