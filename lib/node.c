/* node.c - the protocol core: piece window, peers, push, playout. */
#include "node.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_TIMEOUT 10000000		/* µs to complete the handshake */
#define IDLE_TIMEOUT 30000000		/* µs of silence before dropping */
#define PING_EVERY 5000000
#define TICK_MAX 1000000

enum { PEER_HELLO, PEER_READY, PEER_DEAD };

struct p2pl_peer {
	struct p2pl_node *node;
	struct p2pl_peer *next, **prevp;
	void *conn;
	int outgoing;
	int state;
	int counted;		/* in st.peers: the handshake completed */
	struct p2pl_hello hello;
	int subscribed;
	int wait_join;		/* start at the next join point */
	uint64_t send_next;	/* next sequence to push */
	uint64_t latency;	/* theirs: older pieces are not sent, µs */
	uint64_t born, last_rx, last_ping, rtt;
	uint64_t pieces_in, pieces_out;
	char err[P2PL_ERRLEN];
};

struct p2pl_node {
	struct p2pl_node_cfg cfg;
	struct p2pl_node_cb cb;
	uint8_t id[P2PL_IDLEN];
	struct p2pl_peer *peers;

	struct p2pl_piece *ring[P2PL_RING];
	int have_any, have_join;
	uint64_t head, tail, last_join;
	uint64_t store_bytes;

	int playing;
	uint64_t play_next;
	int64_t offset;		/* min(receive time - stamp) this session */
	int offset_set;

	double tokens;
	uint64_t tok_time;

	struct p2pl_node_stats st;
};

static struct p2pl_piece *
ring_get(const struct p2pl_node *n, uint64_t seq)
{
	struct p2pl_piece *p;

	if (!n->have_any || seq < n->tail || seq > n->head)
		return NULL;
	p = n->ring[seq % P2PL_RING];
	return p != NULL && p->seq == seq ? p : NULL;
}

/* The first piece held at or after seq, or NULL. */
static struct p2pl_piece *
ring_next(const struct p2pl_node *n, uint64_t seq)
{
	struct p2pl_piece *p;

	if (!n->have_any)
		return NULL;
	if (seq < n->tail)
		seq = n->tail;
	for (; seq <= n->head; seq++)
		if ((p = ring_get(n, seq)) != NULL)
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
	const struct p2pl_piece *h = ring_get(n, n->head), *t;

	if (n->head - n->tail >= P2PL_RING) {
		for (uint64_t s = n->tail; s < n->tail + P2PL_RING; s++)
			if (n->ring[s % P2PL_RING] != NULL &&
			    n->ring[s % P2PL_RING]->seq + P2PL_RING <= n->head)
				ring_drop(n, n->ring[s % P2PL_RING]->seq);
		n->tail = n->head - P2PL_RING + 1;
	}
	while (n->tail < n->head) {
		if ((t = ring_get(n, n->tail)) != NULL) {
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

static void
peer_send(struct p2pl_peer *p, const uint8_t *buf, size_t len,
    struct p2pl_piece *piece)
{
	struct p2pl_node *n = p->node;

	n->cb.send(n->cb.arg, p->conn, buf, len, piece);
	n->st.bytes_out += len;
	n->tokens -= (double)len;
}

static uint64_t
up_rate(const struct p2pl_node *n)
{
	return p2pl_rate_bytes(&n->cfg.up, n->st.bitrate);
}

/* Push one piece to p if it wants one and the caps allow; 1 if sent. */
static int
peer_push_one(struct p2pl_peer *p, uint64_t now)
{
	struct p2pl_node *n = p->node;
	struct p2pl_piece *pc;
	const struct p2pl_piece *h;
	uint64_t lag;

	(void)now;
	if (p->state != PEER_READY || !p->subscribed || p->wait_join ||
	    !n->have_any || p->send_next > n->head)
		return 0;
	if (up_rate(n) != UINT64_MAX && n->tokens <= 0)
		return 0;
	if (n->cb.backlog(n->cb.arg, p->conn) >= P2PL_BACKLOG_MAX)
		return 0;
	pc = ring_next(n, p->send_next);
	if (pc == NULL) {
		p->send_next = n->head + 1;
		return 0;
	}
	/*
	 * A subscriber behind its deadline (or, with none, half the window)
	 * skips whole groups of pieces: it restarts at the newest join
	 * point, never inside a group a decoder cannot start.
	 */
	h = ring_get(n, n->head);
	lag = p->latency > 0 ? p->latency : n->cfg.window / 2;
	if (h != NULL && n->have_join && pc->seq < n->last_join &&
	    pc->stamp + lag < h->stamp)
		pc = ring_get(n, n->last_join);
	if (pc == NULL)
		return 0;
	peer_send(p, pc->msg, pc->msglen, pc);
	p->send_next = pc->seq + 1;
	p->pieces_out++;
	n->st.pieces_out++;
	return 1;
}

void
p2pl_node_flush(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p;
	int sent;

	/* one piece per peer per round, so a capped upload is shared fairly */
	do {
		sent = 0;
		for (p = n->peers; p != NULL; p = p->next)
			sent += peer_push_one(p, now);
	} while (sent > 0);
}

static void
deliver(struct p2pl_node *n, struct p2pl_piece *p)
{
	n->st.played++;
	n->play_next = p->seq + 1;
	n->cb.deliver(n->cb.arg, p);
}

static uint64_t
deadline(const struct p2pl_node *n, const struct p2pl_piece *p)
{
	return p->stamp + (uint64_t)n->offset + n->cfg.latency;
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
	}
	for (;;) {
		p = ring_get(n, n->play_next);
		if (p != NULL && n->have_join && p->seq < n->last_join &&
		    now > deadline(n, p) + n->cfg.latency) {
			/* far behind live: catch up at the newest join point */
			n->st.skipped += n->last_join - p->seq;
			n->play_next = n->last_join;
			continue;
		}
		if (p != NULL) {
			deliver(n, p);
			continue;
		}
		if (!n->have_any || n->play_next > n->head)
			return TICK_MAX;
		if (n->play_next < n->tail)
			n->play_next = n->tail;
		q = ring_next(n, n->play_next);
		if (q == NULL)
			return TICK_MAX;
		if (!(q->flags & P2PL_PIECE_RESTART) && now < deadline(n, q))
			return deadline(n, q) - now;
		if (!(q->flags & P2PL_PIECE_RESTART))
			n->st.skipped += q->seq - n->play_next;
		n->play_next = q->seq;
	}
}

static int
on_hello(struct p2pl_peer *p, const uint8_t *body, size_t len)
{
	struct p2pl_node *n = p->node;
	uint8_t msg[P2PL_MSG_HDR + P2PL_SUBSCRIBE_LEN];
	uint64_t from = 0;

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
	if (memcmp(p->hello.id, n->id, P2PL_IDLEN) == 0) {
		p2pl_seterr(p->err, sizeof(p->err), "connected to ourselves");
		return -1;
	}
	p->state = PEER_READY;
	p->counted = 1;
	n->st.peers++;
	if (p->outgoing && n->cfg.role != P2PL_ROLE_PUBLISHER) {
		if (n->playing)
			from = n->play_next;
		else if (!n->cfg.play && n->have_any)
			from = n->head + 1;
		peer_send(p, msg, p2pl_wire_subscribe(msg, from,
		    (uint32_t)(n->cfg.latency / 1000)), NULL);
	}
	return 0;
}

static int
on_subscribe(struct p2pl_peer *p, const uint8_t *body, size_t len,
    uint64_t now)
{
	struct p2pl_node *n = p->node;
	uint32_t latency_ms;
	uint64_t from;

	if (p2pl_wire_parse_subscribe(body, len, &from, &latency_ms, p->err,
	    sizeof(p->err)) == -1)
		return -1;
	p->latency = (uint64_t)latency_ms * 1000;
	p->subscribed = 1;
	p->wait_join = 0;
	if (from != 0)
		p->send_next = from;
	else if (n->have_join)
		p->send_next = n->last_join;
	else
		p->wait_join = 1;
	p2pl_node_flush(n, now);
	return 0;
}

static int
on_piece(struct p2pl_peer *p, const uint8_t *body, size_t len, uint64_t now)
{
	struct p2pl_node *n = p->node;
	struct p2pl_piece *pc;
	uint64_t seq, stamp;
	unsigned flags;

	if (p2pl_piece_peek(body, len, &seq, &stamp, &flags, p->err,
	    sizeof(p->err)) == -1)
		return -1;
	if (ring_get(n, seq) != NULL ||
	    (n->have_any && seq + P2PL_RING <= n->head) ||
	    (n->playing && seq < n->play_next && seq < n->tail)) {
		n->st.dups++;
		return 0;
	}
	pc = p2pl_piece_verify(n->cfg.key, body, len, p->err, sizeof(p->err));
	if (pc == NULL) {
		n->st.bad++;
		return -1;
	}
	p->pieces_in++;
	n->st.pieces_in++;
	n->st.bytes_in += pc->msglen;
	return p2pl_node_publish(n, pc, now);
}

static int
on_message(struct p2pl_peer *p, uint8_t type, const uint8_t *body,
    size_t len, uint64_t now)
{
	uint8_t msg[P2PL_MSG_HDR + 8];
	struct p2pl_piece *pc;
	uint64_t v;

	if (type == P2PL_MSG_HELLO)
		return on_hello(p, body, len);
	if (p->state != PEER_READY) {
		p2pl_seterr(p->err, sizeof(p->err), "message before hello");
		return -1;
	}
	switch (type) {
	case P2PL_MSG_PIECE:
		return on_piece(p, body, len, now);
	case P2PL_MSG_SUBSCRIBE:
		return on_subscribe(p, body, len, now);
	case P2PL_MSG_HAVE:
	case P2PL_MSG_REQUEST:
	case P2PL_MSG_PING:
	case P2PL_MSG_PONG:
		if (p2pl_wire_parse_u64(body, len, &v, p->err,
		    sizeof(p->err)) == -1)
			return -1;
		break;
	default:
		return 0;	/* unknown types are for later versions */
	}
	if (type == P2PL_MSG_REQUEST &&
	    (pc = ring_get(p->node, v)) != NULL)
		peer_send(p, pc->msg, pc->msglen, pc);
	else if (type == P2PL_MSG_PING)
		peer_send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_PONG, v), NULL);
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
		if (on_message(p, type, body, len, now) == -1)
			goto fail;
		off += (size_t)r;
	}
	return (long)off;
fail:
	p->state = PEER_DEAD;
	return -1;
}

int
p2pl_node_publish(struct p2pl_node *n, struct p2pl_piece *pc, uint64_t now)
{
	struct p2pl_peer *p;

	if (ring_get(n, pc->seq) != NULL ||
	    (n->have_any && pc->seq + P2PL_RING <= n->head)) {
		p2pl_piece_unref(pc);
		return 0;
	}
	store(n, pc, now);
	for (p = n->peers; p != NULL; p = p->next)
		if (p->wait_join && (pc->flags & P2PL_PIECE_JOIN)) {
			p->wait_join = 0;
			p->send_next = pc->seq;
		}
	play(n, now);
	p2pl_node_flush(n, now);
	return 0;
}

static void
refill(struct p2pl_node *n, uint64_t now)
{
	uint64_t rate = up_rate(n);
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
	const struct p2pl_piece *h = ring_get(n, n->head);
	const struct p2pl_piece *t = ring_next(n, n->tail);

	if (h == NULL || t == NULL || h->stamp <= t->stamp ||
	    h->stamp - t->stamp < 500000)
		return n->st.bitrate;
	return n->store_bytes * 8 * 1000000 / (h->stamp - t->stamp);
}

uint64_t
p2pl_node_tick(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p, *next;
	uint8_t msg[P2PL_MSG_HDR + 8];
	uint64_t wait, rate;
	const char *why;

	n->st.bitrate = bitrate(n);
	refill(n, now);
	wait = play(n, now);
	for (p = n->peers; p != NULL; p = next) {
		next = p->next;
		why = NULL;
		if (p->state == PEER_HELLO && now > p->born + HELLO_TIMEOUT)
			why = "no hello in time";
		else if (now > p->last_rx + IDLE_TIMEOUT)
			why = "timed out";
		if (why != NULL) {
			n->cb.drop(n->cb.arg, p->conn, why);
			continue;
		}
		if (p->state == PEER_READY && now >= p->last_ping + PING_EVERY) {
			p->last_ping = now;
			peer_send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_PING, now),
			    NULL);
		}
	}
	p2pl_node_flush(n, now);
	rate = up_rate(n);
	if (rate != UINT64_MAX && n->tokens <= 0 && rate > 0) {
		uint64_t w = (uint64_t)(-n->tokens * 1e6 / (double)rate) + 1000;
		if (w < wait)
			wait = w;
	}
	if (wait > TICK_MAX)
		wait = TICK_MAX;
	return wait < 1000 ? 1000 : wait;
}

struct p2pl_peer *
p2pl_node_peer_new(struct p2pl_node *n, void *conn, int outgoing,
    uint64_t now)
{
	struct p2pl_peer *p = calloc(1, sizeof(*p));
	struct p2pl_hello h;
	uint8_t msg[P2PL_MSG_HDR + P2PL_HELLO_LEN];

	if (p == NULL)
		return NULL;
	p->node = n;
	p->conn = conn;
	p->outgoing = outgoing;
	p->born = p->last_rx = p->last_ping = now;
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
	peer_send(p, msg, p2pl_wire_hello(msg, &h), NULL);
	return p;
}

void
p2pl_node_peer_del(struct p2pl_node *n, struct p2pl_peer *p)
{
	if (p->counted)
		n->st.peers--;
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
	randombytes_buf(n->id, sizeof(n->id));
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
p2pl_node_stats(const struct p2pl_node *n, struct p2pl_node_stats *st)
{
	*st = n->st;
}

const struct p2pl_piece *
p2pl_node_head(const struct p2pl_node *n)
{
	return ring_get(n, n->head);
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
