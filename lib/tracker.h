/*
 * tracker.h - a client for BitTorrent HTTP trackers (BEP 3), with compact
 * peers (BEP 23) and IPv6 peers (BEP 7).
 *
 * A p2pl_tracker announces one swarm to one tracker URL, repeatedly, on
 * the caller's libevent loop, so nothing ever blocks: plain http on
 * libevent's evhttp (names resolved by evdns), https through libcurl's
 * multi interface, which is loaded (dlopen) on the first https announce
 * only.  The first announce
 * goes out at once with event=started (repeated until a tracker accepts
 * it), later ones every "interval" of the last reply, clamped to
 * [P2PL_TRACKER_MIN_INTERVAL, P2PL_TRACKER_MAX_INTERVAL] and never below
 * its "min interval".  After a failure the tracker retries on its own
 * after 15 s, doubling up to 10 min, and reports each failure through the
 * error callback.
 *
 * The request is the URL (which may already hold a query) plus
 *   info_hash=..&peer_id=..&port=N&uploaded=N&downloaded=N&left=0
 *   &compact=1&numwant=50[&event=started]
 * with info_hash and peer_id percent-encoded byte by byte (everything but
 * RFC 3986 unreserved characters, as %XX in upper case).  Only http and
 * https are used, for redirects too (at most 3); a transfer ends after
 * 10 s of silence (connecting included) or 20 s in all, and a reply over
 * P2PL_TRACKER_REPLY_MAX bytes is cut off and counts as a failure.
 *
 * Callbacks run from the event loop; p2pl_tracker_free() may be called
 * from inside them.  libcurl is initialised on the first https announce
 * (curl_global_init is not thread-safe: no other thread may use curl
 * then).
 */
#ifndef P2PL_TRACKER_H
#define P2PL_TRACKER_H

#include "util.h"

#include <stddef.h>
#include <stdint.h>

#include <event2/dns.h>
#include <event2/event.h>

#define P2PL_TRACKER_MIN_INTERVAL 15		/* seconds */
#define P2PL_TRACKER_MAX_INTERVAL 1800
#define P2PL_TRACKER_REPLY_MAX (256 * 1024)	/* bytes */
#define P2PL_TRACKER_PEERS 200			/* per reply, at most */
#define P2PL_TRACKER_NUMWANT 50

struct p2pl_tracker;

struct p2pl_tracker_cb {
	void *arg;
	/* peers from a successful announce (IPv4 and IPv6), n may be 0 */
	void (*peers)(void *arg, const struct p2pl_addr *peers, int n);
	/* a failed announce and why ("tracker said: ...", "http 404", ...) */
	void (*error)(void *arg, const char *why);
};

/*
 * Start announcing info_hash as peer_id listening on port to the http or
 * https tracker at url.  http names are resolved with dns, the caller's,
 * which must outlive t; with NULL, t makes a resolver of its own.
 * Returns NULL with a message in err on a bad URL or when libevent fails.
 */
struct p2pl_tracker *p2pl_tracker_new(struct event_base *base,
    struct evdns_base *dns, const char *url, const uint8_t info_hash[20], const uint8_t peer_id[20],
    uint16_t port, const struct p2pl_tracker_cb *cb, char *err,
    size_t errlen);
/* Stop: aborts an announce in flight and sends no more; t may be NULL. */
void p2pl_tracker_free(struct p2pl_tracker *t);
/* The uploaded and downloaded byte counts the next announces report. */
void p2pl_tracker_set_counts(struct p2pl_tracker *t, uint64_t uploaded,
    uint64_t downloaded);

/*
 * Parse a tracker's reply body: the peers of "peers" (compact 6-byte
 * entries, or the list of dicts with "ip" and "port") and "peers6"
 * (18-byte entries), at most max of them, into out, skipping port 0,
 * zero addresses and "ip" values that are not IP literals.  *interval
 * gets the seconds to wait before the next announce: "interval" (1800 if
 * missing) clamped as above and raised to "min interval".  Returns the
 * number of peers, or -1 with a message in err, which for a "failure
 * reason" is "tracker said: " and the reason (unprintable bytes as '?').
 */
int p2pl_tracker_parse_reply(const uint8_t *buf, size_t n,
    struct p2pl_addr *out, int max, int *interval, char *err, size_t errlen);

#endif
