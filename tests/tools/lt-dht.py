#!/usr/bin/python3
# lt-dht.py - a Mainline DHT node we did not write, for interop tests:
# a libtorrent (python3-libtorrent) session with only its DHT on, on
# loopback.
#
#   lt-dht.py -p PORT -d DIR [-i ADDR]... [-b HOST:PORT]... [-a HASH]...
#       [-s HASH]...
#
# Listens on PORT of each -i address (default 127.0.0.1; ::1 for IPv6,
# where libtorrent runs a second DHT node, BEP 32), UDP and TCP,
# bootstraps from the -b nodes, announces each -a info-hash (40 hex) with
# its own port PORT every 3 s, and looks up each -s info-hash every 3 s,
# printing
# each peer found once as "HASH HOST:PORT" on stdout.  Prints "ready" on
# stdout once the session is up.  Diagnostics on stderr (all of
# libtorrent's DHT log when LT_DHT_DEBUG is set).  Runs until killed.
#
# libtorrent keeps one node per IP in its routing table and in searches,
# and prefers node ids that match the node's IP (BEP 42); on loopback all
# nodes share 127.0.0.1, so those rules are turned off here, and so is
# its rate limit per IP (dht_block_ratelimit).  Bootstrap
# nodes given as dht_bootstrap_nodes are "routers", which libtorrent asks
# but never puts in its routing table: -b nodes go in with add_dht_node.
#
# The python bindings of libtorrent 2.0.8 cannot call session.dht_announce
# (its flags argument has no converter: libtorrent pull request 7443), so
# an -a hash is announced the way a client does it: as a torrent added by
# magnet link (saved under DIR, never completed), whose DHT announce is
# forced every 3 s.  The port announced is then the session's PORT.
import argparse
import os
import sys
import time

import libtorrent as lt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-p", type=int, required=True)
    ap.add_argument("-i", action="append", default=[])
    ap.add_argument("-d", required=True)
    ap.add_argument("-b", action="append", default=[])
    ap.add_argument("-a", action="append", default=[])
    ap.add_argument("-s", action="append", default=[])
    o = ap.parse_args()

    s = {
        "listen_interfaces": ",".join(("[%s]:%d" if ":" in i else "%s:%d")
                                      % (i, o.p) for i in o.i or ["127.0.0.1"]),
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # -b nodes are added as nodes: routers never enter the table
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_ignore_dark_internet": False,
        "dht_enforce_node_id": False,
        # more than 5 queries a second from one IP get it blocked, and
        # here every node is 127.0.0.1
        "dht_block_ratelimit": 10000,
        "dht_announce_interval": 3,
        "alert_mask": lt.alert_category.dht | lt.alert_category.dht_operation
        | lt.alert_category.error
        | lt.alert_category.status,
    }
    debug = bool(os.environ.get("LT_DHT_DEBUG"))
    if debug:
        s["alert_mask"] |= lt.alert_category.dht_log
    ses = lt.session(s)
    for b in o.b:
        host, port = b.rsplit(":", 1)
        ses.add_dht_node((host.strip("[]"), int(port)))
    print("ready", flush=True)
    handles = []
    for h in o.a:
        atp = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + h)
        atp.save_path = o.d
        handles.append(ses.add_torrent(atp))
    seen = set()
    last = 0.0
    while True:
        now = time.monotonic()
        if now - last >= 3:
            last = now
            for th in handles:
                th.force_dht_announce()
            for h in o.s:
                ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(h)))
        ses.wait_for_alert(500)
        for al in ses.pop_alerts():
            if isinstance(al, lt.dht_get_peers_reply_alert):
                h = str(al.info_hash)
                for ip, port in al.peers():
                    k = "%s %s:%d" % (h, ip, port)
                    if k not in seen:
                        seen.add(k)
                        print(k, flush=True)
            elif debug or al.category() & lt.alert_category.error:
                print("lt-dht %d: %s" % (o.p, al.message()), file=sys.stderr,
                      flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
