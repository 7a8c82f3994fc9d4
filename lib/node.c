/*
 * node.c - the protocol core's window and clock: the ring of verified
 * pieces, what a peer is sent through, the playout in sequence order
 * (skipping what comes too late), publishing a piece, the tick with its
 * keepalives and timeouts, and a node's life.  Messages from peers are
 * read in nodemsg.c, peers come and go in nodepeer.c, sched.c chooses
 * what to push and pull, pex.c finds addresses.
 */
#include "node-int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_TIMEOUT 10000000		/* µs to complete the handshake */
#define IDLE_TIMEOUT 30000000		/* µs of silence before dropping */
#define PING_EVERY 5000000
#define PEX_EVERY 20000000
#define TICK_MAX 1000000
#define FAR_TIMEOUT 2000000		/* µs for a far HAVE's piece to come */

struct p2pl_piece *
p2pl__ring_get(const struct p2pl_node *n, uint64_t seq)
{
	struct p2pl_piece *p;

	if (!n->have_any || seq < n->tail || seq > n->head)
		return NULL;
	p = n->ring[seq % P2PL_RING];
	return p != NULL && p->seq == seq ? p : NULL;
}

/* The first piece held at or after seq, or NULL. */
struct p2pl_piece *
p2pl__ring_next(const struct p2pl_node *n, uint64_t seq)
{
	struct p2pl_piece *p;

	if (!n->have_any)
		return NULL;
	if (seq < n->tail)
		seq = n->tail;
	for (; seq <= n->head; seq++)
		if ((p = p2pl__ring_get(n, seq)) != NULL)
			return p;
	return NULL;
}

static void
ring_drop(struct p2pl_node *n, uint64_t seq)
{
	struct p2pl_piece **slot = &n->ring[seq % P2PL_RING];

	if (*slot != NULL && (*slot)->seq == seq) {
		n->store_bytes -= (*slot)->len;
		p2pl_piece_unref(*slot);
		*slot = NULL;
	}
}

/* Drop pieces beyond the ring or older than the window, keeping the
 * newest join point so newcomers can start. */
static void
ring_trim(struct p2pl_node *n)
{
	const struct p2pl_piece *h = p2pl__ring_get(n, n->head), *t;

	if (n->head - n->tail >= P2PL_RING) {
		for (uint64_t s = n->tail; s < n->tail + P2PL_RING; s++)
			if (n->ring[s % P2PL_RING] != NULL &&
			    n->ring[s % P2PL_RING]->seq + P2PL_RING <= n->head)
				ring_drop(n, n->ring[s % P2PL_RING]->seq);
		n->tail = n->head - P2PL_RING + 1;
	}
	while (n->tail < n->head) {
		if ((t = p2pl__ring_get(n, n->tail)) != NULL) {
			if (n->have_join && t->seq >= n->last_join)
				break;
			if (h != NULL && t->stamp + n->cfg.window >= h->stamp)
				break;
			ring_drop(n, n->tail);
		}
		n->tail++;
	}
}

void
p2pl__store(struct p2pl_node *n, struct p2pl_piece *p, uint64_t now)
{
	struct p2pl_piece **slot;
	int64_t d;

	if (!n->have_any) {
		n->have_any = 1;
		n->head = n->tail = p->seq;
	}
	if ((p->flags & P2PL_PIECE_RESTART) && p->seq > n->head)
		n->offset_set = 0;
	slot = &n->ring[p->seq % P2PL_RING];
	if (*slot != NULL) {	/* a stale occupant, a ring length older */
		n->store_bytes -= (*slot)->len;
		p2pl_piece_unref(*slot);
	}
	*slot = p;
	n->store_bytes += p->len;
	p->recv = now;
	if (p->seq > n->head)
		n->head = p->seq;
	if (p->seq > n->known)
		n->known = p->seq;
	if (p->seq < n->tail)
		n->tail = p->seq;
	if ((p->flags & P2PL_PIECE_JOIN) &&
	    (!n->have_join || p->seq > n->last_join)) {
		n->have_join = 1;
		n->last_join = p->seq;
	}
	d = (int64_t)(now - p->stamp);
	if (!n->offset_set || d < n->offset) {
		n->offset = d;
		n->offset_set = 1;
	}
	ring_trim(n);
}

void
p2pl__send(struct p2pl_peer *p, const uint8_t *buf, size_t len,
    struct p2pl_piece *piece)
{
	struct p2pl_node *n = p->node;

	n->cb.send(n->cb.arg, p->conn, buf, len, piece);
	n->st.bytes_out += len;
	p->st.bytes_out += len;
	n->tokens -= (double)len;
}

int
p2pl__peer_has(const struct p2pl_peer *p, uint64_t seq)
{
	/* a publisher holds every piece it made that we surely know of (and
	 * pays no point for an unanswered request, see p2pl__sched_pull) */
	if (p->hello.role == P2PL_ROLE_PUBLISHER && p->state == PEER_READY &&
	    p2pl__sched_sure(p->node, seq))
		return 1;
	return p->hseq[seq % P2PL_RING] == seq + 1;
}

void
p2pl__mark(struct p2pl_peer *p, uint64_t seq)
{
	p->hseq[seq % P2PL_RING] = seq + 1;
	if (seq + 1 > p->newest)
		p->newest = seq + 1;
}

static uint64_t
per_s(uint64_t bytes, uint64_t us)
{
	return (uint64_t)((double)bytes * 1e6 / (double)us + .5);
}

/* Once a second: each peer's and the node's rates over that second. */
static void
rates(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p;
	uint64_t dt = now - n->rate_t;

	if (n->rate_t != 0 && dt < 1000000)
		return;
	for (p = n->peers; p != NULL; p = p->next) {
		if (n->rate_t != 0) {
			p->st.rate_in = per_s(p->st.bytes_in - p->mark_in, dt);
			p->st.rate_out = per_s(p->st.bytes_out - p->mark_out, dt);
		}
		p->mark_in = p->st.bytes_in;
		p->mark_out = p->st.bytes_out;
	}
	if (n->rate_t != 0) {
		n->st.rate_in = per_s(n->st.bytes_in - n->mark_in, dt);
		n->st.rate_out = per_s(n->st.bytes_out - n->mark_out, dt);
	}
	n->mark_in = n->st.bytes_in;
	n->mark_out = n->st.bytes_out;
	n->rate_t = now;
}

static void
deliver(struct p2pl_node *n, struct p2pl_piece *p)
{
	n->st.played++;
	n->play_next = p->seq + 1;
	n->cb.deliver(n->cb.arg, p);
}

/* Give up on the pieces before seq: count them, release their requests. */
static void
skip_to(struct p2pl_node *n, uint64_t seq, int count)
{
	uint64_t s = n->play_next;

	if (seq - s > P2PL_RING)
		s = seq - P2PL_RING;
	for (; s < seq; s++)
		p2pl__sched_got(n, s);
	if (count)
		n->st.skipped += seq - n->play_next;
	n->play_next = seq;
}

/* When p must be written: its stamp plus the latency; a piece of the
 * backlog we started in (from the newest join point to the newest piece
 * heard of then) has the latency from the start, so it is caught up with
 * rather than skipped. */
static uint64_t
deadline(const struct p2pl_node *n, const struct p2pl_piece *p)
{
	uint64_t d = p->stamp + (uint64_t)n->offset + n->cfg.latency;

	if (p->seq <= n->start_seq && d < n->start_t + n->cfg.latency)
		d = n->start_t + n->cfg.latency;
	return d;
}

/* Write what is in order; skip a gap once waiting would make the next
 * held piece late.  Returns µs until the next deadline, or TICK_MAX. */
uint64_t
p2pl__play(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_piece *p, *q;

	if (!n->cfg.play)
		return TICK_MAX;
	if (!n->playing) {
		if (!n->have_join)
			return TICK_MAX;
		n->playing = 1;
		n->play_next = n->last_join;
		n->start_t = now;
		n->start_seq = n->known;
	}
	for (;;) {
		p = p2pl__ring_get(n, n->play_next);
		if (p != NULL && n->have_join && p->seq < n->last_join &&
		    now > deadline(n, p) + n->cfg.latency) {
			/* far behind live: catch up at the newest join point */
			skip_to(n, n->last_join, 1);
			continue;
		}
		if (p != NULL) {
			deliver(n, p);
			continue;
		}
		if (!n->have_any || n->play_next > n->head)
			return TICK_MAX;
		if (n->play_next < n->tail)
			skip_to(n, n->tail, 0);
		q = p2pl__ring_next(n, n->play_next);
		if (q == NULL)
			return TICK_MAX;
		if (!(q->flags & P2PL_PIECE_RESTART) && now < deadline(n, q))
			return deadline(n, q) - now;
		skip_to(n, q->seq, !(q->flags & P2PL_PIECE_RESTART));
	}
}

int
p2pl_node_publish(struct p2pl_node *n, struct p2pl_piece *pc, uint64_t now)
{
	if (p2pl__ring_get(n, pc->seq) != NULL ||
	    (n->have_any && pc->seq + P2PL_RING <= n->head)) {
		p2pl_piece_unref(pc);
		return 0;
	}
	n->st.made++;
	p2pl_piece_ref(pc);
	p2pl__store(n, pc, now);
	if (p2pl__ring_get(n, pc->seq) == pc)
		p2pl__sched_new_piece(n, pc, NULL, now);
	p2pl_piece_unref(pc);
	p2pl__play(n, now);
	p2pl_node_flush(n, now);
	return 0;
}

static void
refill(struct p2pl_node *n, uint64_t now)
{
	uint64_t rate = p2pl_rate_bytes(&n->cfg.up, n->st.bitrate);
	double burst;

	if (now > n->tok_time && rate != UINT64_MAX) {
		/* burst: 50 ms of rate, at least one biggest message */
		burst = (double)rate * 0.05;
		if (burst < P2PL_MSG_MAX)
			burst = P2PL_MSG_MAX;
		n->tokens += (double)rate * (double)(now - n->tok_time) / 1e6;
		if (n->tokens > burst)
			n->tokens = burst;
	}
	n->tok_time = now;
}

static uint64_t
bitrate(const struct p2pl_node *n)
{
	const struct p2pl_piece *h = p2pl__ring_get(n, n->head);
	const struct p2pl_piece *t = p2pl__ring_next(n, n->tail);

	if (h == NULL || t == NULL || h->stamp <= t->stamp ||
	    h->stamp - t->stamp < 500000)
		return n->st.bitrate;
	return n->store_bytes * 8 * 1000000 / (h->stamp - t->stamp);
}

/* Keepalives, timeouts and peer exchange; drops dead peers. */
static void
tend_peers(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p, *next;
	uint8_t msg[P2PL_MSG_HDR + 8];
	const char *why;

	for (p = n->peers; p != NULL; p = next) {
		next = p->next;
		why = NULL;
		if (p->state == PEER_DEAD)
			why = p->err;
		else if (p->state == PEER_HELLO && now > p->born + HELLO_TIMEOUT)
			why = "no hello in time";
		else if (now > p->last_rx + IDLE_TIMEOUT)
			why = "timed out";
		else if (p->partial != 0 && now > p->partial + MSG_TIMEOUT) {
			/* slow-loris: bytes trickle, a message never ends */
			if (p->state == PEER_READY)
				p2pl__ban(p, 0, now);
			why = "message trickled in too slowly";
		}
		if (why != NULL) {
			n->cb.drop(n->cb.arg, p->conn, why);
			continue;
		}
		if (p->state != PEER_READY)
			continue;
		if (now >= p->last_ping + PING_EVERY) {
			p->last_ping = now;
			p->strikes /= 2;
			p->misses /= 2;
			p2pl__send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_PING,
			    now), NULL);
		}
		if (now >= p->last_pex + PEX_EVERY)
			p2pl__pex_send(p, now);
	}
}

uint64_t
p2pl_node_tick(struct p2pl_node *n, uint64_t now)
{
	uint64_t wait, w, rate;

	if (n->far != 0 && now > n->far_asked + FAR_TIMEOUT) {
		if (n->far_from != NULL)
			p2pl__strike(n->far_from, STRIKE_MAX / 2,
			    "claims pieces it does not serve", now);
		n->far = 0;
	}

	n->st.bitrate = bitrate(n);
	rates(n, now);
	refill(n, now);
	wait = p2pl__play(n, now);
	tend_peers(n, now);
	p2pl__sched_parents(n, now);
	w = p2pl__sched_pull(n, now);
	if (w < wait)
		wait = w;
	p2pl_node_flush(n, now);
	rate = p2pl_rate_bytes(&n->cfg.up, n->st.bitrate);
	if (rate != UINT64_MAX && n->tokens <= 0 && rate > 0) {
		w = (uint64_t)(-n->tokens * 1e6 / (double)rate) + 1000;
		if (w < wait)
			wait = w;
	}
	if (wait > TICK_MAX)
		wait = TICK_MAX;
	return wait < 1000 ? 1000 : wait;
}

struct p2pl_node *
p2pl_node_new(const struct p2pl_node_cfg *cfg, const struct p2pl_node_cb *cb)
{
	struct p2pl_node *n;

	if (sodium_init() < 0)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->cfg = *cfg;
	n->cb = *cb;
	if (n->cfg.window == 0)
		n->cfg.window = 5000000;
	if (n->cfg.push == 0)
		n->cfg.push = 1;
	if (n->cfg.max_peers == 0)
		n->cfg.max_peers = cfg->role == P2PL_ROLE_VIEWER ? 16 : 256;
	randombytes_buf(n->id, sizeof(n->id));
	p2pl_loghist_init(&n->delays);
	return n;
}

void
p2pl_node_free(struct p2pl_node *n)
{
	if (n == NULL)
		return;
	while (n->peers != NULL)
		p2pl_node_peer_del(n, n->peers);
	for (int i = 0; i < P2PL_RING; i++)
		p2pl_piece_unref(n->ring[i]);
	free(n);
}

void
p2pl_node_flush(struct p2pl_node *n, uint64_t now)
{
	p2pl__sched_flush(n, now);
}

const struct p2pl_loghist *
p2pl_node_delays(const struct p2pl_node *n)
{
	return &n->delays;
}

void
p2pl_node_stats(const struct p2pl_node *n, struct p2pl_node_stats *st)
{
	*st = n->st;
}

const struct p2pl_piece *
p2pl_node_head(const struct p2pl_node *n)
{
	return p2pl__ring_get(n, n->head);
}

void *
p2pl_node_first_conn(const struct p2pl_node *n)
{
	return n->peers != NULL ? n->peers->conn : NULL;
}

void
p2pl_node_set_port(struct p2pl_node *n, uint16_t port)
{
	n->cfg.port = port;
}

const uint8_t *
p2pl_node_id(const struct p2pl_node *n)
{
	return n->id;
}
