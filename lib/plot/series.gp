# SPDX-License-Identifier: GPL-2.0-only
# A statistic against a numeric parameter: each block is one line, rows
# "x<TAB>y", x sorted.
load dir.'common.gp'
if (exists("logx") && logx) { set logscale x 2 }
PLOT = 'plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)'
load dir.'render.gp'
