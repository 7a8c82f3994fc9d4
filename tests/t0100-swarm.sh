#!/bin/sh
# 30 viewers, each uploading at most 1.5x the stream, the publisher at most
# 2x: every viewer's output decodes with no error (a viewer that had to
# skip a piece resumes cleanly at a join point; skips are reported here and
# measured by the benchmark), and the publisher sends
# at most 2.2x the stream's bytes, by its own count and counted from
# outside (/proc/PID/io: every byte it wrote to a socket).
. "$(dirname "$0")/lib.sh"
N=${N:-$([ -n "${P2PL_SANITIZED:-}" ] && echo 15 || echo 30)}

camera cam
publish cam cam.key -u 2x
i=1
while [ $i -le $N ]; do
	viewer v$i -u 1.5x "$URI"
	eval "v${i}_pid=\$VIEWER_PID"
	sleep 0.1
	i=$((i + 1))
done
sleep 15
wchar=$(sed -n 's/^wchar: //p' "/proc/$PUB_PID/io")
i=1
while [ $i -le $N ]; do
	eval "stop \$v${i}_pid"
	i=$((i + 1))
done
pub_bad=
made=$(last_stat "$T/cam.pub.stats" bytes)
sent=$(last_stat "$T/cam.pub.stats" up_bytes)
python3 - "$wchar" "$made" "$sent" <<'PY' >&2 || pub_bad=1
import sys
wchar, made, sent = map(int, sys.argv[1:])
outside, inside = wchar / made, sent / made
print("# publisher: %d stream bytes; it sent %.2fx by its count, "
      "wrote %.2fx to sockets by /proc" % (made, inside, outside))
sys.exit(0 if outside <= 2.2 and inside <= 2.2 else 1)
PY
i=1
while [ $i -le $N ]; do
	echo "v$i $(last_stat "$T/v$i.stats" up_bytes) $(last_stat "$T/v$i.stats" delay_p50_all) $(last_stat "$T/v$i.stats" delay_p99_all) $(last_stat "$T/v$i.stats" skipped) $(last_stat "$T/v$i.stats" dups) $(last_stat "$T/v$i.stats" peers)" >>"$T/table"
	i=$((i + 1))
done
python3 - "$T/table" <<'PY' >&2
import sys
rows = [l.split() for l in open(sys.argv[1])]
def col(k, f=float): return sorted(f(r[k]) if r[k] != "null" else -1 for r in rows)
def mmm(v): return "min %s median %s max %s" % (v[0], v[len(v) // 2], v[-1])
print("# viewers: upload bytes", mmm(col(1, int)))
print("# viewers: delay p50", mmm(col(2)), "s; p99", mmm(col(3)), "s")
print("# viewers: skipped", sum(col(4, int)), "pieces in all; duplicates", mmm(col(5, int)), "; peers", mmm(col(6, int)))
PY
i=1
while [ $i -le $N ]; do
	decodes "$T/v$i.out"
	i=$((i + 1))
done
[ -z "${pub_bad:-}" ] || fail "the publisher sent more than 2.2x the stream"
