# SPDX-License-Identifier: GPL-2.0-only
# CDF of raw samples: each block is one distribution, sorted, as
# "value<TAB>fraction" rows.  logx=1 for a log x axis (long tails).
load dir.'common.gp'
set ylabel 'fraction of samples'
set yrange [0:1]
if (exists("logx") && logx) { set logscale x }
PLOT = 'plot for [i=0:n-1] data index i using 1:2 with steps lw 2 title columnheader(1)'
load dir.'render.gp'
