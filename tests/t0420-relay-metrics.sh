#!/bin/sh
# A relay's GET /metrics while it serves a real stream to a viewer: a
# 200 text/plain page in Prometheus's text format 0.0.4 that a strict
# checker of the format accepts (every sample's metric has HELP and TYPE
# lines before it, names and labels well formed, values numbers), with
# every metric of p2pl-relay(1) for the stream, and sane values: the
# relay has its two peers, has sent bytes to the viewer, and its delay
# quantiles increase.
. "$(dirname "$0")/lib.sh"

camera cam
publish cam cam.key
hp=$(free_port)
p2pl-relay -l 127.0.0.1:0 --http "127.0.0.1:$hp" "$URI" >"$T/relay.uri" \
    2>"$T/relay.err" &
PIDS="$PIDS $!"
wait_for 10 test -s "$T/relay.uri" || fail "no relay uri: $(cat "$T/relay.err")"
RURI=$(head -n 1 "$T/relay.uri")
viewer v --relay-only "$RURI"
wait_for 15 sh -c "[ \$(wc -c <'$T/v.out') -gt 50000 ]" ||
    fail "viewer got nothing: $(cat "$T/v.err")"

curl -sS -D "$T/headers" "http://127.0.0.1:$hp/metrics" >"$T/metrics" ||
    fail "no /metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
    fail "content type: $(cat "$T/headers")"
python3 - "$T/metrics" "$(key_of "$RURI")" <<'PY' || fail "bad /metrics: $(cat "$T/metrics")"
import math, re, sys
text, key = open(sys.argv[1]).read(), sys.argv[2]
assert text.endswith("\n"), "no final newline"
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*,?\})? (\S+)( -?\d+)?$" % (name, lab, lab))
helps, types, seen, vals = {}, {}, [], {}
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("# HELP "):
        m = line.split(" ", 3)
        assert re.fullmatch(name, m[2]) and m[2] not in helps, (n, line)
        helps[m[2]] = 1
    elif line.startswith("# TYPE "):
        m = line.split(" ")
        assert len(m) == 4 and m[3] in ("counter", "gauge", "summary", "histogram", "untyped"), (n, line)
        assert m[2] not in types, ("TYPE twice", n, line)
        types[m[2]] = m[3]
    elif line.startswith("#") or line == "":
        continue
    else:
        m = sample.match(line)
        assert m, ("not a sample", n, line)
        base = re.sub(r"_(sum|count)$", "", m.group(1)) if re.sub(r"_(sum|count)$", "", m.group(1)) in types else m.group(1)
        assert base in types and base in helps, ("no TYPE/HELP before", n, line)
        # one metric's samples together
        assert not seen or seen[-1] == base or base not in seen, ("metric split", n, line)
        if not seen or seen[-1] != base:
            seen.append(base)
        v = m.group(3)
        assert v in ("NaN", "+Inf", "-Inf") or re.fullmatch(r"[-+]?[0-9.]+(e[-+]?[0-9]+)?", v), (n, line)
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        assert labels.get("stream") == key, ("stream label", n, line)
        if types[base] == "counter":
            assert m.group(1).endswith("_total"), ("counter name", line)
        vals[(m.group(1), labels.get("quantile"))] = float(v)
want = {"p2pl_peers": "gauge", "p2pl_bytes_in_total": "counter",
    "p2pl_bytes_out_total": "counter", "p2pl_offload_ratio": "gauge",
    "p2pl_delay_seconds": "summary", "p2pl_pieces_played_total": "counter",
    "p2pl_pieces_skipped_total": "counter", "p2pl_info": "gauge",
    "p2pl_up_rate_bytes_per_second": "gauge"}
for k, t in want.items():
    assert types.get(k) == t, (k, types.get(k))
v = lambda k, q=None: vals[(k, q)]
assert v("p2pl_peers") >= 1, v("p2pl_peers")
assert v("p2pl_bytes_out_total") > 0 and v("p2pl_bytes_in_total") > 0
ratio = v("p2pl_bytes_out_total") / v("p2pl_bytes_in_total")
assert abs(v("p2pl_offload_ratio") - ratio) < 1e-6 * ratio + 1e-9, (v("p2pl_offload_ratio"), ratio)
q = [v("p2pl_delay_seconds", x) for x in ("0.5", "0.95", "0.99")]
assert all(not math.isnan(x) and 0 <= x < 60 for x in q) and q[0] <= q[1] <= q[2], q
assert v("p2pl_delay_seconds_count") > 0 and v("p2pl_delay_seconds_sum") >= 0
print("# /metrics: %d metrics; peers %d, bytes in %d out %d, offload %.3f, delay p50/p95/p99 %s s" % (
    len(types), v("p2pl_peers"), v("p2pl_bytes_in_total"), v("p2pl_bytes_out_total"),
    v("p2pl_offload_ratio"), "/".join("%g" % x for x in q)), file=sys.stderr)
PY
# the counters go on counting
b1=$(sed -n 's/^p2pl_bytes_out_total{.*} //p' "$T/metrics")
wait_for 10 sh -c "[ \$(curl -s 'http://127.0.0.1:$hp/metrics' | sed -n 's/^p2pl_bytes_out_total{.*} //p') -gt $b1 ]" ||
    fail "bytes_out does not grow past $b1"
stop $VIEWER_PID
grep -qi "sanitizer\|runtime error" "$T/relay.err" "$T/v.err" &&
    fail "$(cat "$T/relay.err" "$T/v.err")"
true
