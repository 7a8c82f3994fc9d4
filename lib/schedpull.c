/*
 * schedpull.c - the pull side of the scheduler: what we know exists and
 * still lack, and whom to ask for it.
 *
 * A piece we know exists and still lack is requested at once from a
 * neighbour that holds it (after PULL_DELAY when a parent should push it
 * or only the publisher is known to hold it), preferring viewers and
 * relays over the publisher and the least asked; a request unanswered in
 * PULL_TIMEOUT goes to another.  A claim that a piece exists counts once
 * another neighbour backs it, or a piece as new or newer comes.  sched.c
 * holds the push side, the queues and the substream parents.
 */
#include "node-int.h"

#include <sodium.h>

#define PULL_DELAY 50000		/* for a piece a parent should push */
#define PULL_TIMEOUT 150000		/* plus twice the holder's RTT */
#define REQ_PER_PEER 8
#define TICK_MAX 1000000

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
	    p2pl__q_push(&p->rq, seq, now) == 0)	/* a flood overflows: dropped */
		p->qseq[seq % P2PL_RING] = seq + 1;
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
