/*
 * nodemsg.c - the protocol core's reading side: the bytes a peer sent,
 * cut into messages (wire.h) and each one checked and acted on: the
 * handshake, subscriptions, pieces (verified before anything else sees
 * them), HAVEs that claim too much, and the strikes misbehaviour earns.
 * node.c keeps the window and the playout these messages feed; sched.c
 * decides what to send in return.
 */
#include "node-int.h"

#include <string.h>

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
	p2pl__store(n, pc, now);
	p2pl__sched_got(n, seq);
	if (p2pl__ring_get(n, seq) == pc)
		p2pl__sched_new_piece(n, pc, p, now);
	else	/* older than the window: verified for nothing */
		p2pl__strike(p, 4, "sends stale pieces", now);
	p2pl_piece_unref(pc);
	p2pl__play(n, now);
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
