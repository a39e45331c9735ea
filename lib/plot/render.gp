# SPDX-License-Identifier: GPL-2.0-only
# Draws PLOT twice: OUT.png (pngcairo, else libgd png) and OUT.svg, 1000
# pixels wide, height (default 600) high.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 1000,height noenhanced font ",10"
} else {
	set terminal png size 1000,height
}
set output out.'.png'
eval(PLOT)
set terminal svg size 1000,height noenhanced dynamic
set output out.'.svg'
eval(PLOT)
set output
