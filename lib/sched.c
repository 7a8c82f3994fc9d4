/*
 * sched.c - the scheduler of the protocol core: who gets which piece,
 * within the upload cap.
 *
 * The stream is cut into P2PL_SUBSTREAMS substreams (seq modulo).  A relay,
 * or a viewer that talks to relays only, chooses for every substream one
 * neighbour as its parent (CHOOSE): a relay or the publisher, the one that
 * lately told it first of that substream's pieces.  A parent takes on as
 * many children as its upload cap allows (ACCEPT) and pushes them every
 * fresh piece of their substreams at once.  A parent that lets others beat
 * it MISS_MAX times in a row is dropped for a while.  (With cfg.trees,
 * viewers choose viewers too: an experiment, see p2pl-sim --trees.)
 *
 * Every other neighbour hears of a fresh piece by HAVE; a node that uploads
 * nothing announces nothing.  Where a substream has no children, the
 * publisher or a relay pushes the piece to cfg.push neighbours instead; a
 * viewer pushes only to its children, since a push nobody asked for
 * crosses requests and arrives twice.
 *
 * What a node lacks it requests (schedpull.c).  Requests are served
 * before pushes, except at the publisher, whose pushes every viewer waits
 * for; nothing staler than the receiver's latency is sent, and nothing
 * twice to one peer.
 */
#include "node-int.h"

#include <sodium.h>

#define REQUEST_TTL 400000		/* a holder drops requests this old */
#define PARENT_EVERY 200000		/* µs between reviews of the parents */
#define DECAY_EVERY 10			/* reviews between halvings of counts */
#define MISS_MAX 3			/* pieces in a row others brought first */
#define REFUSE_TIME 5000000		/* µs before asking a refuser again */
#define VIEWER_RESERVE 0.25		/* streams of upload kept for requests */
#define PUBLISHER_RESERVE 0.5

int
p2pl__q_push(struct seqq *q, uint64_t s, uint64_t now)
{
	if (q->head - q->tail == QLEN)
		return -1;
	q->t[q->head % QLEN] = now;
	q->s[q->head++ % QLEN] = s;
	return 0;
}

static int
q_pop(struct seqq *q, uint64_t *s, uint64_t *t)
{
	if (q->head == q->tail)
		return -1;
	*t = q->t[q->tail % QLEN];
	*s = q->s[q->tail++ % QLEN];
	return 0;
}

/* Queue a push for p unless it has the piece or has it queued. */
static int
enqueue(struct p2pl_peer *p, uint64_t seq, uint64_t now)
{
	if (p2pl__peer_has(p, seq) || p->qseq[seq % P2PL_RING] == seq + 1 ||
	    p2pl__q_push(&p->pq, seq, now) == -1)
		return -1;
	p->qseq[seq % P2PL_RING] = seq + 1;
	return 0;
}

static int
count_peers(const struct p2pl_node *n)
{
	const struct p2pl_peer *p;
	int c = 0;

	for (p = n->peers; p != NULL; p = p->next)
		c++;
	return c;
}

static void
send_have(struct p2pl_peer *p, uint64_t seq)
{
	uint8_t msg[P2PL_MSG_HDR + 8];

	p2pl__send(p, msg, p2pl_wire_u64(msg, P2PL_MSG_HAVE, seq), NULL);
}

/* Upload we may spend on pushes, in substreams of the stream. */
static int
slots(const struct p2pl_node *n)
{
	double m, reserve;

	switch (n->cfg.up.kind) {
	case P2PL_RATE_UNLIMITED:
		return SUBS * 1024;
	case P2PL_RATE_MULT:
		m = n->cfg.up.mult;
		break;
	default:
		if (n->st.bitrate == 0)
			return SUBS;	/* until the stream's rate is known */
		m = (double)n->cfg.up.bps / (double)n->st.bitrate;
		break;
	}
	reserve = n->cfg.role == P2PL_ROLE_PUBLISHER ? PUBLISHER_RESERVE :
	    VIEWER_RESERVE;
	return m > reserve ? (int)((m - reserve) * SUBS) : 0;
}

static int
popcount(unsigned v)
{
	int c = 0;

	for (; v != 0; v &= v - 1)
		c++;
	return c;
}

static int
slots_used(const struct p2pl_node *n)
{
	const struct p2pl_peer *p;
	int c = 0;

	for (p = n->peers; p != NULL; p = p->next)
		c += popcount(p->kids);
	return c;
}

static int
uploads(const struct p2pl_node *n)
{
	return p2pl_rate_bytes(&n->cfg.up, n->st.bitrate) != 0;
}

void
p2pl__sched_new_piece(struct p2pl_node *n, struct p2pl_piece *pc,
    struct p2pl_peer *src, uint64_t now)
{
	struct p2pl_peer *p;
	unsigned bit = 1u << SUB(pc->seq);
	int i, start, count = count_peers(n), chosen = 0, kids = 0, subs = 0;
	int fresh = pc->seq + 16 >= n->head, announce = uploads(n);

	if (count == 0)
		return;
	for (p = n->peers; p != NULL; p = p->next)
		if (p->state == PEER_READY && p->subscribed) {
			kids |= (p->kids & bit) != 0;
			subs++;
		}
	/* walk the peers once, from a start that rotates over those that
	 * take pushes, so peers that take none do not skew the shares */
	start = subs > 0 ? (int)(n->rr++ % (unsigned)subs) : 0;
	for (p = n->peers; p->next != NULL; p = p->next)
		if (p->state == PEER_READY && p->subscribed && start-- == 0)
			break;
	for (i = 0; i < count; i++, p = p->next != NULL ? p->next : n->peers) {
		if (p == src || p->state != PEER_READY || p2pl__peer_has(p, pc->seq))
			continue;
		if (p->subscribed && p->wait_join) {
			/* a newcomer takes everything from a join point on */
			if (!(pc->flags & P2PL_PIECE_JOIN))
				continue;
			p->wait_join = 0;
			enqueue(p, pc->seq, now);
			continue;
		}
		if (p->subscribed && fresh && (p->kids & bit)) {
			enqueue(p, pc->seq, now);
			continue;
		}
		if (p->subscribed && fresh && !kids && chosen < n->cfg.push &&
		    n->cfg.role != P2PL_ROLE_VIEWER &&
		    enqueue(p, pc->seq, now) == 0) {
			chosen++;
			continue;
		}
		if (n->cfg.role != P2PL_ROLE_PUBLISHER && announce)
			send_have(p, pc->seq);
	}
}

/* True when we hold seq or have heard of it. */
int
p2pl__sched_knows(const struct p2pl_node *n, uint64_t seq)
{
	if (n->have_any && seq + P2PL_RING <= n->head)
		return 1;
	return p2pl__ring_get(n, seq) != NULL ||
	    n->wants[seq % P2PL_RING].seq == seq + 1;
}

/* p told us first of seq: credit it. */
void
p2pl__sched_first(struct p2pl_peer *p, uint64_t seq)
{
	unsigned k = SUB(seq);

	if (p->first[k] < UINT32_MAX)
		p->first[k]++;
}

/* A piece new to us came from p: count it for or against the parent of
 * its substream. */
void
p2pl__sched_from(struct p2pl_peer *p, uint64_t seq)
{
	struct p2pl_node *n = p->node;
	unsigned k = SUB(seq);

	if (n->parent[k] == NULL)
		return;
	if (n->parent[k] == p)
		n->miss[k] = 0;
	else
		n->miss[k]++;
}

static void
send_mask(struct p2pl_peer *p, uint8_t type, unsigned mask)
{
	uint8_t msg[P2PL_MSG_HDR + 8];

	p2pl__send(p, msg, p2pl_wire_u64(msg, type, mask), NULL);
}

/* CHOOSE from a child: keep what it still wants, take on what we can. */
int
p2pl__sched_choose(struct p2pl_peer *p, uint64_t mask)
{
	struct p2pl_node *n = p->node;
	int room;
	unsigned k;

	if (mask >> SUBS != 0) {
		p2pl_seterr(p->err, sizeof(p->err), "choose: no such substream");
		return -1;
	}
	p->kids &= (unsigned)mask;
	room = slots(n) - slots_used(n);
	for (k = 0; k < SUBS && room > 0; k++)
		if ((mask >> k & 1) && !(p->kids >> k & 1) &&
		    n->parent[k] != p) {	/* never each other's parent */
			p->kids |= 1u << k;
			room--;
		}
	send_mask(p, P2PL_MSG_ACCEPT, p->kids);
	return 0;
}

/* ACCEPT from a parent: what it refused we seek elsewhere. */
int
p2pl__sched_accept(struct p2pl_peer *p, uint64_t mask, uint64_t now)
{
	struct p2pl_node *n = p->node;
	unsigned k;

	if (mask >> SUBS != 0) {
		p2pl_seterr(p->err, sizeof(p->err), "accept: no such substream");
		return -1;
	}
	for (k = 0; k < SUBS; k++)
		if ((p->chose >> k & 1) && !(mask >> k & 1)) {
			if (n->parent[k] == p) {
				n->parent[k] = NULL;
				n->miss[k] = 0;
			}
			p->refused[k] = now + REFUSE_TIME;
		}
	p->chose &= (unsigned)mask;
	/* it took on more than we still want (we changed our mind since) */
	if (mask & ~(uint64_t)p->chose)
		send_mask(p, P2PL_MSG_CHOOSE, p->chose);
	return 0;
}

/*
 * The neighbour that lately told us first of substream k's pieces.  Only
 * relays and the publisher, unless cfg.trees: then viewers too, but only
 * those that have told us first of some.
 */
static struct p2pl_peer *
best_parent(struct p2pl_node *n, unsigned k, uint64_t now)
{
	struct p2pl_peer *p, *best = NULL;
	uint32_t ties = 0;

	for (p = n->peers; p != NULL; p = p->next) {
		if (p->state != PEER_READY || (p->kids >> k & 1) ||
		    now < p->refused[k] || (p->hello.role == P2PL_ROLE_VIEWER &&
		    (!n->cfg.trees || p->first[k] == 0)))
			continue;
		if (best != NULL && p->first[k] < best->first[k])
			continue;
		if (best == NULL || p->first[k] > best->first[k])
			ties = 0;
		if (randombytes_uniform(++ties) == 0)
			best = p;
	}
	return best;
}

void
p2pl__sched_parents(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p;
	unsigned k, mask;

	/* relays, and viewers that talk to relays only; the others too
	 * with cfg.trees */
	if (n->cfg.role == P2PL_ROLE_PUBLISHER || (n->cfg.role ==
	    P2PL_ROLE_VIEWER && !n->cfg.relay_only && !n->cfg.trees) ||
	    now < n->parents_t + PARENT_EVERY)
		return;
	n->parents_t = now;
	if (++n->reviews % DECAY_EVERY == 0)
		for (p = n->peers; p != NULL; p = p->next)
			for (k = 0; k < SUBS; k++)
				p->first[k] /= 2;
	for (k = 0; k < SUBS; k++) {
		p = n->parent[k];
		if (p != NULL && n->miss[k] >= MISS_MAX) {
			p->refused[k] = now + REFUSE_TIME;
			n->parent[k] = p = NULL;
		}
		if (p == NULL || p->state != PEER_READY) {
			n->miss[k] = 0;
			n->parent[k] = best_parent(n, k, now);
		}
	}
	for (p = n->peers; p != NULL; p = p->next) {
		if (p->state != PEER_READY)
			continue;
		mask = 0;
		for (k = 0; k < SUBS; k++)
			if (n->parent[k] == p)
				mask |= 1u << k;
		if (mask != p->chose) {
			p->chose = mask;
			send_mask(p, P2PL_MSG_CHOOSE, mask);
		}
	}
}

void
p2pl__sched_subscribe(struct p2pl_peer *p, uint64_t from, uint64_t now)
{
	struct p2pl_node *n = p->node;
	struct p2pl_piece *pc;

	p->wait_join = 0;
	if (from == P2PL_FROM_LIVE)
		return;
	if (from == 0 && !n->have_join) {
		p->wait_join = 1;
		return;
	}
	if (from == 0) {
		/* a newcomer: say what we hold from the newest join point and
		 * let it pull, spreading its start over all its neighbours */
		if (!uploads(n))
			return;
		for (pc = p2pl__ring_get(n, n->last_join); pc != NULL;
		    pc = p2pl__ring_next(n, pc->seq + 1))
			send_have(p, pc->seq);
		return;
	}
	for (pc = p2pl__ring_next(n, from); pc != NULL;
	    pc = p2pl__ring_next(n, pc->seq + 1))
		if (enqueue(p, pc->seq, now) == -1 &&
		    p->pq.head - p->pq.tail == QLEN)
			break;
}

void
p2pl__sched_forget(struct p2pl_node *n, struct p2pl_peer *p)
{
	for (unsigned k = 0; k < SUBS; k++)
		if (n->parent[k] == p) {
			n->parent[k] = NULL;
			n->miss[k] = 0;
		}
	for (int i = 0; i < P2PL_RING; i++) {
		if (n->wants[i].from == p) {
			n->wants[i].from = NULL;
			n->wants[i].asked = 0;
		}
		if (n->wants[i].claimer == p)
			n->wants[i].claimer = NULL;
	}
}

/* Send p its next piece if the caps allow (pushes only: none it asked
 * for); 1 if one went. */
static int
send_one(struct p2pl_peer *p, uint64_t now, int pushes)
{
	struct p2pl_node *n = p->node;
	const struct p2pl_piece *h = p2pl__ring_get(n, n->head);
	struct p2pl_piece *pc;
	uint64_t s, t;
	int asked;

	if (p->state != PEER_READY)
		return 0;
	if (p2pl_rate_bytes(&n->cfg.up, n->st.bitrate) != UINT64_MAX &&
	    n->tokens <= 0)
		return 0;
	if (n->cb.backlog(n->cb.arg, p->conn) >= P2PL_BACKLOG_MAX)
		return 0;
	for (;;) {
		asked = 0;
		if (!pushes && q_pop(&p->rq, &s, &t) == 0) {
			/* the asker has given up on it and asked another */
			if (now > t + REQUEST_TTL)
				continue;
			asked = 1;
		} else if (q_pop(&p->pq, &s, &t) == -1)
			break;
		pc = p2pl__ring_get(n, s);
		/* nothing it has, nor would play too late; but the newest
		 * join point on, when asked for, however old: a newcomer
		 * starts there */
		if (pc == NULL || p2pl__peer_has(p, s) || (h != NULL &&
		    p->latency > 0 && pc->stamp + p->latency < h->stamp &&
		    !(asked && n->have_join && s >= n->last_join)))
			continue;
		p2pl__mark(p, s);
		p2pl__send(p, pc->msg, pc->msglen, pc);
		p->st.pieces_out++;
		n->st.pieces_out++;
		return 1;
	}
	return 0;
}

void
p2pl__sched_flush(struct p2pl_node *n, uint64_t now)
{
	struct p2pl_peer *p;
	int sent, pushes;

	/* one piece per peer per round, so a capped upload is shared fairly;
	 * the publisher's pushes first: every viewer waits for them */
	for (pushes = n->cfg.role == P2PL_ROLE_PUBLISHER; pushes >= 0;
	    pushes--)
		do {
			sent = 0;
			for (p = n->peers; p != NULL; p = p->next)
				sent += send_one(p, now, pushes);
		} while (sent > 0);
}
