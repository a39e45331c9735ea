#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh compare RUN_A RUN_B: lib/report/compare.py (python3, stdlib only).
# Exit: 1 a metric regressed, 0 none, 2 bad input.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null; then
	echo "run.sh compare: needs python3" >&2
	exit 2
fi
exec python3 -B "$here/../report/compare.py" "$@"
