# SPDX-License-Identifier: GPL-2.0-only
# Shared by every irqbench plot (lib/plot/*.gp).  Callers set, with -e:
#   data   data file (blocks separated by two blank lines, the first line of
#          each block is its quoted title)
#   out    output path without extension: OUT.png and OUT.svg are written
#   ptitle, pxlabel, pylabel, n (number of blocks), dir (this folder),
#   height (pixels, default 600)
# A script sets up its axes, defines PLOT (the plot command) and calls
# `load dir.'render.gp'`.
if (!exists("height")) { height = 600 }
set encoding utf8
set datafile separator "\t"
set grid
set key outside right top noenhanced
set title ptitle noenhanced
set xlabel pxlabel noenhanced
set ylabel pylabel noenhanced
set style line 1 lw 2
