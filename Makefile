# SPDX-License-Identifier: GPL-2.0-only
#
# irqbench: build the tests against a kernel tree's KVM selftests lib.
#
#   make                 set up (packages, default tree) and build
#   make KSRC=/linux     build against that tree (e.g. a patched kernel)
#   make run             build, then run the quick profile (run.sh run)
#   make check           build, then run irqbench's own tests
#   make static          static binaries in build-static/ (for QEMU guests)
#
# With no KSRC, Debian's linux-source-6.12 is unpacked under .cache/.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CACHE ?= $(TOP)/.cache
DEFAULT_KSRC := $(CACHE)/linux-source-6.12

ifeq ($(STATIC),1)
BUILD ?= $(TOP)/build-static
else
BUILD ?= $(TOP)/build
endif

ifeq ($(KSRC),)
KSRC := $(DEFAULT_KSRC)
KSRC_SETUP := $(DEFAULT_KSRC)/.irqbench-unpacked
else
override KSRC := $(abspath $(KSRC))
KSRC_SETUP := ksrc-check
endif
KVM_DIR := $(KSRC)/tools/testing/selftests/kvm
HDR := $(BUILD)/kheaders

HOST_ARCH := $(shell uname -m)
# The tests table is the one list of tests; arch folder = program prefix.
ifeq ($(HOST_ARCH),x86_64)
ARCH_PREFIX := x86
else
ARCH_PREFIX := arm64
endif
PROGRAMS := $(filter $(ARCH_PREFIX)/%,$(shell $(TOP)/lib/run/table.sh programs $(TOP)/tests.cfg 2>/dev/null))

PACKAGES := libnuma-dev gnuplot-nox

.PHONY: all run check static clean distclean setup ksrc-check format FORCE
all: programs

# ---- set-up -----------------------------------------------------------------

$(BUILD)/.deps-installed:
	@$(TOP)/lib/build/install-deps.sh $(PACKAGES)
	@mkdir -p $(@D) && touch $@

$(DEFAULT_KSRC)/.irqbench-unpacked:
	@$(TOP)/lib/build/setup-ksrc.sh default $(DEFAULT_KSRC)

ksrc-check:
	@$(TOP)/lib/build/setup-ksrc.sh check $(KSRC)

# Rewritten only when KSRC changes, so that switching trees rebuilds all.
$(BUILD)/ksrc.path: FORCE
	@mkdir -p $(@D)
	@echo '$(KSRC)' | cmp -s - $@ || echo '$(KSRC)' >$@

$(HDR)/include/linux/kvm.h: $(BUILD)/ksrc.path | $(KSRC_SETUP)
	@rm -rf $(HDR)
	@$(TOP)/lib/build/setup-ksrc.sh headers $(KSRC) $(HDR)

# The selftests lib's sources and flags, as the tree's own Makefile has them.
$(BUILD)/selftests.mk: $(BUILD)/ksrc.path $(HDR)/include/linux/kvm.h $(TOP)/lib/build/selftests-vars.mk $(BUILD)/.deps-installed
	@$(MAKE) -s --no-print-directory -C $(KVM_DIR) -f Makefile \
		-f $(TOP)/lib/build/selftests-vars.mk OUTPUT=$(BUILD)/selftests \
		KHDR_INCLUDES=-I$(HDR)/include irqbench-vars >$@.tmp
	@mv $@.tmp $@
	@{ printf '%s %s\n' "$$($(MAKE) -s --no-print-directory -C $(KSRC) kernelversion 2>/dev/null)" \
		'$(KSRC)'; } >$(BUILD)/ksrc.version

# Which API the tree's selftests lib has (it changes between releases).
$(BUILD)/lib_features.h: $(BUILD)/selftests.mk $(TOP)/lib/build/probe-lib.sh
	@$(TOP)/lib/build/probe-lib.sh $(KVM_DIR) >$@.tmp && mv $@.tmp $@

setup: $(BUILD)/selftests.mk $(BUILD)/lib_features.h

# Generated makefiles are (re)made first; no set-up for clean or format.
ifeq ($(filter clean distclean format,$(MAKECMDGOALS)),)
include $(BUILD)/selftests.mk
endif

# ---- build ------------------------------------------------------------------

CFLAGS_IRQBENCH := $(filter-out -Wno-gnu-variable-sized-type-not-at-end,$(SELFTESTS_CFLAGS)) -I$(TOP) -I$(BUILD) -include $(BUILD)/lib_features.h
# Older trees (6.1) leave _GNU_SOURCE to each test.
CFLAGS_IRQBENCH += $(if $(filter -D_GNU_SOURCE%,$(SELFTESTS_CFLAGS)),,-D_GNU_SOURCE)
# Every program links all guest_code/ objects (shared payloads); section GC
# drops the payloads and guest state it does not use, which would otherwise
# be loaded into every VM and could outgrow its memory.
CFLAGS_IRQBENCH += -ffunction-sections -fdata-sections
# One interposition point: lib/kvm_compat.c wraps ioctl() to pick the
# irqchip kind per VM and to run the 6.8+ lib on older kernels.
LDFLAGS_IRQBENCH := $(SELFTESTS_LDFLAGS) -Wl,--wrap=ioctl -Wl,--gc-sections
LDLIBS_IRQBENCH := -lnuma -lm $(SELFTESTS_LDLIBS)
ifeq ($(STATIC),1)
LDFLAGS_IRQBENCH += -static
endif

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

SELFTESTS_OBJS := $(patsubst %.c,$(BUILD)/selftests/%.o,$(filter %.c,$(SELFTESTS_LIBKVM))) \
		  $(patsubst %.S,$(BUILD)/selftests/%.o,$(filter %.S,$(SELFTESTS_LIBKVM)))
STRING_OBJS := $(patsubst %.c,$(BUILD)/selftests/%.o,$(SELFTESTS_LIBKVM_STRING))
LIB_OBJS := $(patsubst $(TOP)/%.c,$(BUILD)/%.o,$(wildcard $(TOP)/lib/*.c))
GUEST_OBJS := $(patsubst $(TOP)/%.c,$(BUILD)/%.o,$(wildcard $(TOP)/guest_code/*.c))
PROGRAM_BINS := $(addprefix $(BUILD)/,$(PROGRAMS))
UNIT_BINS := $(patsubst $(TOP)/tests/unit/%.c,$(BUILD)/tests/%,$(wildcard $(TOP)/tests/unit/*.c))

$(BUILD)/selftests/%.o: $(KVM_DIR)/%.c $(BUILD)/selftests.mk
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(SELFTESTS_CFLAGS) -w -c $< -o $@

$(BUILD)/selftests/%.o: $(KVM_DIR)/%.S $(BUILD)/selftests.mk
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(SELFTESTS_CFLAGS) -w -c $< -o $@

# Freestanding, as upstream builds it: the overrides must not call themselves.
$(STRING_OBJS): $(BUILD)/selftests/%.o: $(KVM_DIR)/%.c $(BUILD)/selftests.mk
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(SELFTESTS_CFLAGS) -w -ffreestanding -c $< -o $@

$(BUILD)/%.o: $(TOP)/%.c $(BUILD)/selftests.mk $(BUILD)/lib_features.h
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(CFLAGS_IRQBENCH) -c $< -o $@

$(BUILD)/libirqbench.a: $(LIB_OBJS)
	$(quiet) AR $(@:$(BUILD)/%=%)
	$(Q)$(AR) rcs $@ $^

$(PROGRAM_BINS): $(BUILD)/%: $(BUILD)/%.o $(GUEST_OBJS) $(BUILD)/libirqbench.a $(SELFTESTS_OBJS) $(STRING_OBJS)
	$(quiet) LD $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(LDFLAGS_IRQBENCH) $< $(GUEST_OBJS) $(BUILD)/libirqbench.a \
		$(SELFTESTS_OBJS) $(STRING_OBJS) $(LDLIBS_IRQBENCH) -o $@

# Unit tests need no KVM: only irqbench's lib, no selftests lib.
$(UNIT_BINS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libirqbench.a
	$(quiet) LD $(@:$(BUILD)/%=%)
	$(Q)$(CC) -no-pie $< $(BUILD)/libirqbench.a -lnuma -lm -o $@

.PHONY: programs unit-tests
programs: $(PROGRAM_BINS)
	@git -C $(TOP) describe --always --dirty >$(BUILD)/irqbench.version 2>/dev/null || true

unit-tests: $(UNIT_BINS)

# Upstream selftests that benchmarks compare against (lib/bench/), built
# from the same tree and selftests lib objects as the programs, unmodified
# (no irqbench lib, no ioctl wrap).  The folder is x86_64/ up to 6.12, x86/ after.
PEER_NAMES := xapic_ipi_test
PEER_BINS := $(addprefix $(BUILD)/peer/,$(PEER_NAMES))
$(PEER_BINS): $(BUILD)/peer/%: $(SELFTESTS_OBJS) $(STRING_OBJS) $(BUILD)/selftests.mk
	@mkdir -p $(@D)
	$(quiet) LD $(@:$(BUILD)/%=%)
	$(Q)$(CC) $(SELFTESTS_CFLAGS) -w $(SELFTESTS_LDFLAGS) \
		$(firstword $(wildcard $(KVM_DIR)/x86_64/$*.c $(KVM_DIR)/x86/$*.c)) \
		$(SELFTESTS_OBJS) $(STRING_OBJS) $(SELFTESTS_LDLIBS) -o $@

.PHONY: peers
peers: $(PEER_BINS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- entry points -------------------------------------------------------------

# Ends with the known fixes (lib/fixes.tsv) as this run shows them; the
# exit status stays the run's.
run: programs
	@rc=0; IRQBENCH_BUILD=$(BUILD) $(TOP)/run.sh run --profile quick || rc=$$?; \
	echo; $(TOP)/run.sh fixes || true; exit $$rc

check: programs unit-tests
	@IRQBENCH_BUILD=$(BUILD) $(TOP)/tests/check.sh

static:
	@$(MAKE) --no-print-directory STATIC=1 programs

# clang-format with the kernel's own settings, read from the tree.
format:
	clang-format -i --style=file:$(KSRC)/.clang-format \
		$(wildcard $(TOP)/lib/*.[ch] $(TOP)/guest_code/*.[ch] $(TOP)/x86/*.c $(TOP)/arm64/*.c $(TOP)/tests/unit/*.c)

clean:
	rm -rf $(TOP)/build $(TOP)/build-static

distclean: clean
	rm -rf $(CACHE)

FORCE:
