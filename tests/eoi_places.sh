# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# ioapic_eoi_reuse "places" (a kernel or a host that gives verdicts), for
# tests/test_ksrc_upstream.sh (sourced after tap.sh; needs jq).  The runs
# use --irqchip all --variant control,dest: per irqchip three dest variants
# and three controls.

# verdicts DIR: "variant=verdict" lines of the dest variants.
verdicts() {
	jq -r 'select(.test == "ioapic_eoi_reuse" and .metric == "verdict" and (.variant | contains(".dest."))) | "\(.variant)=\(.value)"' \
		"$1/results.jsonl" 2>/dev/null | sort
}

# check_place PLACE DIR WANT: per irqchip, the three dest variants say its
# verdict and the three controls passed.  WANT is one verdict for both
# irqchips, or "split=X kernel=Y".
check_place() {
	local place=$1 dir=$2 want=$3 chip w got bad controls
	for chip in split kernel; do
		# shellcheck disable=SC2086 # $want: words
		case $want in
		*=*) w=$(printf '%s\n' $want | sed -n "s/^$chip=//p") ;;
		*) w=$want ;;
		esac
		got=$(verdicts "$dir" | grep "^$chip\.")
		bad=$(printf '%s\n' "$got" | grep -v "=$w\$")
		if [ "$(printf '%s\n' "$got" | grep -c "=$w\$")" = 3 ] && [ -z "$bad" ]; then
			ok "$place: $chip $w ($(echo $got); $(counts "$dir" "$chip.dest."))"
		else
			not_ok "$place: want $w for the 3 $chip.dest variants, got: $(echo ${got:-nothing})"
		fi
		controls=$(jq -r --arg c "$chip." 'select(.metric == "control" and (.variant | startswith($c))) | .value' "$dir/results.jsonl" 2>/dev/null | sort | uniq -c | xargs)
		if [ "$controls" = "3 pass" ]; then
			ok "$place: the 3 $chip controls counted one EOI per reuse ($(counts "$dir" "$chip.control."))"
		else
			not_ok "$place: $chip controls: ${controls:-none} (want 3 pass; $(jq -r --arg c "$chip." 'select(.metric == "control" and (.variant | startswith($c)) and .value != "pass") | .reason' "$dir/results.jsonl" 2>/dev/null | head -n1))"
		fi
	done
}

# counts DIR CHIP.REPROGRAM.: what the verdicts counted (split: eoi_exits,
# in-kernel: ioapic_acks) for those variants, e.g. "ioapic_acks 100 100 100".
counts() {
	local metric=eoi_exits
	case $2 in kernel.*) metric=ioapic_acks ;; esac
	echo "$metric $(jq -r --arg p "$2" --arg m "$metric" 'select((.variant | startswith($p)) and .metric == $m) | .value // "skipped"' \
		"$1/results.jsonl" 2>/dev/null | xargs)"
}

# host_place PLACE BINARY DIR ARGS...: run BINARY natively with ARGS,
# records in DIR.  kvm_pvm EOIs at delivery: every dest variant must say
# not-provoked.  Real KVM provokes the scenario: any real verdict, never
# not-provoked.
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
}
