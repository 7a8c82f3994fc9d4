/*
 * sched.c - the scheduler of the protocol core: who gets which piece,
 * within the upload cap.
 *
 * Fresh pieces are pushed at once to a few neighbours that lack them
 * (cfg.push; a publisher's choice rotates, so each neighbour starts a
 * different share of the stream), and announced with HAVE to the others.
 * A piece we know exists and still lack after PULL_DELAY is requested
 * from a neighbour that holds it, preferring viewers and relays over the
 * publisher and the least asked; a request unanswered in PULL_TIMEOUT goes
 * to another.  Requests are served before pushes; nothing staler than the
 * receiver's latency is sent, and nothing twice to one peer.
 */
#include "node-int.h"

#include <sodium.h>

#define PULL_DELAY 50000
#define PULL_TIMEOUT 150000		/* plus twice the holder's RTT */
#define REQUEST_TTL 400000		/* a holder drops requests this old */
#define REQ_PER_PEER 8
#define TICK_MAX 1000000

static int
q_push(struct seqq *q, uint64_t s, uint64_t now)
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
	    q_push(&p->pq, seq, now) == -1)
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

void
p2pl__sched_new_piece(struct p2pl_node *n, struct p2pl_piece *pc,
    struct p2pl_peer *src, uint64_t now)
{
	struct p2pl_peer *p;
	int i, start, count = count_peers(n), chosen = 0;
	int fresh = pc->seq + 16 >= n->head;

	if (count == 0)
		return;
	start = (int)(n->rr++ % (unsigned)count);
	/* walk the peers once, from a rotating start */
	for (i = 0, p = n->peers; i < start; i++)
		p = p->next;
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
		if (p->subscribed && fresh && chosen < n->cfg.push &&
		    enqueue(p, pc->seq, now) == 0) {
			chosen++;
			continue;
		}
		if (n->cfg.role != P2PL_ROLE_PUBLISHER)
			send_have(p, pc->seq);
	}
}

static struct want *
want_slot(struct p2pl_node *n, uint64_t seq, uint64_t now)
{
	struct want *w = &n->wants[seq % P2PL_RING];

	if (w->seq != seq + 1) {
		if (w->asked && w->from != NULL)
			w->from->reqs--;
		w->seq = seq + 1;
		w->heard = now;
		w->asked = 0;
		w->from = NULL;
	}
	return w;
}

void
p2pl__sched_heard(struct p2pl_node *n, uint64_t seq, uint64_t now)
{
	uint64_t s;

	if (n->have_any && seq + P2PL_RING <= n->head)
		return;
	/* before our first piece, a claim far below an earlier one shows
	 * that one false (it came first, so nothing held it back) */
	if (!n->have_any && n->known > seq + HAVE_AHEAD)
		n->known = seq;
	if (n->first_heard == 0 || seq + 1 < n->first_heard)
		n->first_heard = seq + 1;
	if (seq > n->known) {
		/* everything up to it exists: learn of the gap too */
		s = n->known + 1;
		if (!n->have_any || seq - s >= P2PL_RING)
			s = seq;
		for (; s <= seq; s++)
			if (p2pl__ring_get(n, s) == NULL)
				want_slot(n, s, now);
		n->known = seq;
	} else if (p2pl__ring_get(n, seq) == NULL)
		want_slot(n, seq, now);
}

void
p2pl__sched_got(struct p2pl_node *n, uint64_t seq)
{
	struct want *w = &n->wants[seq % P2PL_RING];

	if (w->seq != seq + 1)
		return;
	if (w->asked && w->from != NULL)
		w->from->reqs--;
	/* all of it: a slot reused P2PL_RING pieces later must not count
	 * this request off its holder again */
	w->seq = 0;
	w->asked = 0;
	w->from = NULL;
}

void
p2pl__sched_request(struct p2pl_peer *p, uint64_t seq, uint64_t now)
{
	/* asking again for what it was sent: a flood, not a repair */
	if (p->qseq[seq % P2PL_RING] == seq + 1 && p2pl__peer_has(p, seq))
		p2pl__strike(p, 1, "requests pieces over and over", now);
	if (p2pl__ring_get(p->node, seq) != NULL)
		q_push(&p->rq, seq, now);	/* a flood overflows: dropped */
	p->qseq[seq % P2PL_RING] = seq + 1;
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

/* The neighbour to ask for seq: holds it, not the one that failed us,
 * viewers before the publisher, the least asked first; each misbehaviour
 * point weighs as much as a full queue of requests, so a peer that left
 * one unanswered is asked only when no one else can help. */
static struct p2pl_peer *
holder(struct p2pl_node *n, uint64_t seq, const struct p2pl_peer *not)
{
	struct p2pl_peer *p, *best = NULL;
	int score, bscore = 0;
	uint32_t ties = 0;

	for (p = n->peers; p != NULL; p = p->next) {
		if (p->state != PEER_READY || p == not || p->reqs >= REQ_PER_PEER ||
		    !p2pl__peer_has(p, seq))
			continue;
		score = p->reqs + (p->hello.role == P2PL_ROLE_PUBLISHER ?
		    REQ_PER_PEER : 0) + p->strikes * REQ_PER_PEER;
		if (best != NULL && score > bscore)
			continue;
		if (best == NULL || score < bscore)
			ties = 0;
		/* among equals pick at random, so askers spread their load */
		if (randombytes_uniform(++ties) == 0) {
			best = p;
			bscore = score;
		}
	}
	return best;
}

uint64_t
p2pl__sched_pull(struct p2pl_node *n, uint64_t now)
{
	uint8_t msg[P2PL_MSG_HDR + 8];
	struct p2pl_peer *h, *failed;
	struct want *w;
	uint64_t s, lo, due, wait = TICK_MAX;

	if (n->cfg.role == P2PL_ROLE_PUBLISHER || n->first_heard == 0)
		return TICK_MAX;
	/* before playing: everything heard of, to reach a join point */
	lo = n->playing ? n->play_next : n->first_heard - 1;
	if (!n->cfg.play && n->have_any)
		lo = n->tail;
	if (n->known >= P2PL_RING && lo < n->known - P2PL_RING + 1)
		lo = n->known - P2PL_RING + 1;
	for (s = lo; s <= n->known; s++) {
		if (p2pl__ring_get(n, s) != NULL)
			continue;
		w = want_slot(n, s, now);
		failed = NULL;
		due = w->asked + PULL_TIMEOUT + (w->from ? 2 * w->from->rtt : 0);
		if (w->asked && now < due) {
			if (due - now < wait)
				wait = due - now;
			continue;
		}
		if (w->asked) {
			failed = w->from;
			if (failed != NULL) {
				failed->reqs--;
				p2pl__strike(failed, 1,
				    "claims pieces it does not serve", now);
			}
			w->asked = 0;
			w->from = NULL;
		}
		if (now < w->heard + PULL_DELAY) {
			if (w->heard + PULL_DELAY - now < wait)
				wait = w->heard + PULL_DELAY - now;
			continue;
		}
		if ((h = holder(n, s, failed)) == NULL)
			continue;
		p2pl__send(h, msg, p2pl_wire_u64(msg, P2PL_MSG_REQUEST, s), NULL);
		w->asked = now;
		w->from = h;
		h->reqs++;
		n->st.requests++;
		if (PULL_TIMEOUT < wait)
			wait = PULL_TIMEOUT;
	}
	return wait;
}

void
p2pl__sched_forget(struct p2pl_node *n, struct p2pl_peer *p)
{
	for (int i = 0; i < P2PL_RING; i++)
		if (n->wants[i].from == p) {
			n->wants[i].from = NULL;
			n->wants[i].asked = 0;
		}
}

/* Send p its next piece if the caps allow; 1 if one went. */
static int
send_one(struct p2pl_peer *p, uint64_t now)
{
	struct p2pl_node *n = p->node;
	const struct p2pl_piece *h = p2pl__ring_get(n, n->head);
	struct p2pl_piece *pc;
	uint64_t s, t;

	if (p->state != PEER_READY)
		return 0;
	if (p2pl_rate_bytes(&n->cfg.up, n->st.bitrate) != UINT64_MAX &&
	    n->tokens <= 0)
		return 0;
	if (n->cb.backlog(n->cb.arg, p->conn) >= P2PL_BACKLOG_MAX)
		return 0;
	for (;;) {
		if (q_pop(&p->rq, &s, &t) == 0) {
			/* the asker has given up on it and asked another */
			if (now > t + REQUEST_TTL)
				continue;
		} else if (q_pop(&p->pq, &s, &t) == -1)
			break;
		pc = p2pl__ring_get(n, s);
		/* nothing it has, nor would play too late */
		if (pc == NULL || p2pl__peer_has(p, s) || (h != NULL &&
		    p->latency > 0 && pc->stamp + p->latency < h->stamp))
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
	int sent;

	/* one piece per peer per round, so a capped upload is shared fairly */
	do {
		sent = 0;
		for (p = n->peers; p != NULL; p = p->next)
			sent += send_one(p, now);
	} while (sent > 0);
}
