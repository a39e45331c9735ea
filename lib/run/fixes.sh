#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh fixes [RUN]: lib/report/fixes.py (python3, stdlib only) over the
# fix table lib/fixes.tsv.  Exit: 0 a report, 2 bad input.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null; then
	echo "run.sh fixes: needs python3" >&2
	exit 2
fi
exec python3 -B "$here/../report/fixes.py" "$@"
