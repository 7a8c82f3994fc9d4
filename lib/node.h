/*
 * node.h - the protocol core: one stream as seen by one process.
 *
 * A node keeps a sliding window of verified pieces, the state of every
 * peer connection (handshake, subscription, keepalive) and, for a viewer,
 * the playout position.  It owns no socket, timer or thread: the caller
 * feeds it bytes received on a connection (p2pl_peer_input), pieces made
 * locally (p2pl_node_publish) and the time (p2pl_node_tick), and the node
 * answers through callbacks: bytes to queue on a connection, pieces to
 * play in order, peers to drop.  The network driver (net.c) and a
 * simulator run this same code.
 *
 * Times are wall-clock microseconds supplied by the caller.
 *
 * Ownership: p2pl_node_publish takes the caller's reference to the piece;
 * pieces handed to send and deliver remain the node's (p2pl_piece_ref one
 * to keep it).  The driver owns each conn; its struct p2pl_peer lives from
 * p2pl_node_peer_new until p2pl_node_peer_del.  No locks: one thread at a
 * time calls into a node, and callbacks run inside those calls.
 *
 * The code: node.c (window, playout, timers), nodemsg.c (what a peer
 * sends), nodepeer.c (the peer set), sched.c and schedpull.c (push and
 * pull), pex.c (addresses); see node-int.h.
 */
#ifndef P2PL_NODE_H
#define P2PL_NODE_H

#include "piece.h"
#include "histogram.h"
#include "util.h"
#include "wire.h"

/*
 * Pieces the window can hold.  A build may set it smaller (the simulator's
 * compact build does, to fit 100,000 nodes in memory).  Beware: although
 * the window holds far fewer pieces, the simulator shows the same seed
 * diverging once sequence numbers pass P2PL_RING (see doc/BENCH.md).
 */
#ifndef P2PL_RING
#define P2PL_RING 1024
#endif
#define P2PL_BACKLOG_MAX (96 * 1024)	/* bytes queued per connection */

struct p2pl_node;
struct p2pl_peer;

struct p2pl_node_cb {
	void *arg;
	/*
	 * Queue len bytes on conn.  When piece is not NULL the bytes lie
	 * inside it and the callee may keep a reference instead of copying.
	 */
	void (*send)(void *arg, void *conn, const uint8_t *data, size_t len,
	    struct p2pl_piece *piece);
	/* Bytes queued on conn and not yet written to the network. */
	size_t (*backlog)(void *arg, void *conn);
	/* A verified piece, in sequence order, for the player (if play). */
	void (*deliver)(void *arg, struct p2pl_piece *p);
	/* The node gave up on conn (why says so); the callee must call
	 * p2pl_node_peer_del() before returning. */
	void (*drop)(void *arg, void *conn, const char *why);
	/*
	 * Optional (NULL: p2pl_piece_verify() with the stream key).  Verify
	 * a PIECE body and return a piece holding one reference for the
	 * node, or NULL with err set.  For the simulator, which checks a
	 * piece against the one copy it verified and shares that copy among
	 * all its nodes; a network program leaves it NULL.
	 */
	struct p2pl_piece *(*verify)(void *arg, const uint8_t *body,
	    size_t len, char *err, size_t errlen);
};

struct p2pl_node_cfg {
	uint8_t key[P2PL_KEYLEN];	/* the stream's public key */
	int role;			/* P2PL_ROLE_* */
	uint16_t port;			/* our listening port, 0 if none */
	int play;			/* deliver pieces in order */
	uint64_t latency;		/* playout deadline after the stamp */
	uint64_t window;		/* how long pieces are kept */
	struct p2pl_rate up;		/* upload cap */
	int push;			/* neighbours a publisher or relay
					 * pushes a fresh piece to when no
					 * child took its substream (0: 1) */
	int max_peers;			/* connections kept (0: 16) */
	int relay_only;			/* talk only to relays and publishers;
					 * take no addresses from PEX */
	int trees;			/* choose viewers as parents too (an
					 * experiment: p2pl-sim --trees) */
};

struct p2pl_peer_stats {
	uint64_t pieces_in, pieces_out;	/* pieces received and sent */
	uint64_t bytes_in, bytes_out;	/* all bytes */
	uint64_t dups;			/* pieces it sent that we had */
	uint64_t rate_in, rate_out;	/* bytes/s over the last second */
};

struct p2pl_node_stats {
	uint64_t pieces_in, bytes_in;	/* verified pieces received */
	uint64_t pieces_out, bytes_out;	/* every byte queued to peers */
	uint64_t dups, bad;		/* duplicate and rejected pieces */
	uint64_t played, skipped;	/* delivered, and given up on */
	uint64_t made;			/* pieces published locally */
	uint64_t requests;		/* pieces we asked peers for */
	uint64_t banned;		/* peers refused for misbehaving */
	int peers;			/* connections with a handshake */
	uint64_t bitrate;		/* stream bits/s over the window */
	uint64_t rate_in, rate_out;	/* bytes/s over the last second */
};

struct p2pl_node *p2pl_node_new(const struct p2pl_node_cfg *cfg,
    const struct p2pl_node_cb *cb);
void p2pl_node_free(struct p2pl_node *n);

/*
 * A new connection; outgoing when we dialled it, remote its address (for
 * an outgoing one, the address dialled).  Sends our HELLO.  NULL when the
 * node has max_peers connections already.
 */
struct p2pl_peer *p2pl_node_peer_new(struct p2pl_node *n, void *conn,
    int outgoing, const struct p2pl_addr *remote, uint64_t now);
/* Forget a connection (after the driver closed it). */
void p2pl_node_peer_del(struct p2pl_node *n, struct p2pl_peer *p);

/*
 * Bytes received on p.  Returns how many were consumed (whole messages;
 * keep the rest and call again with more), or -1 when the peer broke the
 * protocol: the driver should close it; p2pl_peer_error() says why.
 */
long p2pl_peer_input(struct p2pl_peer *p, const uint8_t *buf, size_t n,
    uint64_t now);
const char *p2pl_peer_error(const struct p2pl_peer *p);
/* True when the peer was banned for misbehaving (see p2pl(7)). */
int p2pl_peer_banned(const struct p2pl_peer *p);
/* True when that error was no fault of the peer's (a duplicate link). */
int p2pl_peer_benign(const struct p2pl_peer *p);
/* The peer's HELLO, or NULL before the handshake. */
const struct p2pl_hello *p2pl_peer_hello(const struct p2pl_peer *p);

/* Add a locally made piece (publisher, relay fed a frame stream). */
int p2pl_node_publish(struct p2pl_node *n, struct p2pl_piece *p, uint64_t now);
/* Send what waits for peers whose backlog fell (driver: on drain). */
void p2pl_node_flush(struct p2pl_node *n, uint64_t now);
/*
 * Timers: playout deadlines, rate refill, keepalives, timeouts.  Returns
 * how many microseconds may pass before the next call.
 */
uint64_t p2pl_node_tick(struct p2pl_node *n, uint64_t now);

void p2pl_node_stats(const struct p2pl_node *n, struct p2pl_node_stats *st);
/*
 * The delays of the verified pieces received from peers: the caller's
 * clock at arrival minus the publisher's stamp (µs), for metrics.
 */
const struct p2pl_loghist *p2pl_node_delays(const struct p2pl_node *n);
/* The port our HELLO advertises (known once the listener is bound). */
void p2pl_node_set_port(struct p2pl_node *n, uint16_t port);
/*
 * Candidate addresses to dial: seeds from the URI and addresses learnt
 * from trackers and peer exchange.  p2pl_node_pick() gives one that is
 * neither connected nor backing off after failures (0), or -1; the
 * driver reports how a dial ended with p2pl_node_dial_failed() (bad: the
 * peer broke the protocol).
 */
int p2pl_node_add_candidate(struct p2pl_node *n, const struct p2pl_addr *a,
    int seed);
int p2pl_node_pick(struct p2pl_node *n, uint64_t now, struct p2pl_addr *a);
void p2pl_node_dial_failed(struct p2pl_node *n, const struct p2pl_addr *a,
    int bad, uint64_t now);
/*
 * True when connections from host are refused: a peer that connected from
 * it broke the protocol less than BAN_TIME ago (see p2pl(7)).  Drivers
 * check it on accept, before spending anything on the connection.
 */
int p2pl_node_banned(const struct p2pl_node *n, const char *host,
    uint64_t now);
/* Outgoing connections open or being set up. */
int p2pl_node_outgoing(const struct p2pl_node *n);

/* Walk the peers: first, then next; their address, stats and RTT (µs). */
struct p2pl_peer *p2pl_node_peers(const struct p2pl_node *n);
struct p2pl_peer *p2pl_peer_next(const struct p2pl_peer *p);
const struct p2pl_addr *p2pl_peer_addr(const struct p2pl_peer *p);
const struct p2pl_peer_stats *p2pl_peer_stats(const struct p2pl_peer *p);
int p2pl_peer_outgoing(const struct p2pl_peer *p);
uint64_t p2pl_peer_rtt(const struct p2pl_peer *p);
/*
 * How far the peer is behind us: stamp of our newest piece minus that of
 * the newest it is known to hold, µs (0 if it is ahead or a publisher);
 * -1 when unknown.
 */
int64_t p2pl_peer_behind(const struct p2pl_peer *p);
/* Its P2PL_ROLE_*, -1 before its HELLO. */
int p2pl_peer_role(const struct p2pl_peer *p);

/* The conn of some peer, to walk them when closing all; NULL if none. */
void *p2pl_node_first_conn(const struct p2pl_node *n);
/* Our peer id (P2PL_IDLEN bytes), as in our HELLO. */
const uint8_t *p2pl_node_id(const struct p2pl_node *n);
/* Newest piece held, or NULL. */
const struct p2pl_piece *p2pl_node_head(const struct p2pl_node *n);

#endif
