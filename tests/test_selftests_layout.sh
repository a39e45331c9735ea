#!/bin/bash
# The Makefile takes the selftests lib's sources and flags from the tree's
# own Makefile (lib/build/selftests-vars.mk).  Checked on a skeleton of the
# x86/ layout (6.14 on: Makefile -> Makefile.kvm, ARCH=x86) and, when they
# are set up, on the default tree's x86_64/ layout (up to 6.13) and on a 7.x
# tree's x86/ layout (tests/test_ksrc_upstream.sh unpacks one).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
vars=$top/lib/build/selftests-vars.mk
sk=$(mktemp -d)
trap 'rm -rf "$sk"' EXIT
failed=0 n=0
check() {
	n=$((n + 1))
	if eval "$1"; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

kvm=$sk/tools/testing/selftests/kvm
mkdir -p "$kvm/lib/x86" "$kvm/include/x86" "$sk/scripts" "$sk/tools/build"
echo 'SUBARCH := x86' >"$sk/scripts/subarch.include"
: >"$sk/tools/build/Build.include"
printf 'OUTPUT ?= $(CURDIR)\nall:\n' >"$sk/tools/testing/selftests/lib.mk"
cat >"$kvm/Makefile" <<'MK'
top_srcdir = ../../../..
include $(top_srcdir)/scripts/subarch.include
ARCH            ?= $(SUBARCH)
ifeq ($(ARCH),$(filter $(ARCH),arm64 s390 riscv x86 x86_64))
ifeq ($(ARCH),x86_64)
	ARCH := x86
endif
include Makefile.kvm
else
all:
endif
MK
cat >"$kvm/Makefile.kvm" <<'MK'
include ../../../build/Build.include
all:
LIBKVM += lib/assert.c
LIBKVM += lib/kvm_util.c
LIBKVM_STRING += lib/string_override.c
LIBKVM_x86 += lib/x86/apic.c
LIBKVM_x86 += lib/x86/handlers.S
LIBKVM_x86 += lib/x86/processor.c
LIBKVM_arm64 += lib/arm64/gic.c
LIBKVM += $(LIBKVM_$(ARCH))
include ../lib.mk
CFLAGS += -O2 -Iinclude -I$(<D) -Iinclude/$(ARCH) -I ../rseq -I.. $(KHDR_INCLUDES)
LDLIBS += -ldl
MK

got=$(make -s -C "$kvm" -f Makefile -f "$vars" KHDR_INCLUDES=-I/hdr irqbench-vars 2>&1)
echo "$got" | sed 's/^/# /'
check '[[ "$got" == *"SELFTESTS_LIBKVM := lib/assert.c lib/kvm_util.c lib/x86/apic.c lib/x86/handlers.S lib/x86/processor.c"* ]]' \
	"x86/ layout: the arch lib files come from LIBKVM_x86"
check '[[ "$got" != *arm64* ]]' "x86/ layout: no other arch's files"
check '[[ "$got" == *"-I$kvm/include/x86 "* ]]' "x86/ layout: include/x86, made absolute"
check '[[ "$got" == *"-I$sk/tools/testing/selftests/rseq"* ]]' "split -I DIR made absolute"
check '[[ "$got" == *"SELFTESTS_LIBKVM_STRING := lib/string_override.c"* ]]' "string overrides"

real=$top/.cache/linux-source-6.12/tools/testing/selftests/kvm
if [ -f "$real/Makefile" ]; then
	got=$(make -s -C "$real" -f Makefile -f "$vars" OUTPUT="$sk/out" irqbench-vars 2>/dev/null)
	check '[[ "$got" == *"lib/x86_64/processor.c"* && "$got" == *"include/x86_64 "* ]]' \
		"x86_64/ layout (6.12 tree): lib/x86_64 and include/x86_64"
fi
# The real x86/ layout: a 7.x tree as tests/test_ksrc_upstream.sh unpacks it.
for real in "$top"/.cache/linux-source-[7-9].*/tools/testing/selftests/kvm; do
	[ -f "$real/Makefile.kvm" ] || continue
	t=${real%/tools/testing/selftests/kvm}
	got=$(make -s -C "$real" -f Makefile -f "$vars" OUTPUT="$sk/out" irqbench-vars 2>/dev/null)
	check '[[ "$got" == *"lib/x86/processor.c"* && "$got" == *"include/x86 "* && "$got" != *x86_64* ]]' \
		"x86/ layout (${t##*/} tree): lib/x86 and include/x86"
done
echo "1..$n"
exit $failed
