#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh plot RUN: lib/report/plot_run.py draws the plots tests.cfg declares
# (plot.NAME) with the gnuplot scripts in lib/plot/.  Exit: 0 drawn,
# 2 bad input, 4 no gnuplot.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null; then
	echo "run.sh plot: needs python3" >&2
	exit 2
fi
exec python3 -B "$here/../report/plot_run.py" "$@"
