/* node.c - the protocol core: piece window, peers, messages, playout. */
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

static void
store(struct p2pl_node *n, struct p2pl_piece *p, uint64_t now)
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
static uint64_t
play(struct p2pl_node *n, uint64_t now)
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

/*
 * Count misbehaviour that one message cannot prove (a claim not served, a
 * repeat); points halve every PING_EVERY, so only a steady pattern gets a
 * peer dropped and refused for a while, and never our only source of
 * pieces.
 */
/* p brought us pieces lately and no other neighbour did. */
static int
only_source(const struct p2pl_peer *p, uint64_t now)
{
	const struct p2pl_peer *q;

	if (p->last_piece == 0 || now > p->last_piece + SOURCE_RECENT)
		return 0;
	for (q = p->node->peers; q != NULL; q = q->next)
		if (q != p && q->state == PEER_READY && q->last_piece != 0 &&
		    now <= q->last_piece + SOURCE_RECENT)
			return 0;
	return 1;
}

void
p2pl__strike(struct p2pl_peer *p, int points, const char *why, uint64_t now)
{
	if (p->state != PEER_READY)
		return;
	p->strikes += points;
	if (p->strikes < STRIKE_MAX)
		return;
	if (only_source(p, now)) {
		/* a pattern, not a proof: never worth the whole stream */
		p->strikes = STRIKE_MAX - 1;
		return;
	}
	p2pl_seterr(p->err, sizeof(p->err), "%s", why);
	p2pl__ban(p, 0, now);
	p->state = PEER_DEAD;
}

static struct p2pl_peer *
find_id(const struct p2pl_node *n, const uint8_t *id, const struct p2pl_peer *not)
{
	struct p2pl_peer *q;

	for (q = n->peers; q != NULL; q = q->next)
		if (q != not && q->state == PEER_READY &&
		    memcmp(q->hello.id, id, P2PL_IDLEN) == 0)
			return q;
	return NULL;
}

/* Two connections between the same pair: both ends keep the one dialled
 * by the smaller id, so they agree without talking. */
static int
dedupe(struct p2pl_peer *p)
{
	struct p2pl_node *n = p->node;
	struct p2pl_peer *q = find_id(n, p->hello.id, p);
	const uint8_t *pd, *qd;

	if (q == NULL)
		return 0;
	pd = p->outgoing ? n->id : p->hello.id;
	qd = q->outgoing ? n->id : q->hello.id;
	if (memcmp(pd, qd, P2PL_IDLEN) < 0) {
		q->state = PEER_DEAD;
		q->benign = 1;
		p2pl_seterr(q->err, sizeof(q->err), "duplicate connection");
		return 0;
	}
	p2pl_seterr(p->err, sizeof(p->err), "duplicate connection");
	p->benign = 1;
	return -1;
}

static int
on_hello(struct p2pl_peer *p, const uint8_t *body, size_t len, uint64_t now)
{
	struct p2pl_node *n = p->node;
	uint8_t msg[P2PL_MSG_HDR + P2PL_SUBSCRIBE_LEN];
	uint64_t from = P2PL_FROM_LIVE;

	if (p->state != PEER_HELLO) {
		p2pl_seterr(p->err, sizeof(p->err), "second hello");
		return -1;
	}
	if (p2pl_wire_parse_hello(body, len, &p->hello, p->err,
	    sizeof(p->err)) == -1)
		return -1;
	if (memcmp(p->hello.key, n->cfg.key, P2PL_KEYLEN) != 0) {
		p2pl_seterr(p->err, sizeof(p->err), "peer serves another stream");
		return -1;
	}
	if (p2pl__banned(n, p->addr.host, p->outgoing ? p->addr.port :
	    p->hello.port, p->hello.id, now)) {
		p2pl_seterr(p->err, sizeof(p->err), "banned for a while");
		p->benign = 1;	/* no new fault: the ban is not extended */
		return -1;
	}
	if (memcmp(p->hello.id, n->id, P2PL_IDLEN) == 0) {
		p2pl_seterr(p->err, sizeof(p->err), "connected to ourselves");
		p->benign = 1;
		return -1;
	}
	if (n->cfg.relay_only && p->hello.role == P2PL_ROLE_VIEWER) {
		p2pl_seterr(p->err, sizeof(p->err), "a viewer (relay-only)");
		p->benign = 1;
		return -1;
	}
	if (dedupe(p) == -1)
		return -1;
	p->state = PEER_READY;
	p->counted = 1;
	n->st.peers++;
	if (!p->outgoing)
		p->addr.port = p->hello.port;
	else
		p2pl__cand_ok(n, &p->addr);
	if (n->cfg.role != P2PL_ROLE_PUBLISHER) {
		/* before playing, learn who holds the newest join point; then
		 * only fresh pieces, unless this is our only peer: resume */
		if (!n->playing)
			from = 0;
		else if (n->st.peers == 1)
			from = n->play_next;
		p2pl__send(p, msg, p2pl_wire_subscribe(msg, from,
		    (uint32_t)(n->cfg.latency / 1000)), NULL);
	}
	p2pl__pex_send(p, now);
	return 0;
}

static int
on_subscribe(struct p2pl_peer *p, const uint8_t *body, size_t len,
    uint64_t now)
{
	uint32_t latency_ms;
	uint64_t from;

	if (p2pl_wire_parse_subscribe(body, len, &from, &latency_ms, p->err,
	    sizeof(p->err)) == -1)
		return -1;
	p->latency = (uint64_t)latency_ms * 1000;
	p->subscribed = 1;
	p2pl__sched_subscribe(p, from, now);
	p2pl_node_flush(p->node, now);
	return 0;
}

static int
on_piece(struct p2pl_peer *p, const uint8_t *body, size_t len, uint64_t now)
{
	struct p2pl_node *n = p->node;
	struct p2pl_piece *pc;
	uint64_t seq, stamp;
	unsigned flags;
	int first;

	if (p2pl_piece_peek(body, len, &seq, &stamp, &flags, p->err,
	    sizeof(p->err)) == -1)
		return -1;
	if (n->have_any && seq + P2PL_RING <= n->head) {
		/* older than any window: no honest peer sends these */
		n->st.dups++;
		p->st.dups++;
		p2pl__strike(p, 4, "sends pieces out of the window", now);
		return 0;
	}
	if (p2pl__ring_get(n, seq) != NULL) {
		n->st.dups++;
		p->st.dups++;
		/* it sent or was sent this one already: a replay (known,
		 * not assumed as of the publisher) */
		if (p->hseq[seq % P2PL_RING] == seq + 1)
			p2pl__strike(p, 1, "replays pieces", now);
		p2pl__mark(p, seq);
		return 0;
	}
	first = !p2pl__sched_knows(n, seq);
	p2pl__mark(p, seq);
	if (n->cb.verify != NULL)
		pc = n->cb.verify(n->cb.arg, body, len, p->err, sizeof(p->err));
	else
		pc = p2pl_piece_verify(n->cfg.key, body, len, p->err,
		    sizeof(p->err));
	if (pc == NULL) {
		n->st.bad++;
		return -1;
	}
	p2pl_loghist_add(&n->delays, (int64_t)(now - pc->stamp));
	p->st.pieces_in++;
	n->st.pieces_in++;
	p->last_piece = now;
	if (p->strikes > 0)
		p->strikes--;	/* it serves: forgive a missed request */
	if (p->misses > 0)
		p->misses--;
	if (n->far == seq + 1)
		n->far = 0;
	if (first)
		p2pl__sched_first(p, seq);
	p2pl__sched_from(p, seq);
	n->st.bytes_in += pc->msglen;
	p2pl__sched_arrived(n, pc, now);
	p2pl__sched_heard(n, seq, now, NULL);
	/* the window may drop an old piece at once: hold it until done */
	p2pl_piece_ref(pc);
	store(n, pc, now);
	p2pl__sched_got(n, seq);
	if (p2pl__ring_get(n, seq) == pc)
		p2pl__sched_new_piece(n, pc, p, now);
	else	/* older than the window: verified for nothing */
		p2pl__strike(p, 4, "sends stale pieces", now);
	p2pl_piece_unref(pc);
	play(n, now);
	p2pl_node_flush(n, now);
	return 0;
}

/*
 * A HAVE much newer than anything we hold, or before our first piece much
 * newer than the others heard of, would move the pull window onto pieces
 * that may not exist.  Ask its sender alone for it and believe it when it
 * comes; a sender that does not deliver is struck.  1 if it was far.
 */
static int
have_far(struct p2pl_peer *p, uint64_t v, uint64_t now)
{
	struct p2pl_node *n = p->node;
	uint8_t msg[P2PL_MSG_HDR + 8];
	uint64_t base;

	if (n->have_any)
		base = n->head;
	else if (n->first_heard != 0)
		base = n->first_heard - 1;
	else
		return 0;
	if (v <= base + HAVE_AHEAD)
		return 0;
	if (n->far == 0) {
		n->far = v + 1;
		n->far_asked = now;
		n->far_from = p;
		p2pl__send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_REQUEST, v), NULL);
	}
	return 1;
}

static int
on_message(struct p2pl_peer *p, uint8_t type, const uint8_t *body,
    size_t len, uint64_t now)
{
	uint8_t msg[P2PL_MSG_HDR + 8];
	uint64_t v;

	if (type == P2PL_MSG_HELLO)
		return on_hello(p, body, len, now);
	if (p->state != PEER_READY) {
		p2pl_seterr(p->err, sizeof(p->err), "message before hello");
		return -1;
	}
	switch (type) {
	case P2PL_MSG_PIECE:
		return on_piece(p, body, len, now);
	case P2PL_MSG_SUBSCRIBE:
		return on_subscribe(p, body, len, now);
	case P2PL_MSG_PEX:
		return p2pl__pex_input(p, body, len, now);
	case P2PL_MSG_HAVE:
	case P2PL_MSG_REQUEST:
	case P2PL_MSG_PING:
	case P2PL_MSG_PONG:
	case P2PL_MSG_CHOOSE:
	case P2PL_MSG_ACCEPT:
		if (p2pl_wire_parse_u64(body, len, &v, p->err,
		    sizeof(p->err)) == -1)
			return -1;
		break;
	default:
		return 0;	/* unknown types are for later versions */
	}
	if (type == P2PL_MSG_HAVE) {
		if (v > P2PL_SEQ_MAX) {
			p2pl_seterr(p->err, sizeof(p->err), "have out of range");
			return -1;
		}
		if (!p2pl__sched_knows(p->node, v) && v <= p->node->known +
		    HAVE_AHEAD)
			p2pl__sched_first(p, v);
		p2pl__mark(p, v);
		if (have_far(p, v, now) == 0)
			p2pl__sched_heard(p->node, v, now, p);
	} else if (type == P2PL_MSG_CHOOSE)
		return p2pl__sched_choose(p, v);
	else if (type == P2PL_MSG_ACCEPT)
		return p2pl__sched_accept(p, v, now);
	else if (type == P2PL_MSG_REQUEST) {
		p2pl__sched_request(p, v, now);
		p2pl_node_flush(p->node, now);
	}
	else if (type == P2PL_MSG_PING)
		p2pl__send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_PONG, v), NULL);
	else if (type == P2PL_MSG_PONG && v <= now)
		p->rtt = now - v;
	return 0;
}

long
p2pl_peer_input(struct p2pl_peer *p, const uint8_t *buf, size_t n,
    uint64_t now)
{
	const uint8_t *body;
	size_t off = 0, len;
	uint8_t type;
	long r;

	if (p->state == PEER_DEAD)
		return -1;
	while (off < n) {
		if (p->state == PEER_HELLO &&
		    !p2pl_wire_looks_like_hello(buf + off, n - off)) {
			p2pl_seterr(p->err, sizeof(p->err),
			    "peer does not speak p2pl");
			goto fail;
		}
		r = p2pl_wire_next(buf + off, n - off, &type, &body, &len,
		    p->err, sizeof(p->err));
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		p->last_rx = now;
		p->st.bytes_in += (uint64_t)r;
		if (on_message(p, type, body, len, now) == -1)
			goto fail;
		if (p->state == PEER_DEAD)
			return -1;	/* struck out: dropped and banned */
		off += (size_t)r;
	}
	/* a message begun and not finished: it has MSG_TIMEOUT to arrive */
	if (off == n)
		p->partial = 0;
	else if (off > 0 || p->partial == 0)
		p->partial = now;
	return (long)off;
fail:
	/* after the handshake a broken message is no accident: refuse the
	 * peer, and its whole host if it is the one that connected */
	if (p->state == PEER_READY && !p->benign)
		p2pl__ban(p, !p->outgoing, now);
	p->state = PEER_DEAD;
	return -1;
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
	store(n, pc, now);
	if (p2pl__ring_get(n, pc->seq) == pc)
		p2pl__sched_new_piece(n, pc, NULL, now);
	p2pl_piece_unref(pc);
	play(n, now);
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
	wait = play(n, now);
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

static int
evict_silent(struct p2pl_node *n)
{
	struct p2pl_peer *p, *old = NULL;

	for (p = n->peers; p != NULL; p = p->next)
		if (p->state == PEER_HELLO && !p->outgoing &&
		    (old == NULL || p->born < old->born))
			old = p;
	if (old == NULL)
		return 0;
	n->cb.drop(n->cb.arg, old->conn, "no hello, and room is needed");
	return 1;
}

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The places held by connections host opened to us. */
static int
host_places(const struct p2pl_node *n, const char *host)
{
	const struct p2pl_peer *p;
	int c = 0;

	for (p = n->peers; p != NULL; p = p->next)
		c += !p->outgoing && p->state != PEER_DEAD &&
		    strcmp(p->addr.host, host) == 0;
	return c;
}

/*
 * Full, and nobody silent to evict: the newcomer gets the place of the
 * newest peer that connected from an address holding more than
 * PER_HOST_MAX of the incoming places.  1 if one went.
 */
static int
evict_crowd(struct p2pl_node *n)
{
	struct p2pl_peer *p, *victim = NULL;
	const char **hosts, *crowd = NULL;
	int nh = 0, run;

	if ((hosts = calloc((size_t)n->cfg.max_peers, sizeof(*hosts))) == NULL)
		return 0;
	for (p = n->peers; p != NULL && nh < n->cfg.max_peers; p = p->next)
		if (!p->outgoing && p->state != PEER_DEAD)
			hosts[nh++] = p->addr.host;
	qsort(hosts, (size_t)nh, sizeof(*hosts), host_cmp);
	for (int i = 0; i < nh; i += run) {
		for (run = 1; i + run < nh && strcmp(hosts[i], hosts[i + run]) ==
		    0; run++)
			;
		if (run > PER_HOST_MAX)
			crowd = hosts[i];
	}
	/* the newest first: the list is kept newest first */
	for (p = n->peers; crowd != NULL && p != NULL; p = p->next)
		if (!p->outgoing && p->state != PEER_DEAD &&
		    strcmp(p->addr.host, crowd) == 0) {
			victim = p;
			break;
		}
	free(hosts);
	if (victim == NULL)
		return 0;
	n->cb.drop(n->cb.arg, victim->conn, "too many connections from its "
	    "address, and room is needed");
	return 1;
}

struct p2pl_peer *
p2pl_node_peer_new(struct p2pl_node *n, void *conn, int outgoing,
    const struct p2pl_addr *remote, uint64_t now)
{
	struct p2pl_peer *p;
	struct p2pl_hello h;
	uint8_t msg[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	int count = 0;

	for (p = n->peers; p != NULL; p = p->next)
		count++;
	/* full: a newcomer from an address that holds PER_HOST_MAX places
	 * already is refused; another gets the place of the oldest
	 * connection still silent, or of a crowd's, so neither idle
	 * connections nor many from one host can lock honest peers out */
	if (count >= n->cfg.max_peers && !outgoing && (remote == NULL ||
	    host_places(n, remote->host) < PER_HOST_MAX) &&
	    (evict_silent(n) || evict_crowd(n)))
		count--;
	if (count >= n->cfg.max_peers || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->node = n;
	p->conn = conn;
	p->outgoing = outgoing;
	if (remote != NULL)
		p->addr = *remote;
	if (!outgoing)
		p->addr.port = 0;	/* known from its hello */
	p->born = p->last_rx = p->last_ping = now;
	p->last_pex = now;
	p->next = n->peers;
	if (n->peers != NULL)
		n->peers->prevp = &p->next;
	p->prevp = &n->peers;
	n->peers = p;
	memset(&h, 0, sizeof(h));
	h.version = P2PL_VERSION;
	h.role = (uint8_t)n->cfg.role;
	h.port = n->cfg.port;
	memcpy(h.key, n->cfg.key, P2PL_KEYLEN);
	memcpy(h.id, n->id, P2PL_IDLEN);
	p2pl__send(p, msg, p2pl_wire_hello(msg, &h), NULL);
	return p;
}

void
p2pl_node_peer_del(struct p2pl_node *n, struct p2pl_peer *p)
{
	if (p->counted)
		n->st.peers--;
	if (n->far_from == p)
		n->far_from = NULL;
	p2pl__sched_forget(n, p);
	*p->prevp = p->next;
	if (p->next != NULL)
		p->next->prevp = p->prevp;
	free(p);
}

const char *
p2pl_peer_error(const struct p2pl_peer *p)
{
	return p->err[0] ? p->err : "protocol error";
}

int
p2pl_peer_banned(const struct p2pl_peer *p)
{
	return p->banned;
}

int
p2pl_peer_benign(const struct p2pl_peer *p)
{
	return p->benign;
}

const struct p2pl_hello *
p2pl_peer_hello(const struct p2pl_peer *p)
{
	return p->state == PEER_HELLO ? NULL : &p->hello;
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

struct p2pl_peer *
p2pl_node_peers(const struct p2pl_node *n)
{
	return n->peers;
}

struct p2pl_peer *
p2pl_peer_next(const struct p2pl_peer *p)
{
	return p->next;
}

const struct p2pl_addr *
p2pl_peer_addr(const struct p2pl_peer *p)
{
	return &p->addr;
}

const struct p2pl_peer_stats *
p2pl_peer_stats(const struct p2pl_peer *p)
{
	return &p->st;
}

int
p2pl_peer_outgoing(const struct p2pl_peer *p)
{
	return p->outgoing;
}

uint64_t
p2pl_peer_rtt(const struct p2pl_peer *p)
{
	return p->rtt;
}

int64_t
p2pl_peer_behind(const struct p2pl_peer *p)
{
	const struct p2pl_node *n = p->node;
	const struct p2pl_piece *h, *q;

	if (p->hello.role == P2PL_ROLE_PUBLISHER)
		return 0;
	if (!n->have_any || p->newest == 0)
		return -1;
	if (p->newest - 1 >= n->head)
		return 0;
	h = p2pl__ring_get(n, n->head);
	q = p2pl__ring_get(n, p->newest - 1);
	if (h == NULL || q == NULL)
		return -1;
	return h->stamp > q->stamp ? (int64_t)(h->stamp - q->stamp) : 0;
}

int
p2pl_peer_role(const struct p2pl_peer *p)
{
	return p->state == PEER_HELLO ? -1 : p->hello.role;
}

const uint8_t *
p2pl_node_id(const struct p2pl_node *n)
{
	return n->id;
}
