#!/bin/sh
# p2pl-top against a live swarm of 10 viewers.  Batch mode: three plain
# snapshots whose per-viewer counts agree with the viewers' own stats
# lines.  On a terminal (tmux): the screen lays out as the committed
# capture, shows the 10 viewers with non-zero rates, the sort and help
# keys change it, it still has its header at 80x24, and q leaves the
# terminal as it was.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || fail "tmux is not installed"
N=10
EXPECTED=$(cd "$(dirname "$0")" && pwd)/t0400-top.layout

camera cam
publish cam cam.key
i=1
while [ $i -le $N ]; do
	viewer v$i "$URI"
	i=$((i + 1))
done
wait_for 20 sh -c "[ \$(ls '$T/run/p2pl' | grep -c '^p2pl-fetch') -eq $N ]" ||
    fail "not every viewer made a control socket: $(ls "$T/run/p2pl")"
sleep 3

# batch mode
t0=$(date +%s.%N)
p2pl-top -n 3 -d 1 >"$T/batch" 2>"$T/batch.err" || fail "p2pl-top -n failed: $(cat "$T/batch.err")"
t1=$(date +%s.%N)
sleep 1.5	# a stats line after the last snapshot
[ "$(grep -c '^local: 1 stream, 10 viewers, 1 publisher' "$T/batch")" -eq 3 ] ||
    fail "want 3 snapshots of 10 viewers: $(cat "$T/batch")"
python3 - "$T" "$N" "$t0" "$t1" <<'PY' || fail "p2pl-top's counts do not match the stats lines"
import json, re, sys
t, n, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
snaps = open(t + "/batch").read().strip().split("\n\n")
assert len(snaps) == 3, len(snaps)
# each viewer's pieces and peers as its own stats lines give them
pieces, peers = {}, {}
for i in range(1, n + 1):
    lines = [json.loads(l) for l in open("%s/v%d.stats" % (t, i))]
    pid = lines[0]["pid"]
    # the lines around the run: the last before it, the first after it
    k0 = max([k for k, l in enumerate(lines) if l["time"] <= t0] or [0])
    k1 = min([k for k, l in enumerate(lines) if l["time"] >= t1] or [len(lines) - 1])
    pieces[pid] = [l["pieces"] for l in lines[k0:k1 + 1]]
    peers[pid] = [l["peers"] for l in lines[k0:k1 + 1]]
for s in snaps:
    rows = [l.split() for l in s.split("\n") if l.startswith("fetch ")]
    assert len(rows) == n, (len(rows), s)
    for r in rows:
        pid, npeers, npieces = int(r[1]), int(r[3]), int(r[-3])
        assert pid in pieces, (pid, "not a viewer of this test")
        # a snapshot falls between two stats lines: within their range
        assert min(pieces[pid]) <= npieces <= max(pieces[pid]), (pid, npieces, pieces[pid])
        assert min(peers[pid]) <= npeers <= max(peers[pid]), (pid, npeers, peers[pid])
    sums = sum(int(r[-3]) for r in rows)
    assert sums > 0
print("# p2pl-top -n 3: 3 snapshots of %d viewers, counts as in their stats lines" % n, file=sys.stderr)
PY

# on a terminal: a shell in tmux runs p2pl-top
S=p2pl-top-$$
tmux -f /dev/null -L "$S" new-session -d -s top -x 80 -y 24 \
    "env PS1='$ ' TERM=screen LANG=C.UTF-8 XDG_RUNTIME_DIR='$T/run' PATH='$PATH' sh"
PIDS="$PIDS $(tmux -L "$S" display -p -t top '#{pane_pid}')"
cleanup_tmux() { tmux -L "$S" kill-server 2>/dev/null || true; cleanup; }
trap cleanup_tmux EXIT
pane() { tmux -L "$S" capture-pane -p -t top; }
keys() { tmux -L "$S" send-keys -t top "$@"; }
keys "stty -g >'$T/stty.before'; echo MARK-BEFORE" Enter
keys "p2pl-top" Enter
shows() { pane | grep -q -- "$1"; }
wait_for 10 shows "10 viewers" || fail "p2pl-top shows no swarm: $(pane)"
sleep 2
pane >"$T/screen.80x24"
# the layout, numbers and bars masked, against the committed capture
python3 - "$T/screen.80x24" "$EXPECTED" <<'PY' || fail "screen layout differs from tests/t0400-top.layout: $(cat "$T/screen.80x24")"
import re, sys
def mask(text):
    out = []
    for l in text.rstrip("\n").split("\n"):
        l = re.sub(r"(?<![A-Za-z0-9.])[0-9]+(\.[0-9]+)?", "N", l)
        l = re.sub(r"[kMG]?i?[bB]/s", "R", l)
        l = re.sub(r"(?<= )-(?= |$)", "N", l)	# unknown yet: a number
        l = re.sub(r"[\u2588\u2591#]+", "BAR", l)
        l = re.sub(r"[\u2581-\u2588 ]*$", "", l)
        l = re.sub(r" +", " ", l).rstrip()
        l = re.sub(r"^upload N R .*", "upload N R SPARKLINE", l)
        if not out or out[-1] != l:
            out.append(l)
    return "\n".join(out) + "\n"
got = mask(open(sys.argv[1], encoding="utf-8").read())
want = open(sys.argv[2], encoding="utf-8").read()
if got != want:
    sys.stderr.write("--- want\n%s--- got\n%s" % (want, got))
    sys.exit(1)
PY
python3 -c 'import sys
sys.exit(any(len(l.rstrip("\n")) > 80 for l in open(sys.argv[1], encoding="utf-8")))' \
    "$T/screen.80x24" || fail "lines wider than 80 columns"

# a bigger terminal: all 10 viewers with non-zero rates
tmux -L "$S" resize-window -t top -x 120 -y 40
sleep 1.5
pane >"$T/screen.big"
python3 - "$T/screen.big" "$N" <<'PY' || fail "viewers missing or idle: $(cat "$T/screen.big")"
import re, sys
rows = [l for l in open(sys.argv[1], encoding="utf-8") if re.match(r"fetch \d+ +viewer", l)]
assert len(rows) == int(sys.argv[2]), len(rows)
for r in rows:
    rates = re.findall(r"([0-9.]+) [kMG]?b/s", r)
    assert len(rates) == 2 and float(rates[0]) > 0, r
PY
before=$(pane | sed -n 5p)
keys s
sleep 0.5
after=$(pane | sed -n 5p)
[ "$before" != "$after" ] || fail "s did not change the sort: $before"
keys '?'
wait_for 3 shows "p2pl-top keys" || fail "? shows no help"
keys x
sleep 0.5
shows "p2pl-top keys" && fail "help did not close"
tmux -L "$S" resize-window -t top -x 80 -y 24
sleep 1.5
pane | head -n 1 | grep -q "^p2pl-top  local: 1 stream" ||
    fail "no header at 80x24: $(pane)"
keys q
in_shell() { [ "$(tmux -L "$S" display -p -t top '#{pane_current_command}')" = sh ]; }
wait_for 30 in_shell || fail "p2pl-top did not quit: $(pane)"
shows "MARK-BEFORE" || fail "the screen was not restored: $(pane)"
keys "stty -g >'$T/stty.after'" Enter
wait_for 10 test -s "$T/stty.after" || fail "the shell did not come back: $(pane)"
cmp -s "$T/stty.before" "$T/stty.after" || fail "terminal modes changed"
note "p2pl-top in tmux: layout as committed, 10 viewers, keys work, terminal restored"
