# Appended after a kernel tree's tools/testing/selftests/kvm/Makefile, as in
#   make -C $(KVM_DIR) -f Makefile -f selftests-vars.mk irqbench-vars
# it prints the variables irqbench builds the selftests lib from, as the tree
# itself computes them.  Reading them (rather than keeping a file list) makes
# both the x86_64/ (<= 6.13) and the x86/ (>= 6.14) layouts work.

# Relative include paths are relative to the kvm selftests folder: make them
# absolute so that irqbench can compile from its own tree.
irqbench_abs_inc = $(if $(filter -I%,$(1)),$(if $(filter -I/%,$(1)),$(1),-I$(abspath $(patsubst -I%,%,$(1)))),$(1))
irqbench_cflags = $(foreach f,$(subst -I ,-I,$(CFLAGS)),$(call irqbench_abs_inc,$(f)))

# A prerequisite gives $(<D) (used in the tree's CFLAGS) a value.
.PHONY: irqbench-vars
irqbench-vars: Makefile
	@echo 'SELFTESTS_LIBKVM := $(LIBKVM)'
	@echo 'SELFTESTS_LIBKVM_STRING := $(LIBKVM_STRING)'
	@echo 'SELFTESTS_CFLAGS := $(irqbench_cflags)'
	@echo 'SELFTESTS_LDFLAGS := $(LDFLAGS)'
	@echo 'SELFTESTS_LDLIBS := $(LDLIBS)'
