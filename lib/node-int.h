/*
 * node-int.h - the protocol core's insides, shared by node.c (peers,
 * messages, window, playout), sched.c (push and pull within the upload
 * cap) and pex.c (candidate addresses and peer exchange).  Not an API.
 */
#ifndef P2PL_NODE_INT_H
#define P2PL_NODE_INT_H

#include "node.h"

#ifndef QLEN
#define QLEN 256		/* pieces queued per peer, each queue */
#endif
#define CAND_MAX 256		/* candidate addresses kept */
#define PEX_MAX 32		/* addresses per PEX message */

enum { PEER_HELLO, PEER_READY, PEER_DEAD };

/* A ring of sequence numbers: pieces to send a peer, in order. */
struct seqq {
	uint64_t s[QLEN];
	uint64_t t[QLEN];	/* when queued */
	unsigned head, tail;
};

struct p2pl_peer {
	struct p2pl_node *node;
	struct p2pl_peer *next, **prevp;
	void *conn;
	int outgoing;
	int state;
	int counted;		/* in st.peers: the handshake completed */
	int benign;		/* its error is no fault of the peer's */
	struct p2pl_hello hello;
	struct p2pl_addr addr;	/* remote address; port: where it listens */
	int subscribed;
	int wait_join;		/* a newcomer waiting for a join point */
	uint64_t latency;	/* theirs: staler pieces are not sent, µs */
	uint64_t hseq[P2PL_RING];	/* seq + 1 of pieces known held */
	uint64_t qseq[P2PL_RING];	/* seq + 1 of pieces queued for it */
	struct seqq rq;		/* pieces they asked for: sent first */
	struct seqq pq;		/* pieces pushed to them */
	int reqs;		/* our requests outstanding at them */
	uint64_t born, last_rx, last_ping, last_pex, rtt;
	uint64_t newest;	/* seq + 1 of the newest piece known held */
	uint64_t mark_in, mark_out;	/* bytes at the last rate update */
	struct p2pl_peer_stats st;
	char err[P2PL_ERRLEN];
};

/* A piece we know exists and lack. */
struct want {
	uint64_t seq;		/* + 1; 0: empty slot */
	uint64_t heard;		/* when we learnt of it */
	uint64_t asked;		/* when we requested it, 0: not asked */
	struct p2pl_peer *from;	/* whom we asked */
};

struct cand {
	struct p2pl_addr addr;
	int seed;		/* from the URI: never forgotten */
	int fails;
	uint64_t next_try;
};

struct p2pl_node {
	struct p2pl_node_cfg cfg;
	struct p2pl_node_cb cb;
	uint8_t id[P2PL_IDLEN];
	struct p2pl_peer *peers;
	unsigned rr;		/* rotates the choice of push targets */

	struct p2pl_piece *ring[P2PL_RING];
	int have_any, have_join;
	uint64_t head, tail, last_join;
	uint64_t known;		/* newest sequence heard of */
	uint64_t store_bytes;
	struct want wants[P2PL_RING];
	uint64_t first_heard;	/* + 1: the oldest piece heard of at start */

	int playing;
	uint64_t play_next;
	int64_t offset;		/* min(receive time - stamp) this session */
	int offset_set;

	double tokens;
	uint64_t tok_time;

	struct cand cands[CAND_MAX];
	int ncands;

	struct p2pl_node_stats st;
	uint64_t rate_t;	/* last rate update */
	uint64_t mark_in, mark_out;
};

struct p2pl_piece *p2pl__ring_get(const struct p2pl_node *n, uint64_t seq);
struct p2pl_piece *p2pl__ring_next(const struct p2pl_node *n, uint64_t seq);
void p2pl__send(struct p2pl_peer *p, const uint8_t *buf, size_t len,
    struct p2pl_piece *piece);
int p2pl__peer_has(const struct p2pl_peer *p, uint64_t seq);
void p2pl__mark(struct p2pl_peer *p, uint64_t seq);

/* sched.c */
void p2pl__sched_new_piece(struct p2pl_node *n, struct p2pl_piece *pc,
    struct p2pl_peer *src, uint64_t now);
void p2pl__sched_heard(struct p2pl_node *n, uint64_t seq, uint64_t now);
void p2pl__sched_got(struct p2pl_node *n, uint64_t seq);
void p2pl__sched_request(struct p2pl_peer *p, uint64_t seq, uint64_t now);
void p2pl__sched_subscribe(struct p2pl_peer *p, uint64_t from, uint64_t now);
uint64_t p2pl__sched_pull(struct p2pl_node *n, uint64_t now);
void p2pl__sched_forget(struct p2pl_node *n, struct p2pl_peer *p);
void p2pl__sched_flush(struct p2pl_node *n, uint64_t now);

/* pex.c */
void p2pl__pex_send(struct p2pl_peer *p, uint64_t now);
int p2pl__pex_input(struct p2pl_peer *p, const uint8_t *body, size_t len);
void p2pl__cand_ok(struct p2pl_node *n, const struct p2pl_addr *a);

#endif
