# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# ioapic_eoi_reuse "places" (a kernel or a host that gives a verdict), for
# tests/test_kernel_verdicts.sh and tests/test_ksrc_upstream.sh (sourced
# after tap.sh; needs jq).  The runs use --irqchip split --variant
# control,dest: three dest variants, three controls.

# verdicts DIR: "variant=verdict" lines of the dest variants.
verdicts() {
	jq -r 'select(.test == "ioapic_eoi_reuse" and .metric == "verdict" and (.variant | contains(".dest."))) | "\(.variant)=\(.value)"' \
		"$1/results.jsonl" 2>/dev/null | sort
}

# check_place PLACE DIR WANT: the three dest variants say WANT, the three
# controls passed.
check_place() {
	local place=$1 dir=$2 want=$3 got bad controls
	got=$(verdicts "$dir")
	bad=$(printf '%s\n' "$got" | grep -v "=$want\$")
	if [ "$(printf '%s\n' "$got" | grep -c "=$want\$")" = 3 ] && [ -z "$bad" ]; then
		ok "$place: $want ($(echo $got))"
	else
		not_ok "$place: want $want for the 3 split.dest variants, got: $(echo ${got:-nothing})"
	fi
	controls=$(jq -r 'select(.metric == "control") | .value' "$dir/results.jsonl" 2>/dev/null | sort | uniq -c | xargs)
	if [ "$controls" = "3 pass" ]; then
		ok "$place: the 3 controls saw one EOI exit per reuse"
	else
		not_ok "$place: controls: ${controls:-none} (want 3 pass; $(jq -r 'select(.metric == "control" and .value != "pass") | .reason' "$dir/results.jsonl" 2>/dev/null | head -n1))"
	fi
}

# host_place PLACE BINARY DIR ARGS...: run BINARY natively with ARGS,
# records in DIR.  kvm_pvm EOIs at delivery: every dest variant must say
# not-provoked.  Real KVM provokes the scenario: any real verdict, never
# not-provoked.  The controls pass either way.
host_place() {
	local place=$1 bin=$2 dir=$3 module got
	shift 3
	mkdir -p "$dir"
	IRQBENCH_RESULTS_DIR=$dir "$bin" "$@" >"$dir.ktap" 2>&1
	module=$(jq -r 'select(.metric == "verdict") | .host.kvm_module' "$dir/results.jsonl" 2>/dev/null | head -n1)
	if [ "$module" = kvm_pvm ]; then
		check_place "$place (kvm_pvm)" "$dir" not-provoked
		return
	fi
	got=$(verdicts "$dir")
	if [ -n "$got" ] && ! printf '%s\n' "$got" | grep -q '=not-provoked$'; then
		ok "$place (${module:-?}): provoked, verdicts $(echo $got)"
	else
		not_ok "$place (${module:-?}): verdicts: $(echo ${got:-none}) (log: $(tail -n 2 "$dir.ktap"))"
	fi
	check_eq "$place: the controls" "$(jq -r 'select(.metric == "control") | .value' "$dir/results.jsonl" 2>/dev/null | sort | uniq -c | xargs)" "3 pass"
}
