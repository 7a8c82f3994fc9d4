/*
 * node-int.h - the protocol core's insides, shared by node.c (window,
 * playout, tick), nodemsg.c (messages from peers), nodepeer.c (peers
 * come and go), sched.c and schedpull.c (push and pull within the upload
 * cap) and pex.c
 * (candidate addresses and peer exchange).  Not an API.
 */
#ifndef P2PL_NODE_INT_H
#define P2PL_NODE_INT_H

#include "node.h"

#ifndef QLEN
#define QLEN 256		/* pieces queued per peer, each queue */
#endif
#define CAND_MAX 256		/* candidate addresses kept */
#define PEX_MAX 32		/* addresses per PEX message */
#define BAN_MAX 256		/* addresses and ids refused, at most */
#define BAN_TIME 300000000	/* µs a misbehaving peer stays refused */
#define HAVE_AHEAD 256		/* a HAVE further ahead of our newest piece
				 * is only believed once the piece comes */
#define STRIKE_MAX 64		/* misbehaviour points before a drop */
#define PER_HOST_MAX 64		/* incoming places one address keeps when
				 * others want in */
#define CLAIM_SLACK 1000000	/* µs a HAVE may precede its piece's
				 * earliest possible arrival */
#define SOURCE_RECENT 5000000	/* µs since its last piece: still a source */
#define MSG_TIMEOUT 10000000	/* µs one message may take to arrive */
#define SUBS P2PL_SUBSTREAMS
#define SUB(seq) ((unsigned)((seq) % SUBS))

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
	uint64_t last_pex_in;	/* when its last PEX came */
	uint64_t last_piece;	/* when it last brought a piece new to us */
	uint64_t newest;	/* seq + 1 of the newest piece known held */
	uint64_t mark_in, mark_out;	/* bytes at the last rate update */
	int strikes;		/* misbehaviour points, halved every ping */
	int misses;		/* requests the publisher left unanswered, as
				 * strikes but never a drop */
	int banned;		/* dropped for misbehaving */
	uint64_t partial;	/* since when a message is half received */
	unsigned kids;		/* substreams we push it: it chose us */
	unsigned chose;		/* substreams we asked it for, last said */
	uint32_t first[SUBS];	/* pieces of each it told us of first */
	uint64_t refused[SUBS];	/* until when not to choose it again */
	struct p2pl_peer_stats st;
	char err[P2PL_ERRLEN];
};

/* A piece we know exists and lack. */
struct want {
	uint64_t seq;		/* + 1; 0: empty slot */
	uint64_t heard;		/* when we learnt of it */
	uint64_t asked;		/* when we requested it, 0: not asked */
	struct p2pl_peer *from;	/* whom we asked */
	struct p2pl_peer *claimer;	/* whose HAVE told us first it exists */
	uint64_t claimed;	/* when, by our clock */
	int backed;		/* a second peer, or a piece, said so too */
};

struct cand {
	struct p2pl_addr addr;
	int seed;		/* from the URI: never forgotten */
	int fails;
	uint64_t next_try;
};

/* A refused peer: its host, and its listening port or its id. */
struct ban {
	char host[64];
	uint16_t port;		/* 0: every port of the host */
	uint8_t id[P2PL_IDLEN];
	int has_id;
	uint64_t until;
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
	uint64_t start_t;	/* when playing began */
	uint64_t start_seq;	/* the newest piece heard of then */
	int64_t offset;		/* min(receive time - stamp) this session */
	int offset_set;

	double tokens;
	uint64_t tok_time;

	struct cand cands[CAND_MAX];
	int ncands;
	struct ban bans[BAN_MAX];
	int nbans;
	/* a HAVE far ahead: asked of its sender alone, believed on arrival */
	uint64_t far;		/* seq + 1, 0: none */
	uint64_t far_asked;
	struct p2pl_peer *far_from;

	/* the neighbour pushing us each substream, and its recent misses */
	struct p2pl_peer *parent[SUBS];
	int miss[SUBS];
	uint64_t parents_t;	/* last review of the parents */
	unsigned reviews;

	struct p2pl_node_stats st;
	struct p2pl_loghist delays;	/* stamp to arrival of pieces in */
	uint64_t rate_t;	/* last rate update */
	uint64_t mark_in, mark_out;
};

/* node.c */
struct p2pl_piece *p2pl__ring_get(const struct p2pl_node *n, uint64_t seq);
struct p2pl_piece *p2pl__ring_next(const struct p2pl_node *n, uint64_t seq);
void p2pl__store(struct p2pl_node *n, struct p2pl_piece *p, uint64_t now);
uint64_t p2pl__play(struct p2pl_node *n, uint64_t now);
void p2pl__send(struct p2pl_peer *p, const uint8_t *buf, size_t len,
    struct p2pl_piece *piece);
int p2pl__peer_has(const struct p2pl_peer *p, uint64_t seq);
void p2pl__mark(struct p2pl_peer *p, uint64_t seq);

/* sched.c (push, queues, parents) and schedpull.c (pull) */
/* Queue seq, asked at now; -1 when the queue is full. */
int p2pl__q_push(struct seqq *q, uint64_t s, uint64_t now);
void p2pl__sched_new_piece(struct p2pl_node *n, struct p2pl_piece *pc,
    struct p2pl_peer *src, uint64_t now);
void p2pl__sched_heard(struct p2pl_node *n, uint64_t seq, uint64_t now,
    struct p2pl_peer *claimer);
void p2pl__sched_arrived(struct p2pl_node *n, const struct p2pl_piece *pc,
    uint64_t now);
int p2pl__sched_knows(const struct p2pl_node *n, uint64_t seq);
int p2pl__sched_sure(const struct p2pl_node *n, uint64_t seq);
void p2pl__sched_first(struct p2pl_peer *p, uint64_t seq);
void p2pl__sched_from(struct p2pl_peer *p, uint64_t seq);
int p2pl__sched_choose(struct p2pl_peer *p, uint64_t mask);
int p2pl__sched_accept(struct p2pl_peer *p, uint64_t mask, uint64_t now);
void p2pl__sched_parents(struct p2pl_node *n, uint64_t now);
void p2pl__sched_got(struct p2pl_node *n, uint64_t seq);
void p2pl__sched_request(struct p2pl_peer *p, uint64_t seq, uint64_t now);
void p2pl__sched_subscribe(struct p2pl_peer *p, uint64_t from, uint64_t now);
uint64_t p2pl__sched_pull(struct p2pl_node *n, uint64_t now);
void p2pl__sched_forget(struct p2pl_node *n, struct p2pl_peer *p);
void p2pl__sched_flush(struct p2pl_node *n, uint64_t now);

/* pex.c */
void p2pl__pex_send(struct p2pl_peer *p, uint64_t now);
int p2pl__pex_input(struct p2pl_peer *p, const uint8_t *body, size_t len,
    uint64_t now);
void p2pl__cand_ok(struct p2pl_node *n, const struct p2pl_addr *a);
void p2pl__ban(struct p2pl_peer *p, int wide, uint64_t now);
int p2pl__banned(const struct p2pl_node *n, const char *host, uint16_t port,
    const uint8_t *id, uint64_t now);
/* nodemsg.c: count misbehaviour; past STRIKE_MAX the peer is dropped */
void p2pl__strike(struct p2pl_peer *p, int points, const char *why,
    uint64_t now);

#endif
