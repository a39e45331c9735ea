# SPDX-License-Identifier: GPL-2.0-only
# One bar per row "label<TAB>value<TAB>low<TAB>high"; errors=1 draws the
# low..high interval on each bar (compare: delta % and its bootstrap CI).
# bmargin: room (characters) for the vertical labels.
load dir.'common.gp'
set style fill solid 0.5 border -1
set boxwidth 0.6
set xtics rotate by -90 left noenhanced font ",8"
set key off
set xzeroaxis lt -1
if (!exists("bmargin")) { bmargin = 12 }
set bmargin bmargin
if (exists("errors") && errors) {
	PLOT = 'plot data using 0:2:xtic(1) with boxes lc rgb "#4a7ab5", "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 lw 1.5'
} else {
	PLOT = 'plot data using 0:2:xtic(1) with boxes lc rgb "#4a7ab5"'
}
load dir.'render.gp'
