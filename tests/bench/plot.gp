# plot.gp - delay and publisher upload against audience size, from the
# .dat files tests/bench/table.py writes.  gnuplot -e "dir='build/bench'"
if (!exists("dir")) dir = 'build/bench'
set terminal svg size 1000,540 dynamic font "sans,12"
set output dir.'/bench.svg'
set multiplot layout 1,2 title "p2pl: a 1.1 Mbit/s stream (sim: 1 Mbit/s), viewers -u 1.5x, publisher -u 1.5x"
set logscale x
set xrange [5:200000]
set xlabel "viewers"
set grid
set key top left font ",9"
set ylabel "delay (s)"
set yrange [0:5.5]
plot dir.'/real.dat' using 1:2 with linespoints lw 2 pt 7 title "real: p50", \
     dir.'/real.dat' using 1:3 with linespoints lw 2 pt 7 title "real: p99", \
     dir.'/simlo.dat' using 1:2 with linespoints dt 2 lw 2 pt 6 title "sim loopback: p50", \
     dir.'/simlo.dat' using 1:3 with linespoints dt 2 lw 2 pt 6 title "sim loopback: p99", \
     dir.'/simnet.dat' using 1:2 with linespoints dt 3 lw 2 pt 8 title "sim 10-100 ms, 1.2x: p50", \
     dir.'/simnet.dat' using 1:3 with linespoints dt 3 lw 2 pt 8 title "sim 10-100 ms, 1.2x: p99"
set ylabel "publisher upload / stream"
set logscale y
set yrange [0.5:*]
plot dir.'/real.dat' using 1:5 with linespoints lw 2 pt 7 title "real", \
     dir.'/base.dat' using 1:5 with linespoints lw 2 pt 5 title "real baseline (no peer-to-peer)", \
     dir.'/simlo.dat' using 1:5 with linespoints dt 2 lw 2 pt 6 title "sim loopback", \
     dir.'/simnet.dat' using 1:5 with linespoints dt 3 lw 2 pt 8 title "sim 10-100 ms, 1.2x"
unset multiplot
