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
 * A piece we know exists and still lack is requested at once from a
 * neighbour that holds it (after PULL_DELAY when a parent should push it
 * or only the publisher is known to hold it), preferring viewers and
 * relays over the publisher and the least asked; a request unanswered in
 * PULL_TIMEOUT goes to another.  Requests are served
 * before pushes, except at the publisher, whose pushes every viewer waits
 * for; nothing staler than the receiver's latency is sent, and nothing
 * twice to one peer.
 */
#include "node-int.h"

#include <sodium.h>

#define PULL_DELAY 50000		/* for a piece a parent should push */
#define PULL_TIMEOUT 150000		/* plus twice the holder's RTT */
#define REQUEST_TTL 400000		/* a holder drops requests this old */
#define REQ_PER_PEER 8
#define TICK_MAX 1000000
#define PARENT_EVERY 200000		/* µs between reviews of the parents */
#define DECAY_EVERY 10			/* reviews between halvings of counts */
#define MISS_MAX 3			/* pieces in a row others brought first */
#define REFUSE_TIME 5000000		/* µs before asking a refuser again */
#define VIEWER_RESERVE 0.25		/* streams of upload kept for requests */
#define PUBLISHER_RESERVE 0.5

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

/* The want of seq, made if new. */
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
		w->claimer = NULL;
		w->backed = 0;
	}
	return w;
}

/* by (NULL: a piece) says w's piece exists: the first to say so is its
 * claimer; it is backed once another says so too, or at once when by has
 * brought us pieces before. */
static void
claim(struct want *w, struct p2pl_peer *by, uint64_t now)
{
	if (by != NULL && w->claimer == NULL) {
		w->claimer = by;
		w->claimed = now;
	}
	if (by == NULL || by != w->claimer || by->st.pieces_in > 0)
		w->backed = 1;
}

/*
 * True when seq surely exists: a piece as new or newer came, or it was
 * backed.  The publisher is held to have only those, so a lone liar's
 * claims cannot send our requests to it.
 */
int
p2pl__sched_sure(const struct p2pl_node *n, uint64_t seq)
{
	const struct want *w = &n->wants[seq % P2PL_RING];

	if (n->have_any && seq <= n->head)
		return 1;
	return seq <= n->known && w->seq == seq + 1 && w->backed;
}

/*
 * Verified piece pc came: if a HAVE claimed it before it could have
 * reached anyone (earlier than the fastest any piece has come to us from
 * its stamp, by more than CLAIM_SLACK), the claim was made up.  That is
 * a proof, not a pattern: the claimer is dropped at once.
 */
void
p2pl__sched_arrived(struct p2pl_node *n, const struct p2pl_piece *pc,
    uint64_t now)
{
	struct want *w = &n->wants[pc->seq % P2PL_RING];
	int64_t earliest;

	if (w->seq != pc->seq + 1 || w->claimer == NULL || !n->offset_set)
		return;
	earliest = (int64_t)pc->stamp + n->offset;
	if ((int64_t)(w->claimed + CLAIM_SLACK) < earliest)
		p2pl__strike(w->claimer, STRIKE_MAX,
		    "claims pieces before they exist", now);
}

void
p2pl__sched_heard(struct p2pl_node *n, uint64_t seq, uint64_t now,
    struct p2pl_peer *claimer)
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
	/* everything up to it exists: learn of the gap too, and back what
	 * others said of the pieces in it */
	s = claimer == NULL || !n->have_any ? n->known + 1 : n->head + 1;
	if (s > seq || seq - s >= P2PL_RING)
		s = seq;
	for (; s <= seq; s++) {
		if (p2pl__ring_get(n, s) != NULL)
			continue;
		if (s > n->known)
			claim(want_slot(n, s, now), claimer, now);
		else if (n->wants[s % P2PL_RING].seq == s + 1)
			claim(&n->wants[s % P2PL_RING], claimer, now);
	}
	if (seq > n->known)
		n->known = seq;
	else if (p2pl__ring_get(n, seq) == NULL)
		claim(want_slot(n, seq, now), claimer, now);
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
	w->claimer = NULL;
}

void
p2pl__sched_request(struct p2pl_peer *p, uint64_t seq, uint64_t now)
{
	/* asking again for what it was sent: a flood, not a repair */
	if (p->qseq[seq % P2PL_RING] == seq + 1 && p2pl__peer_has(p, seq))
		p2pl__strike(p, 1, "requests pieces over and over", now);
	/* one we do not hold (not made yet, if a liar said it was) is not
	 * marked queued: that would keep us from pushing it once we have it */
	if (p2pl__ring_get(p->node, seq) != NULL &&
	    q_push(&p->rq, seq, now) == 0)	/* a flood overflows: dropped */
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
		    REQ_PER_PEER : 0) + (p->strikes + p->misses) * REQ_PER_PEER;
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
			/* a peer that said it holds the piece is at fault; the
			 * publisher is only assumed to: it is asked less for a
			 * while, never dropped */
			if (failed != NULL) {
				failed->reqs--;
				if (failed->hello.role == P2PL_ROLE_PUBLISHER)
					failed->misses++;
				else
					p2pl__strike(failed, 1,
					    "claims pieces it does not serve",
					    now);
			}
			w->asked = 0;
			w->from = NULL;
		}
		h = holder(n, s, failed);
		/* a parent should bring it, or only the publisher is known to
		 * hold it yet: give the parent, or the swarm, the time to */
		if ((n->parent[SUB(s)] != NULL || (h != NULL &&
		    h->hello.role == P2PL_ROLE_PUBLISHER)) &&
		    now < w->heard + PULL_DELAY) {
			if (w->heard + PULL_DELAY - now < wait)
				wait = w->heard + PULL_DELAY - now;
			continue;
		}
		if (h == NULL)
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
