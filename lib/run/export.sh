#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh export --junit|--kcidb RUN: lib/report/export.py (python3, stdlib
# only).  Exit: 0 written, 2 bad input.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null; then
	echo "run.sh export: needs python3" >&2
	exit 2
fi
exec python3 -B "$here/../report/export.py" "$@"
