# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The interpreter of lib/report/ (sourced by run.sh and tests/tap.sh): the
# one that has the set-up's python3-scipy and python3-jsonschema, Debian's,
# not whichever python3 comes first on PATH (pyenv, a venv).
# shellcheck disable=SC2034 # read by the scripts that source this
PYTHON=${IRQBENCH_PYTHON:-/usr/bin/python3}
