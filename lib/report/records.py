# SPDX-License-Identifier: GPL-2.0-only
"""A run's results folder as metrics, and the test table's metric entries.

One metric = one (test, variant, metric, params) identity; params are part
of it, so two records of one variant that differ in a param
(inject_isolation's "rate=1000" and "rate=10000") are two metrics.  Kinds:
"samples" (raw samples + summary), "count" (a number), "text" (verdicts,
control results), "skipped" (value null + reason).

Bad input raises BadInput("FILE:LINE: why"); the commands print it and exit 2.
"""

import json
import os
import re
import subprocess

from significance import median

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class BadInput(Exception):
    pass


def params_text(params):
    """Canonical "k=v k=v" (sorted keys) of a record's params object."""
    if not params:
        return ""
    return " ".join(f"{k}={fmt_param(params[k])}" for k in sorted(params))


def fmt_param(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class Metric:
    def __init__(self, key, rec):
        self.key = key  # (test, variant, metric, params_text)
        self.test, self.variant, self.name, self.params_str = key
        self.params = rec.get("params") or {}
        self.unit = rec.get("unit")
        self.timing_comparable = (rec.get("host") or {}).get("timing_comparable", True)
        self.apicv = (rec.get("host") or {}).get("apicv")
        self.samples = None
        self.value = None
        self.reason = rec.get("reason") or rec.get("skipped")
        if isinstance(rec.get("samples"), list):
            self.kind = "samples"
            self.samples = [float(x) for x in rec["samples"]]
        elif "skipped" in rec or rec.get("value") is None and "summary" not in rec:
            self.kind = "skipped"
        elif isinstance(rec.get("value"), str):
            self.kind = "text"
            self.value = rec["value"]
        elif isinstance(rec.get("value"), (int, float)) and \
                isinstance(rec.get("ci_low"), (int, float)) and isinstance(rec.get("ci_high"), (int, float)):
            # An estimate with its interval (results_estimate: a fitted slope).
            self.kind = "estimate"
            self.value = float(rec["value"])
            self.ci = (float(rec["ci_low"]), float(rec["ci_high"]))
        elif isinstance(rec.get("value"), (int, float)):
            self.kind = "count"
            self.value = float(rec["value"])
        elif isinstance(rec.get("summary"), dict):
            # An old record without raw samples: its median only.
            self.kind = "summary"
            self.value = rec["summary"].get("p50")
        else:
            self.kind = "skipped"

    def label(self):
        v = f"{self.test} {self.variant}" if self.variant else self.test
        p = f" [{self.params_str}]" if self.params_str else ""
        return f"{v} {self.name}{p}"

    def median(self):
        if self.kind == "samples":
            return median(sorted(self.samples))
        return self.value


class Run:
    """A results folder: meta.json (optional), results.jsonl, status.tsv.
    need_records=False also takes a run whose tests wrote no records (every
    one skipped or crashed) as long as status.tsv says what happened.
    empty_ok=True takes a run with no records at all (results.jsonl empty,
    or only status.tsv: every test crashed, or the run was interrupted).
    torn_ok=True drops a last line cut short (no newline, not JSON: the
    writer was interrupted) with a warning instead of refusing the file;
    the caller shows self.warnings."""

    def __init__(self, path, need_records=True, empty_ok=False, torn_ok=False):
        if not os.path.isdir(path):
            raise BadInput(f"{path}: no such results folder")
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path.rstrip("/"))
        self.meta = {}
        meta = os.path.join(self.path, "meta.json")
        if os.path.exists(meta):
            try:
                with open(meta) as f:
                    self.meta = json.load(f)
            except ValueError as e:
                raise BadInput(f"{meta}:{getattr(e, 'lineno', 1)}: bad JSON: {e.msg if hasattr(e, 'msg') else e}")
        self.metrics = {}  # key -> Metric, in file order
        self.warnings = []
        self.torn_ok = torn_ok
        self.status = self._read_status()
        jsonl = os.path.join(self.path, "results.jsonl")
        if os.path.exists(jsonl):
            self._read(jsonl)
        elif not self.status or (need_records and not empty_ok):
            raise BadInput(f"{jsonl}: missing (not a results folder?)")
        if not self.metrics and not empty_ok and (need_records or not self.status):
            raise BadInput(f"{jsonl}: no records (did the run's tests run?)")
        # Tests in the order they ran, then any that only left records.
        self.tests = list(self.status)
        self.tests += sorted({m.test for m in self.metrics.values()} - set(self.status))

    def _read_status(self):
        # name, PASS|FAIL|SKIP, rc, seconds, reason: lib/run/status.sh, the
        # one schema run.sh and the in-guest runner write
        st = {}
        self.seconds = {}
        p = os.path.join(self.path, "status.tsv")
        if os.path.exists(p):
            with open(p) as f:
                for n, line in enumerate(f, 1):
                    c = line.rstrip("\n").split("\t")
                    if not line.strip():
                        continue
                    if len(c) >= 2 and c[1] in ("PASS", "FAIL", "SKIP"):
                        st[c[0]] = (c[1], c[4] if len(c) > 4 else "")
                    elif self.torn_ok and not line.endswith("\n"):
                        self.warnings.append(f"{p}:{n}: last line cut short (no newline), dropped")
                        continue
                    else:
                        raise BadInput(f"{p}:{n}: not a status line (name, PASS|FAIL|SKIP, ...)")
                    try:
                        self.seconds[c[0]] = float(c[3])
                    except (IndexError, ValueError):
                        pass
        return st

    def ktap(self, test):
        """TEST's KTAP result lines (TEST.ktap), [] when it has none."""
        p = os.path.join(self.path, f"{test}.ktap")
        return read_ktap(p) if os.path.exists(p) else []

    def _read(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    # Only the last line can lack its newline: a writer cut
                    # short there (interrupted, disk full).  Anywhere else,
                    # bad JSON is a damaged file.
                    if self.torn_ok and not line.endswith("\n"):
                        self.warnings.append(f"{path}:{n}: last line cut short (no newline, bad JSON), dropped")
                        continue
                    raise BadInput(f"{path}:{n}: bad JSON: {e.msg if hasattr(e, 'msg') else e}")
                if not isinstance(rec, dict) or "test" not in rec or "metric" not in rec:
                    raise BadInput(f"{path}:{n}: not a result record (needs test and metric)")
                key = (str(rec["test"]), str(rec.get("variant") or ""), str(rec["metric"]),
                       params_text(rec.get("params")))
                try:
                    m = Metric(key, rec)
                except (TypeError, ValueError) as e:
                    raise BadInput(f"{path}:{n}: bad record: {e}")
                old = self.metrics.get(key)
                if old and old.kind == "samples" and m.kind == "samples":
                    old.samples.extend(m.samples)  # repeated measurement
                    continue
                if old:
                    self.warnings.append(f"{path}:{n}: {m.label()} recorded again; the later record wins")
                self.metrics[key] = m

    def describe(self):
        m = self.meta
        load = (m.get("host_load") or {}).get("load1")
        bits = [m.get("kernel_release") or "?", m.get("date") or "?",
                f"profile {m.get('profile') or '?'}"]
        if load is not None:
            bits.append(f"load {load}")
        return ", ".join(str(b) for b in bits)


# "ok 3 name # SKIP why", "not ok 4 name # TODO why", "ok 5 name # note":
# top-level result lines only (subtests are indented).
KTAP_RESULT = re.compile(r"^(not ok|ok) [0-9]+(?: -)? ?([^#]*?)\s*(?:#\s*(.*))?$")


def read_ktap(path):
    """[(name, result, text)] of a KTAP file's result lines: result PASS,
    FAIL, SKIP or TODO (a known bug: not ok, yet not a failure); text is the
    directive's reason or the line's note."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = KTAP_RESULT.match(line.rstrip("\n"))
            if not m:
                continue
            ok, name, text = m.group(1) == "ok", m.group(2), (m.group(3) or "").strip()
            word = text.split(None, 1)[0].upper() if text else ""
            if word in ("SKIP", "TODO"):
                result = word
                text = text[4:].strip()
            else:
                result = "PASS" if ok else "FAIL"
            out.append((name, result, text))
    return out


class RunSet:
    """A baseline of several runs (results/baselines/NAME/<run>/): their
    samples pooled, counts as the median over runs, text values from the
    newest run.  Each merged metric keeps run_medians (one per run that has
    it): run.sh compare takes their spread as the run-to-run noise."""

    def __init__(self, path, runs):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path.rstrip("/"))
        self.runs = runs
        self.meta = runs[-1].meta
        self.status = runs[-1].status
        self.warnings = [w for r in runs for w in r.warnings]
        self.metrics = {}
        for run in runs:
            for key, m in run.metrics.items():
                self.metrics.setdefault(key, []).append(m)
        for key, ms in self.metrics.items():
            self.metrics[key] = merge(ms)

    def describe(self):
        return f"{len(self.runs)} runs, newest: {self.runs[-1].name} ({self.runs[-1].describe()})"


def merge(ms):
    """One Metric standing for the same metric of several runs."""
    import copy

    last = ms[-1]
    m = copy.copy(last)
    same = [x for x in ms if x.kind == last.kind]
    if last.kind == "samples":
        m.samples = [v for x in same for v in x.samples]
        m.run_samples = [x.samples for x in same]
    elif last.kind in ("count", "summary", "estimate"):
        m.value = median(sorted(x.value for x in same))
    if last.kind in ("samples", "count", "summary", "estimate"):
        m.run_medians = [x.median() for x in same]
    m.timing_comparable = all(x.timing_comparable for x in same)
    return m


def load(path, empty_ok=False, torn_ok=False):
    """A results folder, or a folder of them (a baseline of several runs).
    empty_ok, torn_ok: as Run's (a run folder: results.jsonl or, with
    empty_ok, status.tsv)."""
    if not os.path.isdir(path):
        raise BadInput(f"{path}: no such results folder")
    if os.path.exists(os.path.join(path, "results.jsonl")) or \
            empty_ok and os.path.exists(os.path.join(path, "status.tsv")):
        return Run(path, empty_ok=empty_ok, torn_ok=torn_ok)
    subs = sorted(d for d in os.listdir(path) if os.path.isfile(os.path.join(path, d, "results.jsonl")))
    if not subs:
        raise BadInput(f"{os.path.join(path, 'results.jsonl')}: missing (not a results folder?)")
    # Oldest first (run folders are named by date; mtime for --out names).
    subs.sort(key=lambda d: os.path.getmtime(os.path.join(path, d, "results.jsonl")))
    return RunSet(path, [Run(os.path.join(path, d), torn_ok=torn_ok) for d in subs])


def table_file():
    return os.environ.get("IRQBENCH_TABLE") or os.path.join(ROOT, "tests.cfg")


def table_keys(prefix):
    """{test: {NAME: value}} for the table's PREFIX.NAME keys, read through
    lib/run/table.sh (the one parser of tests.cfg)."""
    path = table_file()
    p = subprocess.run([os.path.join(ROOT, "lib/run/table.sh"), "dump", path],
                       capture_output=True, text=True)
    if p.returncode:
        raise BadInput(p.stderr.strip().splitlines()[0] if p.stderr.strip() else f"{path}: unreadable")
    out = {}
    for line in p.stdout.splitlines():
        t, k, v = (line.split("\t") + ["", ""])[:3]
        if k.startswith(prefix + "."):
            out.setdefault(t, {})[k[len(prefix) + 1:]] = v
    return out


class Rule:
    """metric.NAME = lower|higher [floor=N%|floor=N] [stat=pNN] | order A > B | info"""

    def __init__(self, text):
        self.text = text
        w = text.split()
        self.kind = w[0] if w else "none"  # lower, higher, order, info, none
        self.floor = 0.0
        self.floor_pct = False
        self.order = []
        self.stat = 50.0  # the percentile compared (samples)
        if self.kind == "order":
            self.order = [x for x in w[1:] if x != ">"]
        for x in w[1:]:
            if x.startswith("stat=p"):
                self.stat = float(x[6:])
            if x.startswith("floor="):
                f = x[6:]
                self.floor_pct = f.endswith("%")
                self.floor = float(f.rstrip("%"))

    def judged(self):
        return self.kind in ("lower", "higher", "order")

    def floor_text(self):
        if self.kind not in ("lower", "higher"):
            return ""
        return f"{self.floor:g}%" if self.floor_pct else f"{self.floor:g}"


def metric_rules():
    return {t: {k: Rule(v) for k, v in d.items()} for t, d in table_keys("metric").items()}


def rule_for(rules, metric):
    return rules.get(metric.test, {}).get(metric.name) or Rule("none")
