# SPDX-License-Identifier: GPL-2.0-only
#
# irqbench: build the tests against a kernel tree's KVM selftests lib.
#
#   make                 set up (packages, default tree) and build
#   make KSRC=/linux     build against that tree (e.g. a patched kernel)
#   make run             build, then run the quick profile (run.sh run)
#   make check           build, then run irqbench's own tests
#                        (TESTS="NAME..." alone, CHECK_ORDER=reverse backwards)
#   make static          static binaries in build-static/ (for QEMU guests)
#   make ARCH=arm64 static   cross-build the arm64 tests (build-static-arm64/)
#
# With no KSRC, Debian's linux-source-6.12 is unpacked under .cache/.
#
# ARCH names the target as the kernel's make does (x86, arm64; x86_64 and
# aarch64 are accepted); default: this machine.  Another ARCH than the
# host's cross-compiles with $(CROSS_COMPILE)gcc (default aarch64-linux-gnu-
# for arm64, x86_64-linux-gnu- for x86) into build-<arch>/ and
# build-static-<arch>/, so that native and cross builds never mix.  On an
# arm64 machine plain `make` builds arm64 natively into build/.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CACHE ?= $(TOP)/.cache
DEFAULT_KSRC := $(CACHE)/linux-source-6.12

HOST_ARCH := $(shell uname -m)
HOST_KARCH := $(if $(filter aarch64 arm64,$(HOST_ARCH)),arm64,x86)
ARCH ?= $(HOST_KARCH)
override ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(ARCH)))
ifeq ($(filter x86 arm64,$(ARCH)),)
$(error ARCH=$(ARCH): irqbench builds for x86 or arm64)
endif
# tests.cfg "arch =" values are uname -m names.
TABLE_ARCH := $(if $(filter arm64,$(ARCH)),aarch64,x86_64)
ifneq ($(ARCH),$(HOST_KARCH))
CROSS_COMPILE ?= $(if $(filter arm64,$(ARCH)),aarch64-linux-gnu-,x86_64-linux-gnu-)
BUILD_SUFFIX := -$(ARCH)
endif
ifneq ($(CROSS_COMPILE),)
ifneq ($(filter default undefined,$(origin CC)),)
CC := $(CROSS_COMPILE)gcc
endif
ifneq ($(filter default undefined,$(origin AR)),)
AR := $(CROSS_COMPILE)ar
endif
endif

ifeq ($(STATIC),1)
BUILD ?= $(TOP)/build-static$(BUILD_SUFFIX)
else
BUILD ?= $(TOP)/build$(BUILD_SUFFIX)
endif

# ---- set-up -----------------------------------------------------------------
# One set-up step before anything else: lib/build/setup.sh installs what the
# groups of lib/build/packages.list that this make needs lack (make check:
# every group its tests use) and checks their commands; sub-makes skip it.
SETUP_GROUPS := build $(if $(KSRC),,ksrc) $(if $(filter arm64,$(ARCH)),arm64) \
		$(if $(filter check,$(MAKECMDGOALS)),all)
ifeq ($(filter clean distclean format,$(MAKECMDGOALS))$(MAKE_RESTARTS)$(IRQBENCH_SET_UP),)
ifneq ($(shell $(TOP)/lib/build/setup.sh $(SETUP_GROUPS) >&2 && echo ok),ok)
$(error set-up failed: lib/build/setup.sh $(strip $(SETUP_GROUPS)))
endif
endif
export IRQBENCH_SET_UP := 1

ifeq ($(KSRC),)
KSRC := $(DEFAULT_KSRC)
KSRC_SETUP := $(DEFAULT_KSRC)/.irqbench-unpacked
else
ifneq ($(words $(KSRC)),1)
$(error KSRC='$(KSRC)' has a space: make cannot build from such a path; use one without (a symlink will do))
endif
override KSRC := $(abspath $(KSRC))
KSRC_SETUP := ksrc-check
endif
KVM_DIR := $(KSRC)/tools/testing/selftests/kvm
HDR := $(BUILD)/kheaders

# The tests table is the one list of tests; arch folder = program prefix.
ARCH_PREFIX := $(ARCH)
PROGRAMS := $(filter $(ARCH_PREFIX)/%,$(shell $(TOP)/lib/run/table.sh programs $(TOP)/tests.cfg 2>/dev/null))

.PHONY: all run check static clean distclean setup ksrc-check format FORCE
all: programs

# ---- the kernel tree ---------------------------------------------------------

$(DEFAULT_KSRC)/.irqbench-unpacked:
	@$(TOP)/lib/build/setup-ksrc.sh default $(DEFAULT_KSRC)

ksrc-check:
	@$(TOP)/lib/build/setup-ksrc.sh check $(KSRC)

# The selftests lib's sources and flags, as the tree's own Makefile has them
# (printed as make variables: the generated selftests.mk).
# INSTALL_HDR_PATH: the uapi headers of $(ARCH) (the tree's own usr/include
# may hold another arch's, and comes first on the include path).
SELFTESTS_VARS = $(MAKE) -s --no-print-directory -C $(KVM_DIR) -f Makefile \
	-f $(TOP)/lib/build/selftests-vars.mk OUTPUT=$(BUILD)/selftests \
	ARCH=$(ARCH) CROSS_COMPILE=$(CROSS_COMPILE) $(SELFTESTS_ARCH_VARS) \
	INSTALL_HDR_PATH=$(HDR) KHDR_INCLUDES=-I$(HDR)/include irqbench-vars

# Rewritten only when KSRC changes, so that switching trees rebuilds all,
# and only once the new tree is set up: its uapi headers go to $(HDR).new
# and its selftests variables to selftests.mk.new, which replace kheaders/
# and selftests.mk only when both succeeded.  A tree that fails (a typo:
# the check; a broken or foreign tree: its headers or selftests) leaves the
# last good set-up as it was, so the next plain make rebuilds nothing.
$(BUILD)/ksrc.path: FORCE | $(KSRC_SETUP)
	@mkdir -p $(@D)
	@echo '$(KSRC)' | cmp -s - $@ || { \
		rm -rf $(HDR).new $(BUILD)/selftests.mk.new && \
		$(TOP)/lib/build/setup-ksrc.sh headers $(KSRC) $(HDR).new $(ARCH) && \
		$(SELFTESTS_VARS) >$(BUILD)/selftests.mk.new && \
		rm -rf $(HDR) && mv $(HDR).new $(HDR) && \
		mv $(BUILD)/selftests.mk.new $(BUILD)/selftests.mk && \
		echo '$(KSRC)' >$@; } || { rm -rf $(HDR).new $(BUILD)/selftests.mk.new; exit 1; }

# Headers gone (kheaders/ removed by hand) with the tree unchanged: again,
# staged the same way.
$(HDR)/include/linux/kvm.h: | $(BUILD)/ksrc.path $(KSRC_SETUP)
	@rm -rf $(HDR).new
	@$(TOP)/lib/build/setup-ksrc.sh headers $(KSRC) $(HDR).new $(ARCH) || { rm -rf $(HDR).new; exit 1; }
	@rm -rf $(HDR) && mv $(HDR).new $(HDR)

# arm64: the selftests include a generated sysreg-defs.h, which the tree's
# Makefile would write into the tree's tools/ (it ignores OUTPUT).  It is
# generated in a private copy of the generator under .cache instead
# ($(abs_objdir) points the tree's CFLAGS there).
ifeq ($(ARCH),arm64)
SYSREG_ROOT := $(CACHE)/arm64-sysreg/$(shell echo '$(KSRC)' | md5sum | cut -c1-12)
SYSREG_HDR := $(SYSREG_ROOT)/tools/arch/arm64/include/generated/asm/sysreg-defs.h
SELFTESTS_ARCH_VARS := abs_objdir=$(SYSREG_ROOT)
$(SYSREG_HDR): $(BUILD)/ksrc.path $(wildcard $(KSRC)/arch/arm64/tools/sysreg $(KSRC)/arch/arm64/tools/gen-sysreg.awk) | $(KSRC_SETUP)
	@$(TOP)/lib/build/setup-ksrc.sh sysreg $(KSRC) $(SYSREG_ROOT)
endif

# (SELFTESTS_VARS, above.)  Regenerated after a tree switch too: every object
# depends on it, so that the switch rebuilds all.
$(BUILD)/selftests.mk: $(BUILD)/ksrc.path $(HDR)/include/linux/kvm.h $(TOP)/lib/build/selftests-vars.mk $(SYSREG_HDR)
	@$(SELFTESTS_VARS) >$@.tmp || { rm -f $@.tmp; exit 1; }
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

CFLAGS_IRQBENCH := $(filter-out -Wno-gnu-variable-sized-type-not-at-end,$(SELFTESTS_CFLAGS)) -I$(TOP) -I$(BUILD) -include $(BUILD)/lib_features.h -include $(TOP)/lib/kvm_compat.h
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
# lib/<arch>/ holds helpers of one arch only (lib/arm64/: GIC/ITS set-up).
LIB_OBJS := $(patsubst $(TOP)/%.c,$(BUILD)/%.o,$(wildcard $(TOP)/lib/*.c $(TOP)/lib/$(ARCH)/*.c))
# Guest code is per arch: guest_code/NAME.c is arm64's when arm64/NAME.c
# exists (the payload of that program), else x86's (the original layout);
# guest_code/<arch>/*.c is that arch's too.
ARM64_GUEST_SRCS := $(filter $(patsubst $(TOP)/arm64/%,$(TOP)/guest_code/%,$(wildcard $(TOP)/arm64/*.c)),$(wildcard $(TOP)/guest_code/*.c))
ifeq ($(ARCH),arm64)
GUEST_SRCS := $(ARM64_GUEST_SRCS)
else
GUEST_SRCS := $(filter-out $(ARM64_GUEST_SRCS),$(wildcard $(TOP)/guest_code/*.c))
endif
GUEST_SRCS += $(wildcard $(TOP)/guest_code/$(ARCH)/*.c)
GUEST_OBJS := $(patsubst $(TOP)/%.c,$(BUILD)/%.o,$(GUEST_SRCS))
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

# The LD_PRELOAD shim that counts both programs' VM exits the same way.
EXITS_SHIM := $(BUILD)/peer/kvm_exits.so
$(EXITS_SHIM): $(TOP)/lib/bench/kvm_exits_shim.c $(TOP)/lib/kvm_stats.c $(TOP)/lib/kvm_stats.h $(HDR)/include/linux/kvm.h
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(BUILD)/%=%)
	$(Q)$(CC) -O2 -fPIC -shared -D_GNU_SOURCE -I$(TOP) -I$(HDR)/include \
		$(TOP)/lib/bench/kvm_exits_shim.c $(TOP)/lib/kvm_stats.c -ldl -o $@

.PHONY: peers
peers: $(PEER_BINS) $(EXITS_SHIM)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- entry points -------------------------------------------------------------

# Ends with the known fixes (lib/fixes.tsv) as this run shows them; the
# exit status stays the run's.
run: programs
	@rc=0; IRQBENCH_BUILD=$(BUILD) $(TOP)/run.sh run --profile quick || rc=$$?; \
	echo; $(TOP)/run.sh fixes || true; exit $$rc

# TESTS="test_arm64 ..." runs those alone; CHECK_ORDER=reverse, backwards.
check: programs unit-tests
	@IRQBENCH_BUILD=$(BUILD) $(TOP)/tests/check.sh $(if $(filter reverse,$(CHECK_ORDER)),--reverse) $(TESTS)

static:
	@$(MAKE) --no-print-directory STATIC=1 programs

# The arm64 detection matrix (tests/detection-arm64.cfg): whole arm64 kernel
# builds, cached outside the clone; a nightly check, not in make check.
nightly-arm64:
	@$(TOP)/run.sh matrix --file $(TOP)/tests/detection-arm64.cfg

# clang-format with the kernel's own settings, read from the tree.
format:
	clang-format -i --style=file:$(KSRC)/.clang-format \
		$(wildcard $(TOP)/lib/*.[ch] $(TOP)/lib/*/*.[ch] $(TOP)/guest_code/*.[ch] $(TOP)/guest_code/*/*.[ch] $(TOP)/x86/*.c $(TOP)/arm64/*.c $(TOP)/tests/unit/*.c)

clean:
	rm -rf $(TOP)/build $(TOP)/build-static $(TOP)/build-arm64 $(TOP)/build-static-arm64 \
		$(TOP)/build-x86 $(TOP)/build-static-x86

distclean: clean
	rm -rf $(CACHE)

FORCE:
