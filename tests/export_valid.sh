# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# export_valid DIR WHAT (sourced, after tests/tap.sh): run.sh export --junit
# and --kcidb on a real results folder DIR (WHAT names it in the TAP lines):
# both exit 0; junit.xml has one testsuite per line of DIR/status.tsv; the
# KCIDB document is valid against schema v5.3 (tests/validate_kcidb.py) and
# has a test per test of status.tsv.  For folders of real runs (make run,
# a nested guest); tests/test_export.sh covers the formats case by case.
export_valid() {
	local dir=$1 what=$2 top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	if "$top/run.sh" export --junit "$dir" >/dev/null 2>"$dir/export.err"; then
		ok "$what: run.sh export --junit"
	else
		not_ok "$what: run.sh export --junit" "$(head -n 3 "$dir/export.err")"
	fi
	check "$what: junit.xml has a testsuite per test of status.tsv" "$PYTHON" -B -c '
import sys, xml.etree.ElementTree as ET
names = [l.split("\t")[0] for l in open(sys.argv[2]) if l.strip()]
suites = [s.get("name") for s in ET.parse(sys.argv[1]).getroot().findall("testsuite")]
sys.exit(not names or suites != names)' "$dir/junit.xml" "$dir/status.tsv"
	if "$top/run.sh" export --kcidb "$dir" >/dev/null 2>"$dir/export.err"; then
		ok "$what: run.sh export --kcidb"
	else
		not_ok "$what: run.sh export --kcidb" "$(head -n 3 "$dir/export.err")"
	fi
	check "$what: kcidb.json valid against schema v5.3" \
		"$PYTHON" -B "$top/tests/validate_kcidb.py" "$top/tests/fixtures/kcidb/schema-v5.3.json" "$dir/kcidb.json"
	check "$what: kcidb.json has a test per test of status.tsv" "$PYTHON" -B -c '
import json, sys
names = {l.split("\t")[0] for l in open(sys.argv[2]) if l.strip()}
paths = {t["path"].split(".")[1] for t in json.load(open(sys.argv[1]))["tests"]}
sys.exit(not names or not names <= paths)' "$dir/kcidb.json" "$dir/status.tsv"
	rm -f "$dir/export.err"
}
