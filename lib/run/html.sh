#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh report RUN: lib/report/html_report.py writes RUN/report.html
# (python3, stdlib only).  Exit: 0 written, 2 bad input.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null; then
	echo "run.sh report: needs python3" >&2
	exit 2
fi
exec python3 -B "$here/../report/html_report.py" "$@"
