/*
 * dht.h - a Mainline DHT node (BEP 5, with IPv6 per BEP 32) that owns no
 * socket and no clock, in the manner of jech/dht.
 *
 * The caller reads datagrams from its UDP socket(s) and hands them to
 * p2pl_dht_input() with the sender's address and the time; the node
 * sends through the send callback and asks, through p2pl_dht_tick(),
 * to be called again after so many microseconds.  Nothing here blocks,
 * sleeps, resolves names, prints or exits.  IPv4 and IPv6 nodes live in
 * separate routing tables (BEP 32); a search runs in each family that
 * has nodes.  IPv4-mapped IPv6 sender addresses count as IPv4.
 *
 * The routing table is Kademlia's table without bucket splitting: for
 * each family, 160 buckets of P2PL_DHT_K nodes, bucket i holding the
 * nodes whose id shares exactly i leading bits with ours.  A node enters
 * when it queries us or answers us (nodes merely named in replies are
 * pinged first), replacing a node that failed P2PL_DHT_FAILS queries in a
 * row; a full bucket of live nodes turns newcomers away (old nodes are
 * preferred, as Kademlia asks).  Nodes not heard from in 15 minutes are
 * pinged.  A node with our id, port 0, an unspecified, multicast or
 * broadcast address is never added.
 *
 * p2pl_dht_search() runs an iterative get_peers towards the info-hash:
 * up to 3 queries in flight, each retried once after 2 s, over the
 * P2PL_DHT_SEARCH_NODES closest nodes found, until the P2PL_DHT_K closest
 * that answer have all answered.  Each new peer found is given to the
 * peers callback once; then, if a port was given, announce_peer goes to
 * those K nodes with their tokens, and the done callback says how many
 * peers were found and how many nodes were announced to.  A search does
 * not repeat itself: the caller searches again (BEP 5 peers expire after
 * 30 minutes, so every 15 to 30 minutes) to stay announced.
 *
 * Others' queries are answered: ping, find_node, get_peers (with a token
 * bound to the asker's address by a keyed BLAKE2b hash under a secret
 * that changes every 5 minutes; the previous one is still accepted), and
 * announce_peer, whose peer is kept for 30 minutes (at most
 * P2PL_DHT_STORE_HASHES info-hashes of P2PL_DHT_STORE_PEERS peers; when
 * full, the oldest goes).  An unknown method gets error 204, a bad token
 * error 203; a
 * malformed query is dropped unanswered.
 *
 * Every datagram is hostile.  Malformed ones (see krpc.h), replies that
 * answer no query we sent (transaction id and sender checked), and
 * errors are counted in p2pl_dht_stats and reported through the log
 * callback; none of them ever stops the node or a search.
 */
#ifndef P2PL_DHT_H
#define P2PL_DHT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define P2PL_DHT_K 8
#define P2PL_DHT_FAILS 3
#define P2PL_DHT_SEARCHES 16		/* searches at once */
#define P2PL_DHT_SEARCH_NODES 32
#define P2PL_DHT_STORE_HASHES 64
#define P2PL_DHT_STORE_PEERS 32
#define P2PL_DHT_BOOTSTRAP 32		/* addresses kept for bootstrap */
#define P2PL_DHT_STATE_MAX 8192		/* p2pl_dht_save() needs no more */

/* The well-known public routers, "host:port", NULL-terminated. */
extern const char *const p2pl_dht_routers[];

struct p2pl_dht;

struct p2pl_dht_cfg {
	uint8_t id[20];		/* our node id; all zero: random */
	void *arg;		/* passed to every callback */
	/* send one datagram (the caller picks the socket of to's family) */
	void (*send)(void *arg, const struct sockaddr *to, socklen_t tolen,
	    const uint8_t *buf, size_t len);
	/* a peer found for info_hash, once per search */
	void (*peer)(void *arg, const uint8_t info_hash[20],
	    const struct sockaddr *sa, socklen_t salen);
	/* a search ended (may be NULL) */
	void (*done)(void *arg, const uint8_t info_hash[20], int peers,
	    int announced);
	/* something went wrong with a remote node (may be NULL) */
	void (*log)(void *arg, const char *msg);
};

struct p2pl_dht_stats {
	uint64_t in, out;		/* datagrams */
	uint64_t malformed;		/* refused by the parser */
	uint64_t unexpected;		/* replies to nothing we asked */
	uint64_t errors;		/* KRPC errors received */
	uint64_t queries;		/* queries answered */
	uint64_t timeouts;		/* our queries never answered */
	int nodes4, nodes6;		/* in the routing tables */
	int good4, good6;		/* of them, heard from in 15 min */
	int searches;			/* running */
	int stored;			/* peers stored for others */
};

/* A node; NULL with a message in err if libsodium fails to start. */
struct p2pl_dht *p2pl_dht_new(const struct p2pl_dht_cfg *cfg, char *err,
    size_t errlen);
void p2pl_dht_free(struct p2pl_dht *d);
/* Our node id. */
const uint8_t *p2pl_dht_id(const struct p2pl_dht *d);

/* One datagram received from from at now_us (any monotonic clock). */
void p2pl_dht_input(struct p2pl_dht *d, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen, uint64_t now_us);
/* Timers: returns the microseconds until the node wants the next tick. */
uint64_t p2pl_dht_tick(struct p2pl_dht *d, uint64_t now_us);

/*
 * A bootstrap node (router or known node, id unknown): asked find_node
 * for our id at the next tick, and again whenever the table is empty.
 * -1 with a message in err for an unusable address.
 */
int p2pl_dht_add_node(struct p2pl_dht *d, const struct sockaddr *sa,
    socklen_t salen, char *err, size_t errlen);

/*
 * Look up info_hash; with port not 0, announce that we have it on port.
 * -1 with a message in err when P2PL_DHT_SEARCHES searches run already.
 * A search for a hash already searched restarts it.
 */
int p2pl_dht_search(struct p2pl_dht *d, const uint8_t info_hash[20],
    uint16_t port, uint64_t now_us, char *err, size_t errlen);

/*
 * State for the cache directory: our id and the nodes heard from,
 * bencoded as d 2:id 20:ID 5:nodes N*26 6:nodes6 N*38 e.  save returns
 * the length (at most P2PL_DHT_STATE_MAX), or -1 if cap is short.  load,
 * before the first input, takes the id and uses the nodes to bootstrap;
 * -1 with a message in err on bad state, leaving the node as it was.
 */
long p2pl_dht_save(const struct p2pl_dht *d, uint8_t *buf, size_t cap);
int p2pl_dht_load(struct p2pl_dht *d, const uint8_t *buf, size_t len,
    char *err, size_t errlen);

void p2pl_dht_get_stats(const struct p2pl_dht *d, struct p2pl_dht_stats *st);

#endif
