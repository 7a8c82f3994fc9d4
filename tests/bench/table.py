#!/usr/bin/env python3
"""table.py DIR [DOC] - the benchmark table from DIR/*.json (real.sh and
p2pl-sim results), printed as Markdown, and DIR/{real,base,simlo,simnet}.dat
for plot.gp.  With DOC (doc/BENCH.md) the table there, between the lines
"<!-- make bench: table ... -->" and "<!-- make bench: end -->", is
replaced by this one; the rest of DOC is left as it is.
Delay p50/p95/p99/max is over every piece played at every viewer, for a
real run from the viewers' delay histograms added up (real.sh); a real run
from before those (no delay_p95) shows each viewer's own p50/p99 instead:
the median viewer's, and the worst viewer's p99, with no p95 or max."""
import glob
import json
import os
import re
import sys

d = sys.argv[1]
rows = []
for f in glob.glob(os.path.join(d, "*.json")):
    try:
        r = json.load(open(f))
    except ValueError:
        continue
    if "viewers" not in r and "peers" not in r:
        continue
    r["name"] = os.path.basename(f)[:-5]
    rows.append(r)


def series(r):
    """the plot's series: real (default caps, no emulated delay, churn or
    slow viewers), base (the baseline), the simulator's loopback model
    (simlo) and its internet-like one (simnet); None for the others"""
    if r.get("kind") == "real":
        if r.get("baseline"):
            return "base"
        if (r.get("net_delay_ms") or r.get("churn") or r.get("slow") or
                r.get("relays")):
            return None
        return "real"
    if re.search(r"-s[0-9]+$", r["name"]):
        return None     # the agreement runs, by seed
    if (r.get("slow") or [0])[0] > 0:
        return "simnet"
    return "simlo" if r["latency_ms"][1] <= 0.5 else None


def key(r):
    if r.get("kind") == "real":
        return (0, r.get("baseline", False), r.get("net_delay_ms", 0),
                bool(r.get("churn")), bool(r.get("slow")),
                r.get("relays", 0), r["viewers"], 0)
    return (1, (r.get("slow") or [0])[0] > 0, r["latency_ms"][1] > 1,
            r["latency_ms"][1], r["peers"], r["seed"])


def f3(v):
    return "–" if v is None else "%.3f" % v


def f2(v):
    return "–" if v is None else "%.2f" % v


rows.sort(key=key)
table = []
print = table.append     # the table's lines, printed (and spliced) at the end
print("| run | N | delay p50 / p95 / p99 / max s | continuity | startup p50/p99 s"
      " | publisher ÷ stream | viewer upload ÷ received p10/median/p90"
      " | viewer CPU % / RSS MiB (median) | run cost |")
print("|---|---|---|---|---|---|---|---|---|")
dat = {"real": [], "base": [], "simlo": [], "simnet": []}
for r in rows:
    if r.get("kind") == "real":
        n = r["viewers"]
        what = ("real, baseline (--relay-only -u 0)" if r["baseline"] else
                "real, -u %s, publisher -u %s" % (
                    r["cap"], r.get("publisher_cap", "2x")))
        if r.get("slow"):
            what += ", -s %s" % r["slow"]
        if r.get("churn"):
            what += ", churn %s (killed:every s)" % r["churn"]
        if r.get("net_delay_ms"):
            what += ", %d ms a link" % r["net_delay_ms"]
        if r.get("relays"):
            what += ", %d relays (each uploads %s× what it gets, %s%% CPU, %s MiB)" % (
                r["relays"], "/".join(map(str, r["relay_upload"])),
                "/".join(map(str, r["relay_cpu_pct"])),
                "/".join(map(str, r["relay_rss_mib"])))
        if r.get("baseline_unserved"):
            what += ", %d viewers beyond the publisher's connections" % (
                r["baseline_unserved"])
        if r["name"].endswith("-run1"):
            what += ", an earlier run"
        if "delay_p95" in r:
            delay = "%s / %s / %s / %s" % (f3(r["delay_p50"]), f3(r["delay_p95"]),
                                           f3(r["delay_p99"]), f3(r["delay_max"]))
            p50, p99 = r["delay_p50"], r["delay_p99"]
        else:
            delay = "%s / – / %s (worst viewer %s) / – (viewers' own)" % (
                f3(r["delay_p50_median_viewer"]), f3(r["delay_p99_median_viewer"]),
                f3(r["delay_p99_worst_viewer"]))
            p50, p99 = r["delay_p50_median_viewer"], r["delay_p99_median_viewer"]
        pub = "%s (/proc %s)" % (f2(r["publisher_ratio"]), f2(r["publisher_ratio_proc"]))
        cost = "%d s, publisher %.1f%% / %.0f MiB" % (
            r["seconds"], r["publisher_cpu_pct"], r["publisher_rss_mib"])
        cpu = "%s / %s" % (f2(r["viewer_cpu_pct_median"]), r["viewer_rss_mib_median"])
        if r.get("viewer_pss_mib_median") is not None:
            cpu += " (anon %s, Pss %s)" % (r["viewer_anon_mib_median"],
                                           r["viewer_pss_mib_median"])
        started = "" if r["started"] == r["runs"] else " (%d of %d runs started)" % (
            r["started"], r["runs"])
        if series(r) is not None:
            dat[series(r)].append((n, p50, p99, r["delay_p99_worst_viewer"],
                                   r["publisher_ratio"]))
    else:
        n = r["peers"]
        kind = series(r)
        lat = r["latency_ms"]
        slow = r.get("slow") or [0, 0]
        what = "sim, %s, -u %.1f%s, publisher -u %.1f, %s" % (
            "loopback model" if lat[1] <= 0.5 else "%g–%g ms, %d Mbit/s links" % (
                lat[0], lat[1], r["link_bps"] / 1e6) if lat[0] != lat[1] else
            "%g ms links" % lat[0],
            r["viewer_up"], ", %d%% at %.1f" % (100 * slow[0], slow[1])
            if slow[0] else "", r.get("publisher_up", 2),
            "tracker %d" % r["tracker"] if r["tracker"] else "no tracker")
        if r.get("play_latency", 1) != 1:
            what += ", latency %.1f s" % r["play_latency"]
        if "-cal-" in r["name"]:
            what += " (the real run's median round trip)"
        if kind is None:
            what += ", seed %d" % r["seed"]
        delay = "%s / %s / %s / %s" % (f3(r["delay_p50"]), f3(r.get("delay_p95")),
                                       f3(r["delay_p99"]), f3(r.get("delay_max")))
        pub = f2(r["publisher_ratio"])
        cost = "%.0f s simulated in %.0f s, %.0f MiB" % (
            r["seconds"], r["wall_s"], r["rss_mib"])
        cpu = "–"
        started = "" if r["started"] == n else " (%d started)" % r["started"]
        if kind is not None:
            dat[kind].append((n, r["delay_p50"], r["delay_p99"],
                              r["delay_p99"], r["publisher_ratio"]))
    up = "%s / %s / %s" % (f2(r["upload_p10"]), f2(r["upload_median"]), f2(r["upload_p90"]))
    su = "%s / %s" % (f2(r["startup_p50"]), f2(r["startup_p99"]))
    print("| %s | %d%s | %s | %.2f%% | %s | %s | %s | %s | %s |" % (
        what, n, started, delay, 100 * r["continuity"], su, pub, up, cpu, cost))
del print
sys.stdout.write("".join(line + "\n" for line in table))
for k, v in dat.items():
    with open(os.path.join(d, k + ".dat"), "w") as fh:
        fh.write("# N delay_p50 delay_p99 delay_p99_worst publisher_ratio\n")
        for t in sorted(v):
            fh.write(" ".join("NaN" if x is None else str(x) for x in t) + "\n")


def splice(doc, table):
    """replace the lines between DOC's two markers by the table"""
    with open(doc) as fh:
        lines = fh.read().split("\n")
    start = [i for i, l in enumerate(lines)
             if l.startswith("<!-- make bench: table")]
    end = [i for i, l in enumerate(lines) if l == "<!-- make bench: end -->"]
    if len(start) != 1 or len(end) != 1 or end[0] < start[0]:
        sys.exit("table.py: %s: no single pair of make bench markers" % doc)
    lines[start[0] + 1:end[0]] = table
    with open(doc + ".tmp", "w") as fh:
        fh.write("\n".join(lines))
    os.replace(doc + ".tmp", doc)


if len(sys.argv) > 2:
    splice(sys.argv[2], table)
