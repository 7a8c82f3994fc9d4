/*
 * trackd.h - a BitTorrent HTTP tracker (BEP 3 announce, compact peers
 * BEP 23, IPv6 peers BEP 7) on libevent's evhttp, run by p2pl-relay
 * --tracker.
 *
 * A tracker keeps, for each swarm (info_hash), the peers that announced
 * within the last two intervals.  p2pl_trackd_new() registers GET
 * /announce on the caller's evhttp server; the caller keeps owning the
 * server and may serve other paths on it.  With http == NULL (and then
 * base may be NULL too) nothing is registered and no timer runs: the
 * tracker is driven only through p2pl_trackd_announce(), which is how the
 * tests and the fuzzer use it.
 *
 * The announce query is parsed by hand as hostile input:
 *   info_hash, peer_id  percent-decoded to exactly 20 raw bytes ('+' is a
 *                       literal byte, not a space); required
 *   port                1..65535; required
 *   numwant             default 50, at most 200
 *   event               started, stopped (removes the peer), completed
 *   left                0 makes the peer a seed ("complete")
 *   compact             0 gives the list-of-dicts form, anything else the
 *                       compact form ("peers" 6-byte and "peers6" 18-byte
 *                       entries)
 *   ip                  ignored: the connection's address is used, and an
 *                       IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts
 *                       as IPv4
 * A peer is known by its peer_id and address.  Replies never list the
 * asking peer (nor another entry with its address and port), and list a
 * random subset when the swarm has more peers than numwant.  The reply
 * dict holds "complete", "incomplete", "interval", "min interval"
 * (interval / 2), "peers" (always) and "peers6" (compact, when any).
 * Problems are answered with a dict holding only "failure reason".
 *
 * Memory is bounded: at most max_swarms swarms of at most max_peers peers;
 * new ones beyond that are refused with a failure reason.  Peers expire
 * two intervals after their last announce, checked lazily on each
 * announce and by a timer every interval; swarms left empty are dropped
 * unless they were added with p2pl_trackd_allow().
 */
#ifndef P2PL_TRACKD_H
#define P2PL_TRACKD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#define P2PL_TRACKD_NUMWANT 50		/* default numwant */
#define P2PL_TRACKD_MAXWANT 200		/* largest numwant honoured */
/* A buffer this big holds any announce reply. */
#define P2PL_TRACKD_REPLY_MAX 32768

struct p2pl_trackd;

/* Zero in any field means its default. */
struct p2pl_trackd_cfg {
	int interval;		/* seconds told to clients, default 60 */
	int max_swarms;		/* bound, default 1024 */
	int max_peers;		/* per swarm, default 1000 */
	int open;		/* 1: track any info_hash; 0: only allowed ones */
};

/*
 * Make a tracker serving GET /announce on http (NULL: serve nothing, see
 * above).  cfg may be NULL for the defaults.  Fails if /announce is
 * already served on http.
 */
struct p2pl_trackd *p2pl_trackd_new(struct event_base *base,
    struct evhttp *http, const struct p2pl_trackd_cfg *cfg,
    char *err, size_t errlen);
/* Unregister /announce and free every swarm; t may be NULL. */
void p2pl_trackd_free(struct p2pl_trackd *t);

/* Track info_hash even when the tracker is not open (0; -1 when full). */
int p2pl_trackd_allow(struct p2pl_trackd *t, const uint8_t info_hash[20]);
/* How many peers a swarm has (0 if unknown), for stats. */
int p2pl_trackd_count(const struct p2pl_trackd *t,
    const uint8_t info_hash[20]);

/*
 * Handle one announce: query is the part of the URI after '?', remote_ip
 * the connection's address as text (IPv4 or IPv6, an "%zone" suffix is
 * ignored), now_s a clock in seconds.  The bencoded reply goes into buf;
 * returns its length, or -1 if remote_ip is not an address or the reply
 * does not fit (P2PL_TRACKD_REPLY_MAX bytes always do).  Bad queries are
 * not -1: they get a "failure reason" reply.
 */
long p2pl_trackd_announce(struct p2pl_trackd *t, const char *query,
    const char *remote_ip, uint64_t now_s, uint8_t *buf, size_t buflen);

#endif
