#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of run.sh export (lib/report/export.py, lib/report/cases.py): a run
# of the fake tests (tests/fixtures/run: pass, fail with a TODO line, two
# kinds of skip, crash, not built, other arch, odd exit code), and the same
# run as a nested guest leaves it (lib/kernel/guest-init.sh's status.tsv),
# exported as JUnit XML and as KCIDB JSON.  The KCIDB document is validated
# against what schema v5.3 requires (tests/fixtures/kcidb/schema-v5.3.json,
# with Debian's python3-jsonschema), and the validator is shown to reject
# broken documents.  Bad input: one line, exit 2.  No KVM: ~3 s.
# Exit: 0 all passed, 1 a check failed.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${HERE%/tests}
RUN=$ROOT/run.sh
FIX=$ROOT/tests/fixtures

# shellcheck source=tests/tap.sh
source "$HERE/tap.sh"
set_up build check

TMP=$(mktemp -d "${TMPDIR:-/tmp}/test_export.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export IRQBENCH_TABLE=$FIX/run/tests.cfg IRQBENCH_BUILD=$FIX/run/bin
export IRQBENCH_RESULTS_ROOT=$TMP/results IRQBENCH_DEVKVM=$TMP/kvm
: >"$TMP/kvm"

runsh() {
	RC=0
	"$RUN" "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
lines() {
	wc -l <"$1" | tr -d ' '
}

# py FILE CODE: run CODE (Python, tests/tap.py's check()) with FILE as argv[1].
py() {
	PYTHONPATH=$HERE "$PYTHON" -B - "$@"
}

RUNDIR=$TMP/run
"$RUN" run --out "$RUNDIR" pass fail skip_ktap skip_stderr crash missing other_arch weird_exit \
	>"$TMP/run.out" 2>&1

test_junit() {
	runsh export --junit "$RUNDIR"
	check_eq "junit: exit 0" "$RC" 0
	check "junit: RUN/junit.xml, its path printed" grep -qx "junit: $RUNDIR/junit.xml" "$TMP/out"
	py "$RUNDIR/junit.xml" "$RUNDIR/status.tsv" <<'PY'
import sys
import xml.etree.ElementTree as ET
from tap import check, done
root = ET.parse(sys.argv[1]).getroot()
status = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
suites = {s.get("name"): s for s in root.findall("testsuite")}
check([s.get("name") for s in root.findall("testsuite")] == [c[0] for c in status],
      "junit: one testsuite per test of status.tsv, in its order")
def case(suite, name):
    return next((c for c in suites[suite].findall("testcase") if c.get("name") == name), None)
f = case("fail", "fake_latency_bound")
check(f is not None and f.find("failure") is not None and f.find("failure").get("message") == "900 us > 100 us",
      "junit: the failing variant is a failure with the test's reason")
t = case("fail", "fake_latency_bound_todo")
check(t is not None and t.find("failure") is None and t.find("skipped").get("message").startswith("TODO"),
      "junit: a TODO line (known bug) is reported as skipped, not failed (as run.sh counts it)")
s = case("skip_ktap", "fake_apicv")
check(s is not None and s.find("skipped").get("message") == "needs enable_apicv=Y",
      "junit: a KTAP SKIP keeps its reason")
for name, why in (("crash", "crashed (signal 11)"), ("missing", "not built: run make")):
    e = case(name, name)
    check(e is not None and e.find("error") is not None and e.find("error").get("message") == why,
          f"junit: {name}: an error with the runner's reason ({why})")
check("about to crash" in (case("crash", "crash").find("error").text or ""), "junit: the crash's log is in the error")
o = case("other_arch", "other_arch")
check(o is not None and o.find("skipped").get("message").startswith("arch: needs sparc64"),
      "junit: a test for another arch is one skipped testcase with the reason")
r = case("pass", "results")
check(r is not None and "fake: unit=count value=1" in r.find("system-out").text, "junit: a variant's metrics in system-out")
ok = True
for k, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
    for s in suites.values():
        ok &= int(s.get(k)) == len(s.findall(f"testcase/{tag}"))
    ok &= int(root.get(k)) == len(root.findall(f"testsuite/testcase/{tag}"))
ok &= int(root.get("tests")) == len(root.findall("testsuite/testcase"))
check(ok, "junit: the tests/failures/errors/skipped counts add up")
done()
PY
	check_eq "junit: python checks" "$?" 0
}

test_kcidb() {
	local doc=$RUNDIR/kcidb.json
	runsh export --kcidb "$RUNDIR"
	check_eq "kcidb: exit 0" "$RC" 0
	check "kcidb: RUN/kcidb.json" test -s "$doc"
	if ! "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
		not_ok "kcidb: schema validation" "no jsonschema for $PYTHON (set-up: lib/build/setup.sh check)"
	else
		"$PYTHON" -B "$HERE/validate_kcidb.py" "$FIX/kcidb/schema-v5.3.json" "$doc" >"$TMP/val" 2>&1
		check_eq "kcidb: valid against schema v5.3 ($(cat "$TMP/val"))" "$?" 0
		# The validator can fail: each broken copy must be rejected.
		py "$doc" "$TMP" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = {
    "status": lambda d: d["tests"][0].update(status="BROKEN"),
    "null": lambda d: d["tests"][0].update(comment=None),
    "id": lambda d: d["tests"][0].update(id="no-origin-prefix"),
    "path": lambda d: d["tests"][0].update(path="irqbench.a b"),
    "extra": lambda d: d["builds"][0].update(kernel="x"),
    "version": lambda d: d["version"].update(major=4),
    "required": lambda d: d["tests"][0].pop("build_id"),
}
for name, spoil in bad.items():
    c = json.loads(json.dumps(d))
    spoil(c)
    json.dump(c, open(f"{sys.argv[2]}/bad-{name}.json", "w"))
PY
		local b rejected=0 total=0
		for b in "$TMP"/bad-*.json; do
			total=$((total + 1))
			"$PYTHON" -B "$HERE/validate_kcidb.py" "$FIX/kcidb/schema-v5.3.json" "$b" >/dev/null 2>&1 ||
				rejected=$((rejected + 1))
		done
		check_eq "kcidb: the validator rejects every broken copy (status, null, id, path, extra property, version, required)" \
			"$rejected/$total" "7/7"
	fi
	py "$doc" "$RUNDIR/meta.json" <<'PY'
import json, sys
from tap import check, done
d = json.load(open(sys.argv[1]))
meta = json.load(open(sys.argv[2]))
t = {x["path"]: x for x in d["tests"]}
check(d["version"] == {"major": 5, "minor": 3}, "kcidb: schema version 5.3")
check({b["checkout_id"] for b in d["builds"]} <= {c["id"] for c in d["checkouts"]}
      and {x["build_id"] for x in d["tests"]} <= {b["id"] for b in d["builds"]},
      "kcidb: tests link to the build, the build to the checkout")
check(len({x["id"] for x in d["tests"]}) == len(d["tests"]), "kcidb: test ids unique")
want = {"irqbench.pass": "PASS", "irqbench.pass.fake_quick": "PASS", "irqbench.fail": "FAIL",
        "irqbench.fail.fake_latency_bound": "FAIL", "irqbench.skip_ktap.fake_apicv": "SKIP",
        "irqbench.crash": "ERROR", "irqbench.missing": "ERROR", "irqbench.other_arch": "SKIP",
        "irqbench.pass.results": "DONE"}
got = {p: t.get(p, {}).get("status") for p in want}
check(got == want, f"kcidb: paths and statuses ({got})")
check(t["irqbench.fail.fake_latency_bound"].get("comment") == "900 us > 100 us", "kcidb: a failure's reason in comment")
check("about to crash" in t["irqbench.crash"].get("log_excerpt", ""), "kcidb: an error's log in log_excerpt")
check("irqbench.crash.crash" not in t, "kcidb: no variant node repeats the whole test's")
check(t["irqbench.pass.results"]["misc"]["metrics"] == {"fake": {"unit": "count", "value": 1}},
      "kcidb: numeric metrics in misc")
check(t["irqbench.pass"]["misc"]["irqbench_version"] == meta["irqbench_version"]
      and d["checkouts"][0]["misc"]["kernel_release"] == meta["kernel_release"],
      "kcidb: kernel release and irqbench revision from meta.json")
check(d["builds"][0].get("architecture") == meta["arch"], "kcidb: the build's architecture")
done()
PY
	check_eq "kcidb: python checks" "$?" 0
	cp "$doc" "$TMP/first.json"
	runsh export --kcidb --out - "$RUNDIR"
	check "kcidb: --out - writes the same document to stdout" cmp -s "$TMP/out" "$TMP/first.json"
	runsh export --kcidb --origin mylab "$RUNDIR" --out "$TMP/lab.json"
	check "kcidb: --origin names the submitting system in every id" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not all(x["id"].startswith("mylab:") and x["origin"] == "mylab" for k in ("checkouts","builds","tests") for x in d[k]))' "$TMP/lab.json"
}

# The folder a run inside a QEMU guest brings back: guest-init.sh's
# status.tsv (the one schema, lib/run/status.sh) and meta.json's
# kernel_runner.
test_nested() {
	local n=$TMP/nested
	mkdir -p "$n"
	cp "$RUNDIR"/*.ktap "$RUNDIR"/*.log "$RUNDIR/results.jsonl" "$n/"
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m.update(kernel_release="6.12.57+deb13-amd64", kernel_runner={"accel": "tcg", "image_release": "6.12.57+deb13-amd64"}, timing_comparable=False); json.dump(m, open(sys.argv[2], "w"))' \
		"$RUNDIR/meta.json" "$n/meta.json"
	(
		. "$ROOT/lib/run/status.sh"
		for t in pass:0:1 skip_ktap:4:1 crash:124:30 fail:1:2; do
			IFS=: read -r name rc secs <<<"$t"
			status_classify "$rc" "$secs" 30
			status_line "$name" "$STATUS_RESULT" "$rc" "$secs" "$STATUS_WHY"
		done
	) >"$n/status.tsv"
	runsh export --junit "$n"
	check_eq "nested: junit exit 0" "$RC" 0
	check "nested: a timed-out test is an error saying so" \
		grep -q '<error message="timeout after 30s"' "$n/junit.xml"
	runsh export --kcidb "$n"
	check_eq "nested: kcidb exit 0" "$RC" 0
	if "$PYTHON" -c "import jsonschema" 2>/dev/null; then
		"$PYTHON" -B "$HERE/validate_kcidb.py" "$FIX/kcidb/schema-v5.3.json" "$n/kcidb.json" >"$TMP/val" 2>&1
		check_eq "nested: valid against schema v5.3 ($(cat "$TMP/val"))" "$?" 0
	fi
	check "nested: the guest's kernel release and the runner in the build" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["builds"][0]; sys.exit(not ("6.12.57+deb13-amd64" in b["id"] and b["misc"]["kernel_runner"]["accel"] == "tcg"))' "$n/kcidb.json"
	check "nested: the skip's reason from its KTAP" \
		python3 -c 'import json,sys; t={x["path"]: x for x in json.load(open(sys.argv[1]))["tests"]}; sys.exit(t["irqbench.skip_ktap"]["comment"] != "needs enable_apicv=Y")' "$n/kcidb.json"
}

test_bad_input() {
	local f
	runsh export --junit "$TMP/nope"
	check "missing folder: exit 2, one line naming it" \
		test "$RC" = 2 -a "$(lines "$TMP/err")" = 1 -a ! -s "$TMP/out"
	check "missing folder: says so" grep -q "$TMP/nope: no such results folder" "$TMP/err"
	mkdir -p "$TMP/empty"
	runsh export --kcidb "$TMP/empty"
	check "not a results folder: exit 2, one line" test "$RC" = 2 -a "$(lines "$TMP/err")" = 1
	mkdir -p "$TMP/unfinished"
	cp "$RUNDIR/results.jsonl" "$TMP/unfinished/"
	runsh export --kcidb "$TMP/unfinished"
	check "no status.tsv (not finished): exit 2 naming it" \
		test "$RC" = 2 -a "$(grep -c 'status.tsv: missing' "$TMP/err")" = 1
	mkdir -p "$TMP/corrupt"
	printf 'pass\tMAYBE\t0\t1\t\n' >"$TMP/corrupt/status.tsv"
	runsh export --junit "$TMP/corrupt"
	check "corrupt status.tsv: exit 2, FILE:LINE" \
		test "$RC" = 2 -a "$(grep -c "$TMP/corrupt/status.tsv:1:" "$TMP/err")" = 1
	for f in "" "--junit" "--junit --kcidb $RUNDIR" "--kcidb --origin Bad-Name $RUNDIR" "--bogus $RUNDIR"; do
		# shellcheck disable=SC2086 # the words are the arguments
		runsh export $f
		check "bad usage '${f//$RUNDIR/RUN}': exit 2, one line" test "$RC" = 2 -a "$(lines "$TMP/err")" = 1
	done
}

test_shellcheck() {
	if ! command -v shellcheck >/dev/null; then
		not_ok "shellcheck" "not installed (set-up: check group)"
		return
	fi
	local log
	if log=$(cd "$ROOT" && shellcheck -x lib/run/python.sh tests/test_export.sh tests/test_report_html.sh 2>&1); then
		ok "shellcheck: these tests"
	else
		not_ok "shellcheck: these tests" "$log"
	fi
}

check "the fake run finished (exit 1: some fake tests fail)" test -s "$RUNDIR/status.tsv"
test_junit
test_kcidb
test_nested
test_bad_input
test_shellcheck
tap_done
