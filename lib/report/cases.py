# SPDX-License-Identifier: GPL-2.0-only
"""A run as suites of cases: one suite per test (status.tsv), one case per
variant as the test judged it (its KTAP result lines), each with the
records that belong to it.  What run.sh export (JUnit, KCIDB) and
report.html show, so that the three agree.

A case's records: those of its variant, and of variants under it
("same" holds "same.periodic" and "same.storm").  Records of a variant no
KTAP line names (a fitted slope over several cells, say) make a case of
their own with status DONE: a measurement, judged by nobody.  A test that
failed without a failing line (crash, timeout, exit code) gets an ERROR
case; one skipped before it ran (another arch, not built), a SKIP case.
"""

from significance import percentile

# Case statuses, KCIDB's words: TODO is a known, unfixed kernel bug (not ok,
# yet not a failure of the run).
STATUSES = ("PASS", "FAIL", "ERROR", "SKIP", "TODO", "DONE")


class Case:
    def __init__(self, name, status, reason, metrics=(), whole_test=False):
        self.name, self.status, self.reason = name, status, reason
        self.metrics = list(metrics)
        # Stands for the whole test (it crashed, or never ran): KCIDB's
        # irqbench.TEST node says the same already.
        self.whole_test = whole_test


class Suite:
    def __init__(self, run, test):
        self.test = test
        self.status, self.reason = run.status.get(test, ("PASS", ""))
        self.seconds = run.seconds.get(test)
        self.cases = []


def suites(run):
    """[Suite] of RUN (a records.Run), in the order the tests ran."""
    out = []
    for test in run.tests:
        s = Suite(run, test)
        groups = {}  # (variant, params) -> [Metric], file order
        for m in run.metrics.values():
            if m.test == test:
                groups.setdefault((m.variant, m.params_str), []).append(m)
        for name, result, text in run.ktap(test):
            mine = [g for g in groups if belongs(name, *g, groups[g][0].params)]
            s.cases.append(Case(name, result, text, [m for g in mine for m in groups.pop(g)]))
        rest = {}
        for (variant, _), ms in groups.items():
            rest.setdefault(variant, []).extend(ms)
        for variant, ms in rest.items():
            s.cases.append(Case(variant or "results", "DONE", "", ms))
        failed = any(c.status == "FAIL" for c in s.cases)
        if s.status == "FAIL" and not failed:
            s.cases.append(Case(test, "ERROR", s.reason or "failed", whole_test=True))
        elif s.status == "SKIP" and not any(c.status == "SKIP" for c in s.cases):
            s.cases.append(Case(test, "SKIP", s.reason or "skipped", whole_test=True))
        if s.status == "SKIP" and not s.reason:
            s.reason = next((c.reason for c in s.cases if c.status == "SKIP"), "")
        out.append(s)
    return out


def belongs(name, variant, params_str, params):
    """Are the records of VARIANT those of the KTAP line NAME?  A KTAP name
    is its records' variant (lib/harness.h), or their prefix ("same" owns
    "same.periodic")."""
    return variant == name or variant.startswith(name + ".")


def suite_status(s):
    """KCIDB status of a whole test: ERROR when it failed without a failing
    case (it did not complete)."""
    if s.status == "FAIL":
        return "FAIL" if any(c.status == "FAIL" for c in s.cases) else "ERROR"
    return s.status


def numbers(m):
    """A numeric metric as a dict (unit and its numbers), else None."""
    d = {"unit": m.unit} if m.unit else {}
    if m.kind == "samples":
        s = sorted(m.samples)
        d.update(n=len(s), min=s[0], p50=percentile(s, 50), p90=percentile(s, 90),
                 p99=percentile(s, 99), max=s[-1], mean=sum(s) / len(s))
    elif m.kind in ("count", "summary") and isinstance(m.value, (int, float)):
        d["value"] = int(m.value) if float(m.value).is_integer() else m.value
    elif m.kind == "estimate":
        d.update(value=m.value, ci_low=m.ci[0], ci_high=m.ci[1])
    else:
        return None
    return d


def metric_key(m):
    """The metric's name, with its params where it has any."""
    return f"{m.name}[{m.params_str}]" if m.params_str else m.name
