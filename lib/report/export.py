#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""run.sh export --junit|--kcidb [--out FILE] [--origin NAME] RUN: a
finished results folder (run.sh run, run.sh kernel, a bisect step) in the
formats CI systems read.

  --junit  JUnit XML: one testsuite per test, one testcase per variant
           (lib/report/cases.py), SKIP and FAIL with their reasons.
  --kcidb  KernelCI KCIDB JSON, schema v5.3: one checkout (the kernel
           release), one build (that kernel with its KVM module), and tests
           irqbench.TEST and irqbench.TEST.VARIANT with status PASS, FAIL,
           ERROR, SKIP or DONE, the numeric metrics in misc.  For kcidb-submit.

Default output RUN/junit.xml or RUN/kcidb.json; --out - for stdout.
Exit: 0 written, 2 bad input (one line).
"""

import hashlib
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from records import BadInput, Run  # noqa: E402
import cases  # noqa: E402

KCIDB_VERSION = {"major": 5, "minor": 3}
LOG_EXCERPT_MAX = 16384  # the schema's maxLength of log_excerpt

USAGE = """usage: run.sh export --junit|--kcidb [--out FILE] [--origin NAME] RUN
  RUN          a finished results folder (run.sh run, run.sh kernel, bisect)
  --junit      JUnit XML (default RUN/junit.xml)
  --kcidb      KernelCI KCIDB JSON, schema v5.3 (default RUN/kcidb.json)
  --out FILE   write there instead; - for stdout
  --origin N   KCIDB origin (the submitting CI system's name, [a-z0-9_]+;
               default irqbench)
Exit: 0 written, 2 bad input."""


def die(msg):
    print(f"run.sh export: {msg}", file=sys.stderr)
    sys.exit(2)


def tail(path, limit):
    """The end of a log file, at most LIMIT characters, without NULs."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().replace("\0", "")
    except OSError:
        return ""
    return text[-limit:]


def metric_lines(ms):
    lines = []
    for m in ms:
        d = cases.numbers(m)
        if d is not None:
            lines.append(f"{cases.metric_key(m)}: " + " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                                            for k, v in d.items()))
        elif m.kind == "text":
            lines.append(f"{cases.metric_key(m)}: {m.value}" + (f" ({m.reason})" if m.reason else ""))
        elif m.kind == "skipped":
            lines.append(f"{cases.metric_key(m)}: skipped ({m.reason or 'no reason'})")
    return lines


# ---- JUnit ----------------------------------------------------------------

def junit(run):
    """The JUnit XML document (bytes) of RUN."""
    meta = run.meta
    top = ET.Element("testsuites", name=f"irqbench {run.name}")
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    for s in cases.suites(run):
        el = ET.SubElement(top, "testsuite", name=s.test)
        if meta.get("hostname"):
            el.set("hostname", str(meta["hostname"]))
        if meta.get("date"):
            el.set("timestamp", str(meta["date"]).rstrip("Z"))
        props = ET.SubElement(el, "properties")
        for k in ("kernel_release", "kvm_vendor", "irqbench_version", "profile", "arch"):
            if meta.get(k) is not None:
                ET.SubElement(props, "property", name=k, value=str(meta[k]))
        ET.SubElement(props, "property", name="result", value=s.status)
        n = dict(tests=0, failures=0, errors=0, skipped=0)
        for c in s.cases:
            tc = ET.SubElement(el, "testcase", classname=f"irqbench.{s.test}", name=c.name)
            tc.set("time", "0")
            n["tests"] += 1
            if c.status == "FAIL":
                ET.SubElement(tc, "failure", message=c.reason or "failed", type="FAIL")
                n["failures"] += 1
            elif c.status == "ERROR":
                e = ET.SubElement(tc, "error", message=c.reason or "failed", type="ERROR")
                e.text = tail(os.path.join(run.path, f"{s.test}.log"), 4000)
                n["errors"] += 1
            elif c.status in ("SKIP", "TODO"):
                # A known bug (TODO) is reported, not failed: as run.sh does.
                msg = c.reason if c.status == "SKIP" else f"TODO (known kernel bug): {c.reason}"
                ET.SubElement(tc, "skipped", message=msg or "skipped")
                n["skipped"] += 1
            lines = metric_lines(c.metrics)
            if lines:
                ET.SubElement(tc, "system-out").text = "\n".join(lines) + "\n"
        if s.seconds is not None:
            el.set("time", f"{s.seconds:g}")
        for k, v in n.items():
            el.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        top.set(k, str(v))
    ET.indent(top)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="utf-8") + b"\n"


# ---- KCIDB ----------------------------------------------------------------

def path_part(name):
    """A KCIDB path component: [a-zA-Z0-9_-]+, dots kept as the tree's."""
    parts = [re.sub(r"[^a-zA-Z0-9_-]+", "_", p).strip("_") or "_" for p in name.split(".")]
    return ".".join(parts)


def digest(*parts):
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def case_misc(c, irqbench_version):
    misc = {}
    nums = {cases.metric_key(m): d for m in c.metrics if (d := cases.numbers(m)) is not None}
    text = {cases.metric_key(m): m.value for m in c.metrics if m.kind == "text"}
    skipped = {cases.metric_key(m): m.reason or "skipped" for m in c.metrics if m.kind == "skipped"}
    if nums:
        misc["metrics"] = nums
    if text:
        misc["values"] = text
    if skipped:
        misc["skipped_metrics"] = skipped
    if c.status == "TODO":
        misc["known_bug"] = True
    if irqbench_version:
        misc["irqbench_version"] = irqbench_version
    return misc


def clean(v):
    """V without nulls and non-finite numbers: KCIDB allows neither."""
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if x is not None and not (isinstance(x, float) and x != x)}
    if isinstance(v, list):
        return [clean(x) for x in v if x is not None]
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return str(v)
    return v


def kcidb(run, origin):
    """The KCIDB document (a dict) of RUN."""
    meta = run.meta
    release = meta.get("kernel_release") or "unknown"
    version = meta.get("kernel_version") or ""
    irq_ver = meta.get("irqbench_version") or ""
    runner = meta.get("kernel_runner")
    checkout_id = f"{origin}:linux-{release}-{digest(release, version)}"
    build_id = f"{origin}:kvm-{release}-{digest(release, version, meta.get('kvm_vendor'), meta.get('kvm_modules'), runner)}"
    checkout = {"id": checkout_id, "origin": origin, "valid": True,
                "comment": f"Linux {release}" + (f" {version}" if version else ""),
                "misc": {k: meta[k] for k in ("kernel_release", "kernel_version") if meta.get(k)}}
    build = {"id": build_id, "checkout_id": checkout_id, "origin": origin, "status": "PASS",
             "comment": f"Linux {release}, KVM module {meta.get('kvm_vendor') or 'unknown'}",
             "misc": {k: meta[k] for k in ("kvm_vendor", "kvm_modules", "ksrc_version", "irqbench_version",
                                            "kernel_runner") if meta.get(k)}}
    arch = re.sub(r"[^a-z0-9_]", "_", str(meta.get("arch") or "").lower())
    if arch:
        build["architecture"] = arch
    env_misc = {k: meta[k] for k in ("hostname", "cpu_model", "ncpus", "hypervisor", "host_load", "cmdline",
                                      "timing_comparable") if meta.get(k) is not None}
    environment = {"comment": f"{meta.get('hostname') or 'host'}: {meta.get('cpu_model') or 'unknown CPU'}"}
    if env_misc:
        environment["misc"] = env_misc
    base = f"{origin}:{meta.get('hostname') or 'host'}/{run.name}"
    tests = []
    for s in cases.suites(run):
        t = {"id": f"{base}/{s.test}", "build_id": build_id, "origin": origin,
             "path": f"irqbench.{path_part(s.test)}", "status": cases.suite_status(s),
             "environment": environment, "misc": {"profile": meta.get("profile"), "run": run.name}}
        t["misc"] = {k: v for k, v in t["misc"].items() if v}
        if irq_ver:
            t["misc"]["irqbench_version"] = irq_ver
        if s.reason:
            t["comment"] = s.reason
        if meta.get("date"):
            t["start_time"] = meta["date"]
        if s.seconds is not None:
            t["duration"] = s.seconds
        if t["status"] in ("FAIL", "ERROR"):
            excerpt = tail(os.path.join(run.path, f"{s.test}.log"), LOG_EXCERPT_MAX)
            if excerpt:
                t["log_excerpt"] = excerpt
        tests.append(t)
        seen = {}
        for c in (c for c in s.cases if not c.whole_test):
            status = "FAIL" if c.status == "TODO" else c.status
            path = f"irqbench.{path_part(s.test)}.{path_part(c.name)}"
            n = seen[path] = seen.get(path, 0) + 1
            ct = {"id": f"{base}/{s.test}/{c.name}" + (f"#{n}" if n > 1 else ""), "build_id": build_id,
                  "origin": origin, "path": path, "status": status, "environment": environment}
            if c.reason:
                ct["comment"] = c.reason
            if meta.get("date"):
                ct["start_time"] = meta["date"]
            misc = case_misc(c, irq_ver)
            if misc:
                ct["misc"] = misc
            tests.append(ct)
    return clean({"version": KCIDB_VERSION, "checkouts": [checkout], "builds": [build], "tests": tests})


def main(argv):
    fmt = out = None
    origin = "irqbench"
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(USAGE)
            return 0
        if a in ("--junit", "--kcidb"):
            if fmt and fmt != a[2:]:
                die("one format at a time: --junit or --kcidb")
            fmt = a[2:]
        elif a in ("--out", "--origin"):
            if i + 1 >= len(argv):
                die(f"option {a} needs an argument")
            if a == "--out":
                out = argv[i + 1]
            else:
                origin = argv[i + 1]
            i += 1
        elif a.startswith("-") and a != "-":
            die(f"unknown option '{a}' (try 'run.sh export --help')")
        else:
            args.append(a)
        i += 1
    if not fmt:
        die("needs --junit or --kcidb (try 'run.sh export --help')")
    if len(args) != 1:
        die("needs one results folder (try 'run.sh export --help')")
    if not re.fullmatch(r"[a-z0-9_]+", origin):
        die(f"--origin '{origin}': KCIDB origins are [a-z0-9_]+")
    try:
        run = Run(args[0], need_records=False)
    except BadInput as e:
        die(str(e))
    if not run.status:
        die(f"{os.path.join(run.path, 'status.tsv')}: missing (not a finished run?)")
    if fmt == "junit":
        data = junit(run)
    else:
        data = (json.dumps(kcidb(run, origin), indent=1, allow_nan=False) + "\n").encode()
    if out == "-":
        sys.stdout.buffer.write(data)
        return 0
    out = out or os.path.join(run.path, "junit.xml" if fmt == "junit" else "kcidb.json")
    try:
        with open(out + ".tmp", "wb") as f:
            f.write(data)
        os.replace(out + ".tmp", out)
    except OSError as e:
        die(f"cannot write {out}: {e.strerror}")
    print(f"{fmt}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
