#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh matrix: the detection matrix (docs/detection.md).

Reads the cells of tests/detection.cfg, one per line, fields separated by
" | ":  PLACE | RUNNER-ARGS | TEST | TEST-ARGS | EXPECT   (# comments)

  PLACE        a short name; "host" runs natively on this machine (RUNNER-ARGS
               empty), any other is booted with run.sh kernel RUNNER-ARGS
               (split as a shell would, without expansion; paths relative to
               the repository).  One PLACE, one RUNNER-ARGS.
  TEST         a test of tests.cfg; TEST-ARGS its arguments (empty: the
               table's nested profile, quick on the host)
  EXPECT       pass                      exit 0 and no KTAP "not ok" line
               fail REGEX                some "not ok" line matches the ERE
               verdict GLOB=VALUE[,VALUE] ...
                                         every verdict record of the
                                         variants matching GLOB says VALUE
                                         (one of them; at least one record)
               above PLACE METRIC GLOB   for every variant matching GLOB,
                                         METRIC's interval low bound here is
                                         above its high bound at PLACE (same
                                         test and TEST-ARGS, which PLACE
                                         must have a cell for), and the run
                                         passes as for pass: a cost, not a
                                         broken delivery
               on MODULE[,MODULE] EXPECT EXPECT, judged only where the run's
                                         KVM module (host.kvm_module) is one
                                         of those; elsewhere n/a, not judged
Cells of one place share its boots: one boot runs each test once, so a
place that runs a test with two sets of TEST-ARGS boots twice.  The cells
of one run (place, test, test args) share it.  Except for `fail`, a cell
also needs every control record of its run to say pass: a verdict from a
counter that saw nothing proves nothing.

The places boot in parallel through run.sh kernel --places (-j N, default
the number of CPUs); host runs go first, one at a time.  Prints every cell
and the scenario x place table with the verdicts and counts; writes
matrix.md and matrix.tsv into the results folder (--out DIR, new or empty;
default results/<time>-matrix/).

Exit: 0 every cell as expected, 1 some cell not, 2 a bad file or usage
(one line; a bad line names FILE:LINE), 3 the environment failed.
"""

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import time

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_FILE = os.path.join(ROOT, "tests", "detection.cfg")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
USAGE = """usage: run.sh matrix [--file FILE] [-j N] [--place-timeout S] [--out DIR]
                     [--only PLACE,...] [--skip-test TEST,...] [--list]
  Boots the places of FILE (default tests/detection.cfg) in parallel, runs
  each cell's test there and prints scenario x place -> verdict with the
  counts; matrix.md in the results folder.  --only: those places' cells;
  --skip-test: all cells but those of TEST.  --list: the cells and the
  boots they need, nothing run.  Exit 0 all as expected, 1 not, 2 bad input."""


def die(code, msg):
    print(f"run.sh matrix: error: {msg}", file=sys.stderr)
    sys.exit(code)


def bash(script, *args):
    """Run a bash snippet with the project's shell helpers; stdout."""
    r = subprocess.run(["bash", "-c", script, "bash", *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise RuntimeError((r.stderr.strip().splitlines() or ["failed"])[-1])
    return r.stdout


class Cell:
    def __init__(self, path, n, place, runner, test, targs, expect):
        self.where = f"{path}:{n}"
        self.place, self.runner, self.test, self.targs = place, runner, test, targs
        self.expect = expect
        # "on MODULE,... EXPECT": judged only where the run's KVM module is
        # one of those (a host cell's outcome depends on the host's KVM).
        self.modules = None
        if expect.startswith("on "):
            _, mods, expect = (expect.split(None, 2) + ["", ""])[:3]
            self.modules = set(mods.split(","))
        self.kind, _, self.rest = expect.partition(" ")
        self.rest = self.rest.strip()
        self.ok = False
        self.na = False  # not judged here (on MODULE: another KVM)
        self.seen = ""

    @property
    def run_key(self):
        return (self.place, self.test, self.targs)


def table_tests():
    """{test: {program, timeout, arch, args.quick}} from tests.cfg (the one parser)."""
    out = {}
    script = r"""
source lib/run/table.sh
table_load "$(table_default_file)" || exit 2
for t in $(table_tests); do
	printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$(table_get "$t" program)" "$(table_get "$t" timeout)" \
		"$(table_get "$t" arch)" "$(table_args "$t" quick)"
done"""
    for line in bash(script).splitlines():
        t, prog, to, arch, quick = (line.split("\t") + [""] * 5)[:5]
        out[t] = {"program": prog, "timeout": int(to or 90), "arch": arch, "quick": quick}
    return out


def parse(path):
    if not os.path.isfile(path):
        die(2, f"no such matrix file: {path}")
    tests = table_tests()
    cells, runner_of = [], {}
    with open(path) as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # (an empty field may be written "| |"; EXPECT, last, may hold "|")
        fields = [x.strip() for x in re.split(r"\s*\|\s*", line.strip(), maxsplit=4)]
        if len(fields) != 5:
            die(2, f"{path}:{n}: want 'PLACE | RUNNER-ARGS | TEST | TEST-ARGS | EXPECT' (5 fields, ' | ' between), got {len(fields)}")
        c = Cell(path, n, *fields)
        bad = lambda msg: die(2, f"{path}:{n}: {msg}")  # noqa: E731
        if not NAME_RE.match(c.place):
            bad(f"bad PLACE '{c.place}' (letters, digits, _ . -)")
        if c.place == "host" and c.runner:
            bad("PLACE host runs natively: RUNNER-ARGS must be empty")
        if c.place != "host" and not c.runner:
            bad(f"PLACE {c.place} needs RUNNER-ARGS (run.sh kernel options, e.g. --debian 6.12)")
        try:
            words = shlex.split(c.runner)
        except ValueError as e:
            bad(f"RUNNER-ARGS: {e}")
        if any(w in ("--out", "--places", "-j", "--jobs", "--args", "--test-args", "--check") for w in words):
            bad("RUNNER-ARGS must not set --out, --places, -j, --args, --test-args or --check (TEST-ARGS has the test's arguments)")
        if runner_of.setdefault(c.place, c.runner) != c.runner:
            bad(f"PLACE {c.place} has other RUNNER-ARGS on an earlier line ('{runner_of[c.place]}'): one place, one kernel")
        if c.test not in tests:
            bad(f"unknown test '{c.test}' (tests.cfg)")
        if c.modules is not None and (not all(NAME_RE.match(m) for m in c.modules)
                                      or c.kind not in ("pass", "fail", "verdict", "above")):
            bad("EXPECT on wants MODULE[,MODULE] EXPECT (e.g. on kvm_pvm verdict *.dest.*=not-provoked)")
        if c.kind == "pass":
            if c.rest:
                bad("EXPECT pass takes nothing after it")
        elif c.kind == "fail":
            if not c.rest:
                bad("EXPECT fail needs an extended regex")
            r = subprocess.run(["grep", "-E", "-e", c.rest], input="", capture_output=True, text=True)
            if r.returncode == 2:
                bad(f"EXPECT fail: bad regex '{c.rest}': {r.stderr.strip()}")
        elif c.kind == "verdict":
            pairs = c.rest.split()
            if not pairs or any("=" not in p or p.startswith("=") or p.endswith("=") for p in pairs):
                bad("EXPECT verdict wants VARIANT-GLOB=VALUE ...")
            c.pairs = [(g, set(v.split(","))) for g, v in (p.split("=", 1) for p in pairs)]
        elif c.kind == "above":
            w = c.rest.split()
            if len(w) != 3:
                bad("EXPECT above wants PLACE METRIC VARIANT-GLOB")
            c.ref, c.metric, c.glob = w
        else:
            bad(f"unknown EXPECT '{c.kind}' (pass, fail REGEX, verdict GLOB=VALUE ..., above PLACE METRIC GLOB, on MODULE EXPECT)")
        cells.append(c)
    if not cells:
        die(2, f"{path}: no cells")
    keys = {c.run_key for c in cells}
    for c in cells:
        if c.kind == "above":
            if c.ref == c.place:
                die(2, f"{c.where}: above {c.ref}: a place against itself")
            if (c.ref, c.test, c.targs) not in keys:
                die(2, f"{c.where}: above {c.ref}: {c.ref} has no cell running {c.test} with the same TEST-ARGS")
    return cells, tests


def plan_boots(cells):
    """[(boot name, place, runner args, [(test, args)])]: one test once per boot."""
    boots = []
    per_place = {}
    for c in cells:
        if c.place == "host":
            continue
        slots = per_place.setdefault(c.place, [])
        for s in slots:
            if s.get(c.test, c.targs) == c.targs:
                s[c.test] = c.targs
                break
        else:
            slots.append({c.test: c.targs})
    for place, slots in per_place.items():
        runner = next(c.runner for c in cells if c.place == place)
        for i, s in enumerate(slots):
            name = place if i == 0 else f"{place}.boot{i + 1}"
            boots.append((name, place, runner, list(s.items())))
    return boots


def records(path, test):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("test") == test:
                    out.append(r)
    except OSError:
        pass
    return out


def status_of(path, test):
    """(result, rc) of TEST in a status.tsv, or (None, None)."""
    try:
        with open(path) as f:
            for line in f:
                w = line.rstrip("\n").split("\t")
                if w[0] == test and len(w) >= 3:
                    return w[1], w[2]
    except OSError:
        pass
    return None, None


def not_ok_lines(path):
    try:
        with open(path, errors="replace") as f:
            return [ln.strip() for ln in f if re.match(r"^\s*not ok\b", ln)]
    except OSError:
        return []


def short(s, n=90):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def counts(values):
    c = {}
    for v in values:
        c[v] = c.get(v, 0) + 1
    return " ".join(f"{v}×{k}" for v, k in sorted(c.items(), key=lambda x: str(x[0])))


def run_host(key, tests, dest):
    _, test, targs = key
    t = tests[test]
    os.makedirs(dest, exist_ok=True)
    args = (targs if targs else t["quick"]).split()
    prog = os.path.join(os.environ.get("IRQBENCH_BUILD", os.path.join(ROOT, "build")), t["program"])
    env = dict(os.environ, IRQBENCH_RESULTS_DIR=dest, IRQBENCH_TEST=test)
    t0 = time.time()
    with open(os.path.join(dest, f"{test}.ktap"), "w") as ko, open(os.path.join(dest, f"{test}.log"), "w") as lo:
        try:
            rc = subprocess.run([prog, *args], stdout=ko, stderr=lo, env=env, cwd=dest, timeout=t["timeout"]).returncode
        except subprocess.TimeoutExpired:
            rc = 124
        except OSError as e:
            lo.write(f"cannot run {prog}: {e}\n")
            rc = 127
    # The status line run.sh writes: its classifier, its schema.
    line = bash('source lib/run/status.sh; source lib/run/exec.sh; classify "$2" "$3" "$4" "$5" "$6"; '
                'status_line "$1" "$R_RESULT" "$2" $(($3 / 1000000)) "$R_REASON"',
                test, str(rc), str(int((time.time() - t0) * 1e6)), str(t["timeout"]),
                os.path.join(dest, f"{test}.ktap"), os.path.join(dest, f"{test}.log"))
    with open(os.path.join(dest, "status.tsv"), "a") as f:
        f.write(line)


def evaluate(c, dirs, ref_recs):
    d = dirs.get(c.run_key)
    if d is None:
        c.seen = "not run"
        return
    recs = records(os.path.join(d, "results.jsonl"), c.test)
    result, rc = status_of(os.path.join(d, "status.tsv"), c.test)
    nok = not_ok_lines(os.path.join(d, f"{c.test}.ktap"))
    controls = [r.get("value") for r in recs if r.get("metric") == "control"]
    ctl_note = f"; controls {counts(controls)}" if controls else ""
    controls_ok = all(v == "pass" for v in controls)
    if result is None:
        c.seen = "no result (boot failed or timed out; see the place's log)"
        return
    passed = rc == "0" and not nok  # what pass needs, and above too
    module = next((r["host"].get("kvm_module") for r in recs if isinstance(r.get("host"), dict)), None)
    if c.modules is not None and module is not None and module not in c.modules:
        c.ok, c.na = True, True
        c.seen = f"n/a: the run's KVM module is {module}, the cell's {','.join(sorted(c.modules))}"
        return
    if c.kind == "pass":
        c.ok = passed
        c.seen = f"{result} (exit {rc})" + (f"; {short(nok[0])}" if nok else "")
    elif c.kind == "fail":
        hit = [ln for ln in nok if subprocess.run(["grep", "-qE", "-e", c.rest], input=ln, text=True).returncode == 0]
        c.ok = bool(hit)
        if hit:
            c.seen = f"caught: {short(hit[0], 140)}" + (f" (+{len(nok) - 1} more not ok)" if len(nok) > 1 else "")
        else:
            c.seen = f"{result} (exit {rc}), {len(nok)} not ok" + (f"; first: {short(nok[0])}" if nok else "")
        controls_ok = True
    elif c.kind == "verdict":
        parts, ok = [], True
        for glob, want in c.pairs:
            vs = [r for r in recs if r.get("metric") == "verdict" and fnmatch.fnmatchcase(str(r.get("variant", "")), glob)]
            vals = [r.get("value") if r.get("value") is not None else "skipped" for r in vs]
            good = bool(vs) and all(v in want for v in vals)
            ok = ok and good
            why = next((r.get("reason") for r in vs if r.get("reason")), "")
            parts.append(f"{glob}: {counts(vals) or 'no verdict'}" + (f" ({short(why, 70)})" if why else ""))
        c.ok = ok
        c.seen = "; ".join(parts)
    elif c.kind == "above":
        mine = {r.get("variant"): r for r in recs if r.get("metric") == c.metric
                and fnmatch.fnmatchcase(str(r.get("variant", "")), c.glob)}
        refs = {r.get("variant"): r for r in ref_recs(c) if r.get("metric") == c.metric}
        parts, ok = [], bool(mine)
        for v, r in sorted(mine.items()):
            ref = refs.get(v)
            lo, hi = r.get("ci_low"), (ref or {}).get("ci_high")
            good = isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi
            ok = ok and good
            fmt = lambda x: "-" if x is None else f"{x:.0f}" if isinstance(x, (int, float)) else str(x)  # noqa: E731
            parts.append(f"{v}: {fmt(r.get('value'))} [{fmt(lo)}, {fmt(r.get('ci_high'))}] vs {c.ref} "
                         + (f"{fmt(ref.get('value'))} [{fmt(ref.get('ci_low'))}, {fmt(hi)}]" if ref else "none"))
        c.ok = ok and passed
        c.seen = "; ".join(parts) or f"no {c.metric} record for {c.glob}"
        if not passed:
            c.seen += f"; {result} (exit {rc})" + (f": {short(nok[0])}" if nok else "")
    c.controls_bad = not controls_ok
    if not controls_ok:
        c.ok = False
    c.seen += ctl_note


def scenario(c, multi):
    return f"{c.test} {c.targs}" if c.targs and c.test in multi else c.test


def main(argv):
    path, jobs, out, timeout, only, listing = DEFAULT_FILE, str(os.cpu_count() or 1), "", "0", None, False
    skip_tests = set()
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a == "--list":
            listing = True
            i += 1
            continue
        if a in ("--file", "-j", "--jobs", "--out", "--place-timeout", "--only", "--skip-test"):
            if i + 1 >= len(argv):
                die(2, f"option {a} needs a value")
            v = argv[i + 1]
            if a == "--file":
                path = v
            elif a in ("-j", "--jobs"):
                jobs = v
            elif a == "--out":
                out = v
            elif a == "--only":
                only = set(v.split(","))
            elif a == "--skip-test":
                skip_tests = set(v.split(","))
            else:
                timeout = v
            i += 2
            continue
        die(2, f"unknown argument '{a}' (try run.sh matrix --help)")
    if not jobs.isdigit() or int(jobs) < 1:
        die(2, f"-j wants a number > 0, not '{jobs}'")
    cells, tests = parse(path)
    unknown = skip_tests - {c.test for c in cells}
    if unknown:
        die(2, f"--skip-test: no cell of {', '.join(sorted(unknown))} in {path}")
    cells = [c for c in cells if c.test not in skip_tests]
    if only is not None:
        unknown = only - {c.place for c in cells}
        if unknown:
            die(2, f"--only: no place {', '.join(sorted(unknown))} in {path}")
        refs = {c.ref for c in cells if c.place in only and c.kind == "above"}
        cells = [c for c in cells if c.place in only or c.place in refs]
    boots = plan_boots(cells)
    hosts = sorted({c.run_key for c in cells if c.place == "host"})
    if listing:
        for c in cells:
            print(f"{c.place}\t{c.test}\t{c.targs}\t{c.expect}")
        for name, place, runner, ts in boots:
            print(f"boot {name}: {runner} -- {' '.join(t for t, _ in ts)}")
        return 0

    try:
        if out:
            if os.path.exists(out) and os.listdir(out):
                die(2, f"--out {out} exists and is not empty")
            os.makedirs(out, exist_ok=True)
            out = os.path.abspath(out)
        else:
            rr = os.environ.get("IRQBENCH_RESULTS_ROOT", os.path.join(ROOT, "results"))
            out = bash('source lib/run/outdir.sh; outdir_new "$1" "$2" || { echo "$OUTDIR_ERR" >&2; exit 1; }; echo "$OUTDIR_NEW"',
                       rr, time.strftime("%Y%m%d-%H%M%S") + "-matrix").strip()
    except (OSError, RuntimeError) as e:
        die(3, f"cannot create the results folder: {e}")
    print(f"irqbench matrix: {len(cells)} cell(s), {len(hosts)} host run(s), {len(boots)} boot(s), -j {jobs}; results in {out}", flush=True)
    t0 = time.time()
    dirs = {}
    if hosts:
        r = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "-j2"], stdout=sys.stderr)
        if r.returncode:
            die(3, "make failed (host runs need build/)")
    for k, key in enumerate(hosts, 1):
        dest = os.path.join(out, "host", f"{key[1]}.{k}")
        th = time.time()
        run_host(key, tests, dest)
        print(f"[host {k}/{len(hosts)}] {key[1]} {key[2]}: {status_of(os.path.join(dest, 'status.tsv'), key[1])[0]} in {time.time() - th:.0f}s", flush=True)
        dirs[key] = dest
    prc = 0
    if boots:
        pf = os.path.join(out, "places.txt")
        with open(pf, "w") as f:
            f.write("# the boots of the matrix (run.sh kernel --places)\n")
            for name, place, runner, ts in boots:
                extra = [f"--test-args {shlex.quote(f'{t}={a}')}" for t, a in ts if a]
                f.write(f"{name} | {runner} {' '.join(extra)} {' '.join(t for t, _ in ts)}\n")
        cmd = [os.path.join(ROOT, "lib", "kernel", "run-kernel.sh"), "--places", pf, "-j", jobs,
               "--place-timeout", timeout, "--out", os.path.join(out, "places")]
        prc = subprocess.run(cmd, cwd=ROOT).returncode
        if prc == 2 or prc >= 128:
            die(2 if prc == 2 else prc, "the places did not run (see above)")
        for name, place, runner, ts in boots:
            for t, a in ts:
                dirs[(place, t, a)] = os.path.join(out, "places", name)

    def ref_recs(c):
        d = dirs.get((c.ref, c.test, c.targs))
        return records(os.path.join(d, "results.jsonl"), c.test) if d else []

    for c in cells:
        evaluate(c, dirs, ref_recs)
    wall = time.time() - t0

    # The cells, then scenario x place.
    good = sum(c.ok for c in cells)
    lines = []
    for c in cells:
        lines.append(f"{'ok  ' if c.ok else 'MISS'} {c.place:<28} {c.test:<17} {c.expect[:60]:<60} -> {c.seen}")
    by_test = {}
    for c in cells:
        by_test.setdefault(c.test, set()).add(c.targs)
    multi = {t for t, s in by_test.items() if len(s) > 1}
    places = list(dict.fromkeys(c.place for c in cells))
    rows = list(dict.fromkeys(scenario(c, multi) for c in cells))
    grid = {}
    for c in cells:
        mark = "✓" if c.ok else "✗"
        word = {"pass": "green", "fail": "caught" if c.ok else "not caught", "verdict": "", "above": "above" if c.ok else "not above"}[c.kind]
        if c.kind == "verdict":
            word = " ".join("/".join(sorted(v)) for _, v in c.pairs) if c.ok else "other verdict"
        if getattr(c, "controls_bad", False):
            word = "a control failed"
        if c.na:
            continue
        grid.setdefault((scenario(c, multi), c.place), []).append(f"{mark} {word}")
    print()
    for ln in lines:
        print(ln)
    print()
    w = max(len(r) for r in rows)
    print(f"{'scenario':<{w}}  " + "  ".join(places))
    for r in rows:
        print(f"{r:<{w}}  " + "  ".join(f"{', '.join(grid.get((r, p), ['-'])):<{len(p)}}" for p in places))
    summary = f"{len(cells)} cells: {good} as expected, {len(cells) - good} not; {len(boots)} boot(s) and {len(hosts)} host run(s) in {wall:.0f} s at -j {jobs}"
    print()
    print(summary)

    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    with open(os.path.join(out, "matrix.md"), "w") as f:
        f.write(f"# Detection matrix\n\nFrom `{os.path.relpath(path, ROOT) if path.startswith(ROOT) else path}`; {summary}.\n\n")
        f.write("| scenario | " + " | ".join(places) + " |\n|" + " --- |" * (len(places) + 1) + "\n")
        for r in rows:
            f.write(f"| {esc(r)} | " + " | ".join(esc(", ".join(grid.get((r, p), ["-"]))) for p in places) + " |\n")
        f.write("\n| place | test | test args | expect | result | seen |\n| --- | --- | --- | --- | --- | --- |\n")
        for c in cells:
            f.write(f"| {c.place} | {c.test} | {esc(c.targs or '(profile)')} | {esc(c.expect)} | {'as expected' if c.ok else '**not**'} | {esc(c.seen)} |\n")
    with open(os.path.join(out, "matrix.tsv"), "w") as f:
        f.write("where\tplace\ttest\ttest_args\texpect\tok\tseen\n")
        for c in cells:
            f.write("\t".join([c.where, c.place, c.test, c.targs, c.expect, "1" if c.ok else "0", c.seen.replace("\t", " ")]) + "\n")
    print(f"results: {out}")
    if good == len(cells):
        return 0
    return 3 if prc == 3 and good == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
