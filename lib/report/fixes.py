#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh fixes [RUN]: for each known fix (lib/fixes.tsv), is it present,
absent, or not measurable here, judging from a run's records.

Exit: 0 (a report, whatever the states), 2 bad input.
"""

import fnmatch
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from records import BadInput, Run, ROOT  # noqa: E402

FIXES = os.path.join(ROOT, "lib", "fixes.tsv")
COLUMNS = ["name", "seed", "changes", "upstream", "test", "metric", "variants", "requires", "predicate"]

USAGE = """usage: run.sh fixes [--long] [RUN]
  For each fix in lib/fixes.tsv: present, absent, or not measurable here
  (with the reason), from RUN's records (default: results/latest).
  --long   also print what each fix changes"""


def die(msg):
    print(f"run.sh fixes: {msg}", file=sys.stderr)
    sys.exit(2)


def read_fixes(path=FIXES):
    fixes = []
    header_seen = False
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != len(COLUMNS):
                raise BadInput(f"{path}:{n}: {len(cols)} columns, want {len(COLUMNS)}")
            if not header_seen:
                if cols != COLUMNS:
                    raise BadInput(f"{path}:{n}: header must be: {' '.join(COLUMNS)}")
                header_seen = True
                continue
            fx = dict(zip(COLUMNS, cols))
            fx["where"] = f"{path}:{n}"
            parse_predicate(fx)
            fixes.append(fx)
    return fixes


def parse_predicate(fx):
    p = fx["predicate"].split()
    if p and p[0] == "map" and len(p) > 1 and all(re.fullmatch(r"[^=]+=(present|absent)", x) for x in p[1:]):
        fx["map"] = dict(x.split("=", 1) for x in p[1:])
        return
    m = re.fullmatch(r"value(<=|>=|==)(-?[0-9.]+)", fx["predicate"])
    if m:
        fx["cmp"] = (m.group(1), float(m.group(2)))
        return
    raise BadInput(f"{fx['where']}: bad predicate '{fx['predicate']}' "
                   "(map VALUE=present|absent ..., or value<=N, value>=N, value==N)")


def unmet_requirement(fx, run, recs):
    for req in fx["requires"].split(","):
        req = req.strip()
        if req in ("", "-"):
            continue
        if req.startswith("arch="):
            arch = run.meta.get("arch") or os.uname().machine
            if arch != req[5:]:
                return f"needs {req[5:]}, the run is on {arch}"
        elif req == "apicv":
            apicv = [m.apicv for m in recs if m.apicv is not None]
            if apicv and not any(apicv):
                mod = (run.meta.get("kvm_vendor") or "this host's KVM")
                return f"needs APICv and posted interrupts; {mod} has none (host.apicv=false)"
        elif req == "posted_interrupts":
            paths = [m.params.get("pi_path") for m in recs if "pi_path" in m.params]
            apicv = [m.apicv for m in recs if m.apicv is not None]
            if (paths and all(p == "none" for p in paths)) or (not paths and apicv and not any(apicv)):
                return "needs posted interrupts to blocked vCPUs (IPI virtualization or VT-d posting); the records say " + \
                    ("pi_path=none" if paths else "host.apicv=false")
        elif req == "gicv4":
            if not any(m.params.get("its") == "gicv4" for m in recs):
                return "needs GICv4 direct vLPI injection (doorbells); the records use the emulated ITS"
        else:
            return f"unknown requirement '{req}' in lib/fixes.tsv"
    return None


def judge(fx, run):
    """(state, why) for one fix."""
    test, metric = fx["test"], fx["metric"]
    recs = [m for m in run.metrics.values()
            if m.test == test and m.name == metric and fnmatch.fnmatchcase(m.variant, fx["variants"])]
    why = unmet_requirement(fx, run, recs or [m for m in run.metrics.values() if m.test == test])
    if why:
        return "not measurable here", why
    if not recs:
        st = run.status.get(test)
        if st:
            return "not measurable here", f"{test} {st[0]}" + (f": {st[1]}" if st[1] else "") + f", no {metric} record"
        return "not measurable here", f"the run has no {test} {metric} records ({test} not run)"
    seen = {"present": {}, "absent": {}, "nm": {}}  # state -> {value: [tags]}
    reasons = {}
    for m in recs:
        tag = m.variant or m.test
        if m.params_str:
            tag += f"[{m.params_str}]"
        if "map" in fx:
            value = m.value if m.kind == "text" else m.kind
            state = fx["map"].get(m.value, "nm") if m.kind == "text" else "nm"
        else:
            v = m.median() if m.kind in ("samples", "count", "summary", "estimate") else None
            if v is None:
                value, state = m.kind, "nm"
            else:
                op, n = fx["cmp"]
                ok = v <= n if op == "<=" else v >= n if op == ">=" else v == n
                value, state = f"{v:g}", "present" if ok else "absent"
        seen[state].setdefault(value, []).append(tag)
        if state == "nm" and m.reason:
            reasons.setdefault(value, m.reason)

    def groups(state):
        out = []
        for value, tags in seen[state].items():
            g = f"{value} in {', '.join(tags)}"
            if state == "nm" and value in reasons:
                g += f" ({shorten(reasons[value])})"
            out.append(g)
        return "; ".join(out)

    if seen["absent"]:
        extra = f"; present: {groups('present')}" if seen["present"] else ""
        return "absent", groups("absent") + extra
    if seen["present"]:
        extra = f"; not measurable: {groups('nm')}" if seen["nm"] else ""
        return "present", groups("present") + extra
    return "not measurable here", groups("nm")


def shorten(text, n=90):
    return text if len(text) <= n else text[: n - 3] + "..."


def main(argv):
    long = False
    args = []
    for a in argv:
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a == "--long":
            long = True
        elif a.startswith("-"):
            die(f"unknown option '{a}' (try 'run.sh fixes --help')")
        else:
            args.append(a)
    if len(args) > 1:
        die("takes at most one results folder")
    root = os.environ.get("IRQBENCH_RESULTS_ROOT") or os.path.join(ROOT, "results")
    path = args[0] if args else os.path.join(root, "latest")
    if not args and not os.path.isdir(path):
        die(f"no run to read: {path} is missing (run 'run.sh run' first, or name a results folder)")
    try:
        fixes = read_fixes()
        run = Run(path)
    except BadInput as e:
        die(str(e))
    print(f"fixes, from {run.path} ({run.describe()}):")
    rows = [["fix", "seed", "state", "evidence / reason", "upstream"]]
    for fx in fixes:
        state, why = judge(fx, run)
        evidence = f"{fx['test']} {fx['metric']}: {why}"
        # A terminal line stays readable; --long gives the whole evidence.
        if not long and len(evidence) > 160:
            evidence = evidence[:157] + "..."
        rows.append([fx["name"], fx["seed"], state, evidence, fx["upstream"]])
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(r[i].ljust(w[i]) for i in range(4)) + "  " + r[4])
    if long:
        for fx in fixes:
            print(f"\n{fx['name']} (seed {fx['seed']}): {fx['changes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
