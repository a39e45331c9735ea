#!/usr/bin/env bash
# The README's simulated bisect runs as written: the shell block after the
# "bisect-example" marker is extracted and run, with only HISTORY pointed at
# a temporary folder, and must name step 6 (the commit that brings the
# fixture fix) as the first bad commit.  Three nested boots, about 50 s.
# IRQBENCH_KERNEL_TESTS=none skips it.  Exit 0 pass, 1 fail, 4 skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
[ "${IRQBENCH_KERNEL_TESTS:-boot}" != none ] ||
	{ echo "1..0 # SKIP IRQBENCH_KERNEL_TESTS=none"; exit 4; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_bisect_example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

awk '/<!-- bisect-example/ { on = 1; next } on && /^```sh/ { inblock = 1; next }
     inblock && /^```/ { exit } inblock { print }' "$repo/README.md" >"$tmp/example.sh"
echo "TAP version 13"
if ! grep -q 'git bisect run' "$tmp/example.sh"; then
	echo "not ok 1 - no bisect example block in README.md"
	echo "1..1"
	exit 1
fi
echo "ok 1 - README bisect example extracted ($(wc -l <"$tmp/example.sh") lines)"
sed -i "s|^HISTORY=.*|HISTORY=$tmp/history|" "$tmp/example.sh"

# A fresh machine has no git identity; the example's commits need one.
git config user.email >/dev/null || export GIT_AUTHOR_NAME=irqbench GIT_AUTHOR_EMAIL=irqbench@localhost \
	GIT_COMMITTER_NAME=irqbench GIT_COMMITTER_EMAIL=irqbench@localhost
# Run from the clone, as the README says ("IRQBENCH=\$PWD").
(cd "$repo" && bash -e "$tmp/example.sh") >"$tmp/out" 2>&1
rc=$?
grep -E '^bisect:|first bad commit' "$tmp/out" | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q '# first bad commit: \[[0-9a-f]*\] step 6$' "$tmp/out"; then
	echo "ok 2 - git bisect run found step 6, the commit with the fix"
else
	echo "not ok 2 - bisect did not end on step 6 (exit $rc): $(tail -n 5 "$tmp/out")"
	echo "1..2"
	exit 1
fi
steps=$(grep -c '^bisect: .* -> \(good\|bad\)' "$tmp/out")
skips=$(grep -c '^bisect: .* -> skip' "$tmp/out")
if [ "$skips" = 0 ]; then
	echo "ok 3 - $steps boots, none skipped"
else
	echo "not ok 3 - $skips commits skipped: $(grep -m1 '^bisect: .* -> skip' "$tmp/out")"
	echo "1..3"
	exit 1
fi
echo "1..3"
