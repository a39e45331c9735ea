#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check asserts the detection matrix (tests/detection.cfg, docs/
# detection.md): run.sh matrix boots its places in parallel (-j: the number
# of CPUs) and every cell must come out as expected: each mutant caught
# with its expected outcome, each clean kernel green.  One TAP line per
# cell.  Also: every mutant of tests/fixtures/mutants/ has a cell (the arm64
# ones in the nightly tests/detection-arm64.cfg, whose places' options are
# checked here without a build), and a bad matrix line is one line naming
# FILE:LINE, exit 2.
# Cost: one boot per place (20-60 s nested each, two at a time on 2 CPUs)
# and one KVM module build per patched place (cached in
# ~/.cache/irqbench/kvm-modules; cold, the first of a kernel release 40-80 s,
# the next ones recompile only what their patch changes: seconds).
# IRQBENCH_KERNEL_TESTS=none: the host cells only.  Exit 0 pass, 1 fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
cfg=$repo/tests/detection.cfg
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_detection.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"

set_up build ksrc kernel
echo "TAP version 13"

# ---- the file ----------------------------------------------------------------
# arm64 mutants need whole kernel builds: their cells are the nightly
# matrix's (make nightly-arm64); here only its file and its places' options.
arm64_cfg=$repo/tests/detection-arm64.cfg
for p in "$repo"/tests/fixtures/mutants/*.patch; do
	[ -f "$p" ] || continue
	check "mutant ${p##*/} has a cell in tests/detection.cfg or detection-arm64.cfg" \
		grep -q "tests/fixtures/mutants/${p##*/}" "$cfg" "$arm64_cfg"
done
quietly() { (cd "$repo" && "$@") >/dev/null 2>"$tmp/quiet.err" || { cat "$tmp/quiet.err" >&2; return 1; }; }
check "tests/detection-arm64.cfg parses (run.sh matrix --list)" quietly ./run.sh matrix --file "$arm64_cfg" --list
while read -r _ place rest; do
	# shellcheck disable=SC2086 # the place's options, as run.sh matrix boots them
	check "arm64 place ${place%:}: run.sh kernel --check accepts its options and tests" \
		quietly ./run.sh kernel --check $rest
done < <("$repo/run.sh" matrix --file "$arm64_cfg" --list | grep '^boot ')
printf '# ok\nhost | | ioapic_eoi_reuse | | pass\nx | --debian 6.12 | halt_wakeup | | verdict nope\n' >"$tmp/bad.cfg"
expect_error 2 "$tmp/bad.cfg:3: EXPECT verdict wants" "a bad line: FILE:LINE, exit 2" -- "$repo/run.sh" matrix --file "$tmp/bad.cfg"

# EXPECT "on MODULE": judged where the run's KVM module is MODULE, n/a
# elsewhere; VALUE,VALUE: any of them.  One short host run, whatever KVM
# this host has.
mod=$(for m in kvm_pvm kvm_intel kvm_amd; do [ -d /sys/module/$m ] && echo $m && break; done)
run="host | | ioapic_eoi_reuse | --reuses 20 --variant control,dest"
any=not-provoked,fixed,stale-exits,lost-eoi,ambiguous,unaffected,unmeasured
printf '%s\n' "$run | on $mod verdict *.dest.*=$any" "$run | on $mod verdict *.dest.*=no-such" \
	"$run | on not_$mod verdict *.dest.*=no-such" >"$tmp/on.cfg"
"$repo/run.sh" matrix --file "$tmp/on.cfg" --out "$tmp/on" >"$tmp/on.out" 2>&1
check_eq "on $mod: judged there (any of VALUE,VALUE: as expected; no-such: not), n/a on another module" \
	"$(awk -F '\t' 'NR > 1 { printf "%s%s ", $6, ($7 ~ /^n\/a:/ ? "/n/a" : "") }' "$tmp/on/matrix.tsv" 2>/dev/null)" "1 0 1/n/a "

# ---- the matrix ----------------------------------------------------------------
only=()
if [ "${IRQBENCH_KERNEL_TESTS:-boot}" = none ]; then
	echo "# nested places skipped (IRQBENCH_KERNEL_TESTS=none): host cells only"
	only=(--only host)
fi
t0=$SECONDS
rc=0
"$repo/run.sh" matrix -j "$(nproc)" --out "$tmp/m" "${only[@]}" >"$tmp/m.out" 2>"$tmp/m.err" || rc=$?
echo "# run.sh matrix -j $(nproc): exit $rc in $((SECONDS - t0)) s"
sed -n '/^scenario/,/^$/p' "$tmp/m.out" | sed 's/^/# /'
if [ ! -s "$tmp/m/matrix.tsv" ]; then
	not_ok "run.sh matrix wrote no matrix.tsv (exit $rc): $(tail -n 3 "$tmp/m.err")"
	tap_done
fi
check "matrix.md written" test -s "$tmp/m/matrix.md"
# (IFS=tab would merge the empty TEST-ARGS field with its neighbours)
while IFS=$'\037' read -r where place test targs expect good seen; do
	[ "$where" != where ] || continue
	desc="$place $test${targs:+ [$targs]}: $expect (${where##*/})"
	if [ "$good" = 1 ] && [[ $seen == n/a:* ]]; then
		skip "$desc" "${seen#n/a: }"
	elif [ "$good" = 1 ]; then
		ok "$desc -> $seen"
	else
		not_ok "$desc" "seen: $seen; log: $tmp/m/places/$place.log"
	fi
done < <(tr '\t' '\037' <"$tmp/m/matrix.tsv")
all_good=$(awk -F '\t' 'NR > 1 && $6 != 1 { bad = 1 } END { print bad ? 0 : 1 }' "$tmp/m/matrix.tsv")
[ "$rc" = 0 ] || [ "$all_good" = 0 ] || not_ok "run.sh matrix exit $rc with every cell as expected"
tap_done
