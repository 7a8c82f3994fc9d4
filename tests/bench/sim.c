/*
 * sim.c - p2pl-sim: a discrete-event simulator of one swarm.
 *
 * It runs the protocol core itself (lib/node.c, sched.c, pex.c: the same
 * handshake, have-maps, push and pull scheduler, upload caps, peer
 * exchange and playout deadlines as p2pl-publish and p2pl-fetch) for one
 * publisher and N viewers in one process, on a simulated clock.  What the
 * network driver (lib/net.c) does with sockets is modelled instead:
 *
 *  - every node has one uplink that sends one message at a time at its
 *    rate: a message leaves at max(now, uplink free) + size / rate, and
 *    what has not left yet is the connection's backlog the core asks for;
 *  - every connection has a one-way latency, drawn uniformly at random
 *    between --latency MIN:MAX when it is dialled; delivery per direction
 *    is in order, as on TCP; download capacity and loss are not modelled;
 *  - a dial reaches the other side after one latency, which accepts it or,
 *    when full or gone, closes it; like net.c each node keeps 4 outgoing
 *    connections to its candidates (the URI's seed, the publisher, first);
 *  - viewers join at random over the first --join seconds; with --tracker
 *    K a newcomer also learns K random members, as an announce would tell;
 *  - with --churn FRAC:SECS, every SECS a FRAC of the viewers leave (their
 *    connections close) and restart half a second later on a new port.
 *
 * The publisher makes one piece every 50 ms of the stream's rate (a join
 * point every --gop seconds) and signs it with Ed25519, as p2pl-publish
 * cuts an ffmpeg feed.  Ticks: the real driver ticks the core after every
 * read; the simulator ticks a node at most 1 ms after its last input.
 *
 * Verification: with --verify ed25519 every viewer checks every piece's
 * signature, as p2pl-fetch does.  The default, --verify bytes, checks each
 * piece once when it is made, and a viewer then compares the bytes it
 * received with that verified piece (through the core's verify hook) and
 * shares the one copy: the same accept/refuse decision, without the CPU
 * and memory of N signature checks and copies.  Simulated time is the
 * same either way; only the simulator's own run time differs.
 *
 * The core's randomness (libsodium's randombytes) is replaced by a seeded
 * generator, so a run with the same --seed gives the same figures.
 *
 * Output: one JSON object on stdout (fields in doc/BENCH.md, "Benchmark").
 */
#include "node-int.h"	/* only to know which lines of it to prefetch */
#include "piece.h"
#include "histogram.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define T0 1700000000000000ull
#define PORT0 7000
#define WANT_OUT 4		/* outgoing connections kept, as net.c */
#define TICK_SOON 1000		/* µs from an input to the node's tick */
#define PIECE_US 50000		/* p2pl-publish's time bound on a piece */
#define TABLE 4096		/* made pieces kept for --verify bytes */
#define BUCKET_SHIFT 10		/* a bucket of the queue: 1,024 µs */
#define NBUCKET 2048		/* buckets ahead: 2.1 s; later events wait
				 * in a heap of their own */
#define EV_SMALL 64		/* message bytes an event off the free list holds */

enum { EV_MSG, EV_TICK, EV_ACCEPT, EV_CLOSE, EV_PIECE, EV_JOIN, EV_FLUSH,
    EV_CHURN };

struct conn;

/* One end of a connection, the conn the core knows it by. */
struct ep {
	struct conn *c;
	int side;
	uint32_t node, inc;	/* owner and its incarnation */
	struct p2pl_peer *peer;
	size_t slot;		/* in its node's eps, while peer is set */
	int outgoing, open;
	uint32_t rnode;		/* dialled node and port (outgoing) */
	uint16_t rport;
	uint64_t lat;		/* one-way, µs */
	/* departures not yet due: the backlog, oldest first */
	uint64_t *dt;
	uint32_t *dl;
	size_t dhead, dn, dcap, dbytes;
	uint64_t last_depart;
};

struct conn {
	struct ep e[2];
	int refs;		/* open ends + events that point here */
};

struct ev {
	struct ev *free_next;	/* on the free list */
	int type;
	uint32_t node, inc;
	struct ep *ep;
	struct p2pl_piece *piece;
	size_t off, len;
	uint8_t data[];
};

/* What to prefetch for an event, known without reading it. */
enum { PF_NONE, PF_NODE, PF_PEERS, PF_PIECE };

struct hent {
	uint64_t t, seq;
	struct ev *e;
	uint32_t node;		/* whose event it is, for PF_ kind */
	uint16_t kind;
	uint16_t slot;		/* PF_PIECE: the piece's place in the ring */
};
_Static_assert(P2PL_RING <= 65536, "a ring slot fits 16 bits");

/* A binary heap of events. */
struct heap {
	struct hent *v;
	size_t n, cap;
};

/* Part of a bucket's events, unordered; spent chunks are reused. */
#define CHUNK 62
struct chunk {
	struct chunk *next;
	size_t n;
	struct hent v[CHUNK];
};

/* A node's place in the swarm, over its incarnations. */
struct sn {
	struct p2pl_node *node;	/* NULL while out of the swarm */
	uint32_t idx, inc;
	uint64_t rate;		/* uplink bytes/s */
	uint64_t up_free;	/* when the uplink is idle */
	uint64_t tick_at;
	int flush_pending;
	double mult;		/* its upload cap, times the stream */
	uint64_t joined, started;
	struct ep **eps;	/* the ends that have a peer in the core */
	size_t neps, capeps;
	/* totals of finished incarnations */
	uint64_t played, skipped, bytes_out, bytes_in, dups;
};

static struct {
	/* settings */
	int n;
	double seconds, join, gop, mult, pub_mult, slow_frac, slow_mult;
	double churn_frac, churn_every, latency_s;
	uint64_t bps, link, lat_min, lat_max, seed;
	int tracker, real_verify, verbose, push, trees;
	/* state */
	uint64_t now, seq;
	struct ev *ev_free;	/* spent events of EV_SMALL bytes, for reuse */
	/* the event queue: a heap of the current bucket's events, the
	 * events of the buckets after it, and a heap of those beyond */
	struct heap near, far;
	struct chunk *bucket[NBUCKET], *chunk_free;
	size_t nchunks;
	uint64_t cur;		/* the current bucket: time >> BUCKET_SHIFT */
	size_t nbucketed;	/* events in bucket[] */
	struct sn *sn;
	struct p2pl_key key;
	struct p2pl_piece *table[TABLE];
	uint64_t made, stream_bytes, next_seq;
	uint64_t rng, core_rng;
	uint64_t events, msgs, msg_bytes;
	uint64_t evtype[EV_CHURN + 1], stale, hmax;
	/* results */
	struct p2pl_hist delay;
	uint64_t delay_max;
	uint64_t *startup;
	size_t nstartup, capstartup;
} S;

static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
unif(void)
{
	return (double)(mix(&S.rng) >> 11) / 9007199254740992.0;
}

/* libsodium's randombytes, seeded: the core's choices repeat per --seed. */
static const char *rb_name(void) { return "p2pl-sim"; }
static uint32_t rb_random(void) { return (uint32_t)(mix(&S.core_rng) >> 32); }
static void rb_stir(void) { }
static int rb_close(void) { return 0; }

static void
rb_buf(void *const buf, const size_t size)
{
	uint8_t *b = buf;
	uint64_t v;

	for (size_t i = 0; i < size; i += 8) {
		v = mix(&S.core_rng);
		memcpy(b + i, &v, size - i < 8 ? size - i : 8);
	}
}

static struct randombytes_implementation rb_impl = {
	rb_name, rb_random, rb_stir, NULL, rb_buf, rb_close
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "p2pl-sim: out of memory\n");
		exit(1);
	}
	return p;
}

/*
 * The event queue, ordered on (time, order of insertion).  One binary
 * heap of every event was most of the run time at 100,000 peers: millions
 * of entries, each pop a chain of cache misses.  Events are instead put
 * in buckets of 1,024 µs, unordered, and only the current bucket's are in
 * a heap, small enough to stay in the cache; the order is the same.
 */
static int
hless(const struct hent *a, const struct hent *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Room for want events in h. */
static void
reserve(struct heap *h, size_t want)
{
	if (want <= h->cap)
		return;
	while (h->cap < want)
		h->cap = h->cap ? h->cap * 2 : 256;
	if ((h->v = realloc(h->v, h->cap * sizeof(*h->v))) == NULL) {
		fprintf(stderr, "p2pl-sim: out of memory\n");
		exit(1);
	}
}

static void
sift_down(struct heap *h, size_t i, struct hent x)
{
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && hless(&h->v[c + 1], &h->v[c]))
			c++;
		if (!hless(&h->v[c], &x))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = x;
}

static void
heap_push(struct heap *h, struct hent x)
{
	size_t i;

	reserve(h, h->n + 1);
	for (i = h->n++; i > 0 && hless(&x, &h->v[(i - 1) / 2]); i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = x;
}

static struct hent
heap_pop(struct heap *h)
{
	struct hent top = h->v[0];

	h->n--;
	if (h->n > 0)
		sift_down(h, 0, h->v[h->n]);
	return top;
}

static void
push(uint64_t t, struct ev *e)
{
	struct hent x = { t, S.seq++, e, 0, PF_NONE, 0 };
	uint64_t b = t >> BUCKET_SHIFT;
	struct chunk **k, *c;

	if (e->type == EV_MSG || e->type == EV_ACCEPT || e->type == EV_CLOSE) {
		x.node = e->ep->node;
		x.kind = e->piece != NULL ? PF_PIECE : PF_NODE;
		if (e->piece != NULL)
			x.slot = (uint16_t)(e->piece->seq % P2PL_RING);
	} else if (e->type == EV_TICK || e->type == EV_FLUSH) {
		x.node = e->node;
		x.kind = PF_PEERS;
	}
	if (b <= S.cur)
		heap_push(&S.near, x);
	else if (b < S.cur + NBUCKET) {
		k = &S.bucket[b % NBUCKET];
		if (*k == NULL || (*k)->n == CHUNK) {
			if ((c = S.chunk_free) != NULL)
				S.chunk_free = c->next;
			else {
				c = xmalloc(sizeof(*c));
				S.nchunks++;
			}
			c->n = 0;
			c->next = *k;
			*k = c;
		}
		(*k)->v[(*k)->n++] = x;
		S.nbucketed++;
	} else
		heap_push(&S.far, x);
}

/* The next event, left in the queue; NULL if there is none. */
static const struct hent *
peek(void)
{
	struct chunk *c;

	while (S.near.n == 0) {
		if (S.nbucketed == 0 && S.far.n == 0)
			return NULL;
		if (S.nbucketed == 0)	/* nothing near: on to the far one */
			S.cur = S.far.v[0].t >> BUCKET_SHIFT;
		else
			S.cur++;
		/* the bucket's events become the heap */
		while ((c = S.bucket[S.cur % NBUCKET]) != NULL) {
			reserve(&S.near, S.near.n + c->n);
			memcpy(S.near.v + S.near.n, c->v, c->n * sizeof(*c->v));
			S.near.n += c->n;
			S.nbucketed -= c->n;
			S.bucket[S.cur % NBUCKET] = c->next;
			c->next = S.chunk_free;
			S.chunk_free = c;
		}
		for (size_t i = S.near.n / 2; i-- > 0; )
			sift_down(&S.near, i, S.near.v[i]);
		while (S.far.n > 0 && S.far.v[0].t >> BUCKET_SHIFT == S.cur)
			heap_push(&S.near, heap_pop(&S.far));
	}
	return &S.near.v[0];
}

static struct hent
pop(void)
{
	return heap_pop(&S.near);
}

static struct ev *
ev_new(int type, size_t datalen)
{
	struct ev *e;

	if (datalen <= EV_SMALL && S.ev_free != NULL) {
		e = S.ev_free;
		S.ev_free = e->free_next;
	} else
		e = xmalloc(sizeof(*e) + (datalen <= EV_SMALL ? EV_SMALL :
		    datalen));
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static void
ev_free(struct ev *e)
{
	if (e->type == EV_MSG && e->piece == NULL && e->len > EV_SMALL) {
		free(e);
		return;
	}
	e->free_next = S.ev_free;
	S.ev_free = e;
}

static void
ev_node(int type, struct sn *s, uint64_t t)
{
	struct ev *e = ev_new(type, 0);

	e->node = s->idx;
	e->inc = s->inc;
	push(t, e);
}

static void
ev_ep(int type, struct ep *ep, uint64_t t)
{
	struct ev *e = ev_new(type, 0);

	e->ep = ep;
	ep->c->refs++;
	push(t, e);
}

static void
conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	for (int i = 0; i < 2; i++) {
		free(c->e[i].dt);
		free(c->e[i].dl);
	}
	free(c);
}

/* ep now has a peer in its node's core */
static void
eps_add(struct ep *ep)
{
	struct sn *s = &S.sn[ep->node];

	if (s->neps == s->capeps) {
		s->capeps = s->capeps ? s->capeps * 2 : 8;
		s->eps = realloc(s->eps, s->capeps * sizeof(*s->eps));
		if (s->eps == NULL) {
			fprintf(stderr, "p2pl-sim: out of memory\n");
			exit(1);
		}
	}
	ep->slot = s->neps;
	s->eps[s->neps++] = ep;
}

static void
eps_del(struct ep *ep)
{
	struct sn *s = &S.sn[ep->node];

	s->eps[ep->slot] = s->eps[--s->neps];
	s->eps[ep->slot]->slot = ep->slot;
}

/*
 * The time goes in cache misses: each event touches a node, its peers
 * and their connections, cold among 100,000 nodes.  Before an event is
 * handled, the lines its node's tick and scheduler read are prefetched,
 * so the misses overlap instead of coming one after the other.  It
 * changes nothing but the run time.
 */
#define PF(p) __builtin_prefetch((const void *)(p))

static void
prefetch_node(const struct hent *h)
{
	const struct sn *s = &S.sn[h->node];
	const struct p2pl_node *n = s->node;
	const struct p2pl_peer *p;
	const struct ep *ep;

	if (n == NULL)
		return;
	PF(&n->cfg);
	PF(&n->peers);
	PF(&n->have_any);
	PF(&n->first_heard);
	PF(&n->tokens);
	PF(&n->far);
	PF(&n->rate_t);
	if (h->kind == PF_NODE)
		return;
	for (size_t i = 0; i < s->neps; i++) {
		ep = s->eps[i];
		p = ep->peer;
		PF(ep);
		PF(&ep->last_depart);
		PF(&p->state);
		PF(&p->subscribed);
		PF(&p->born);
		PF(&p->partial);
		PF(&p->rq.head);
		PF(&p->pq.head);
		if (h->kind == PF_PIECE) {	/* who has it, who gets it */
			PF(&p->hseq[h->slot]);
			PF(&p->qseq[h->slot]);
		}
	}
}

/*
 * For the event at the head of the queue, what its handling reads; for
 * the two after it, the event and its node's place.
 */
static void
prefetch_next(void)
{
	const struct hent *h;
	const struct ev *e;

	if ((h = peek()) == NULL)
		return;
	for (size_t i = 1; i < 3 && i < S.near.n; i++) {
		PF(S.near.v[i].e);
		if (S.near.v[i].kind != PF_NONE)
			PF(&S.sn[S.near.v[i].node]);
	}
	if (h->kind == PF_NONE)
		return;
	prefetch_node(h);
	e = h->e;
	if (e->type == EV_MSG || e->type == EV_ACCEPT || e->type == EV_CLOSE) {
		PF(e->ep);
		if (e->ep->peer != NULL)
			PF(&e->ep->peer->state);
	}
}

static void
node_addr(uint32_t idx, uint32_t inc, struct p2pl_addr *a)
{
	uint32_t v = idx + 1;

	memset(a, 0, sizeof(*a));
	snprintf(a->host, sizeof(a->host), "10.%u.%u.%u", v >> 16 & 255,
	    v >> 8 & 255, v & 255);
	a->port = (uint16_t)(PORT0 + inc % 50000);
}

/* The node listening at a, or -1. */
static long
addr_node(const struct p2pl_addr *a)
{
	uint8_t b[4];
	uint32_t v;

	if (inet_pton(AF_INET, a->host, b) != 1 || b[0] != 10)
		return -1;
	v = (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	if (v == 0 || v > (uint32_t)S.n + 1)
		return -1;
	return (long)v - 1;
}

static void
tick_soon(struct sn *s)
{
	if (s->node != NULL && s->tick_at > S.now + TICK_SOON) {
		s->tick_at = S.now + TICK_SOON;
		ev_node(EV_TICK, s, s->tick_at);
	}
}

static size_t
backlog_of(struct ep *ep)
{
	/* all of it gone: no need to look at the departures themselves */
	if (ep->last_depart <= S.now) {
		ep->dhead = ep->dn = ep->dbytes = 0;
		return 0;
	}
	while (ep->dn > 0 && ep->dt[ep->dhead] <= S.now) {
		ep->dbytes -= ep->dl[ep->dhead];
		ep->dhead = (ep->dhead + 1) % ep->dcap;
		ep->dn--;
	}
	return ep->dbytes;
}

static void
backlog_add(struct ep *ep, uint64_t depart, size_t len)
{
	size_t i, ncap;
	uint64_t *dt;
	uint32_t *dl;

	backlog_of(ep);
	if (ep->dn == ep->dcap) {
		ncap = ep->dcap ? ep->dcap * 2 : 8;
		dt = xmalloc(ncap * sizeof(*dt));
		dl = xmalloc(ncap * sizeof(*dl));
		for (i = 0; i < ep->dn; i++) {
			dt[i] = ep->dt[(ep->dhead + i) % ep->dcap];
			dl[i] = ep->dl[(ep->dhead + i) % ep->dcap];
		}
		free(ep->dt);
		free(ep->dl);
		ep->dt = dt;
		ep->dl = dl;
		ep->dcap = ncap;
		ep->dhead = 0;
	}
	i = (ep->dhead + ep->dn++) % ep->dcap;
	ep->dt[i] = depart;
	ep->dl[i] = (uint32_t)len;
	ep->dbytes += len;
}

/* The core queues bytes on a connection: they leave in turn on the uplink. */
static void
cb_send(void *arg, void *conn, const uint8_t *data, size_t len,
    struct p2pl_piece *piece)
{
	struct sn *s = arg;
	struct ep *ep = conn, *other = &ep->c->e[!ep->side];
	uint64_t start = s->up_free > S.now ? s->up_free : S.now;
	uint64_t depart = start + (len * 1000000 + s->rate - 1) / s->rate;
	struct ev *e;

	s->up_free = depart;
	ep->last_depart = depart;
	backlog_add(ep, depart, len);
	if (!other->open)
		return;
	if (piece != NULL) {
		e = ev_new(EV_MSG, 0);
		e->piece = p2pl_piece_ref(piece);
		e->off = (size_t)(data - piece->msg);
	} else {
		e = ev_new(EV_MSG, len);
		memcpy(e->data, data, len);
	}
	e->len = len;
	e->ep = other;
	other->c->refs++;
	push(depart + ep->lat, e);
	S.msgs++;
	S.msg_bytes += len;
	/* like libevent's write callback below the low watermark */
	if (ep->dbytes >= P2PL_BACKLOG_MAX / 2 && !s->flush_pending) {
		s->flush_pending = 1;
		ev_node(EV_FLUSH, s, s->up_free);
	}
}

static size_t
cb_backlog(void *arg, void *conn)
{
	(void)arg;
	return backlog_of(conn);
}

static void
cb_deliver(void *arg, struct p2pl_piece *p)
{
	struct sn *s = arg;
	uint64_t d = S.now > p->stamp ? S.now - p->stamp : 0;

	p2pl_hist_add(&S.delay, (int64_t)d);
	if (d > S.delay_max)
		S.delay_max = d;
	if (s->started == 0) {
		s->started = S.now;
		if (S.nstartup == S.capstartup) {
			S.capstartup = S.capstartup ? S.capstartup * 2 : 1024;
			S.startup = realloc(S.startup, S.capstartup *
			    sizeof(*S.startup));
			if (S.startup == NULL)
				exit(1);
		}
		S.startup[S.nstartup++] = S.now - s->joined;
	}
}

static void
conn_close(struct ep *ep, int bad)
{
	struct sn *s = &S.sn[ep->node];
	struct ep *other = &ep->c->e[!ep->side];
	struct p2pl_addr a;
	uint64_t t;

	if (!ep->open)
		return;
	ep->open = 0;
	if (ep->peer != NULL) {
		if (bad && p2pl_peer_benign(ep->peer))
			bad = 0;
		p2pl_node_peer_del(s->node, ep->peer);
		ep->peer = NULL;
		eps_del(ep);
	}
	if (ep->outgoing) {
		node_addr(ep->rnode, 0, &a);
		a.port = ep->rport;
		p2pl_node_dial_failed(s->node, &a, bad, S.now);
	}
	if (other->open) {
		/* the other end sees the close after what was sent before it */
		t = ep->last_depart > S.now ? ep->last_depart : S.now;
		ev_ep(EV_CLOSE, other, t + ep->lat);
	}
	conn_unref(ep->c);
}

static void
cb_drop(void *arg, void *conn, const char *why)
{
	(void)arg;
	(void)why;
	conn_close(conn, 0);
}

/* --verify bytes: the piece made and verified once, if these are its bytes. */
static struct p2pl_piece *
cb_verify(void *arg, const uint8_t *body, size_t len, char *err, size_t errlen)
{
	struct p2pl_piece *p;
	uint64_t seq, stamp;
	unsigned flags;

	(void)arg;
	if (p2pl_piece_peek(body, len, &seq, &stamp, &flags, err, errlen) == -1)
		return NULL;
	p = S.table[seq % TABLE];
	if (p != NULL && p->seq == seq && p->msglen == len + P2PL_MSG_HDR &&
	    memcmp(p->msg + P2PL_MSG_HDR, body, len) == 0)
		return p2pl_piece_ref(p);
	/* anything else gets the real check (and fails it here) */
	return p2pl_piece_verify(S.key.pk, body, len, err, errlen);
}

static void
dial(struct sn *s, const struct p2pl_addr *a)
{
	struct conn *c = xmalloc(sizeof(*c));
	struct ep *d = &c->e[0], *acc = &c->e[1];
	long target = addr_node(a);
	struct sn *t = target >= 0 ? &S.sn[target] : NULL;

	memset(c, 0, sizeof(*c));
	c->refs = 2;
	d->c = acc->c = c;
	acc->side = 1;
	d->node = s->idx;
	d->inc = s->inc;
	d->outgoing = 1;
	d->open = acc->open = 1;
	d->rnode = target >= 0 ? (uint32_t)target : 0;
	d->rport = a->port;
	d->lat = acc->lat = S.lat_min + (uint64_t)(unif() *
	    (double)(S.lat_max - S.lat_min));
	if (t != NULL && t->node != NULL && a->port == PORT0 + t->inc % 50000) {
		acc->node = t->idx;
		acc->inc = t->inc;
		/* before the HELLO the dialler queues, so it lands first */
		ev_ep(EV_ACCEPT, acc, S.now + d->lat);
	} else {
		acc->open = 0;	/* refused: nobody listens there */
		c->refs--;
		ev_ep(EV_CLOSE, d, S.now + 2 * d->lat);
	}
	d->peer = p2pl_node_peer_new(s->node, d, 1, a, S.now);
	if (d->peer == NULL) {
		d->open = 0;
		conn_unref(c);
		p2pl_node_dial_failed(s->node, a, 0, S.now);
	} else
		eps_add(d);
}

static void
dial_more(struct sn *s)
{
	struct p2pl_addr a;

	while (s->node != NULL && p2pl_node_outgoing(s->node) < WANT_OUT &&
	    p2pl_node_pick(s->node, S.now, &a) == 0)
		dial(s, &a);
}

static void
on_accept(struct ep *acc)
{
	struct sn *t = &S.sn[acc->node];
	struct ep *d = &acc->c->e[0];
	struct p2pl_addr a;

	if (!acc->open)
		return;
	if (!d->open || t->node == NULL || t->inc != acc->inc) {
		conn_close(acc, 0);
		return;
	}
	node_addr(d->node, d->inc, &a);
	a.port = 40000;		/* an ephemeral port; the core ignores it */
	acc->peer = p2pl_node_peer_new(t->node, acc, 0, &a, S.now);
	if (acc->peer == NULL) {	/* full: close at once, as net.c */
		conn_close(acc, 0);
		return;
	}
	eps_add(acc);
	tick_soon(t);
}

static void
on_msg(struct ev *e)
{
	struct ep *ep = e->ep;
	struct sn *s = &S.sn[ep->node];
	const uint8_t *b = e->piece != NULL ? e->piece->msg + e->off : e->data;
	long r;

	if (!ep->open || ep->peer == NULL)
		return;
	r = p2pl_peer_input(ep->peer, b, e->len, S.now);
	if (r < 0 || (size_t)r != e->len) {
		if (S.verbose > 1)
			fprintf(stderr, "p2pl-sim: node %u: %s\n", s->idx,
			    p2pl_peer_error(ep->peer));
		conn_close(ep, 1);
		dial_more(s);
	}
	tick_soon(s);
}

static struct p2pl_node *
node_start(struct sn *s, int role, double mult)
{
	struct p2pl_node_cfg cfg;
	struct p2pl_node_cb cb = { s, cb_send, cb_backlog, cb_deliver, cb_drop,
	    S.real_verify ? NULL : cb_verify };

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.key, S.key.pk, P2PL_KEYLEN);
	cfg.role = role;
	cfg.port = (uint16_t)(PORT0 + s->inc % 50000);
	cfg.play = role == P2PL_ROLE_VIEWER;
	/* p2pl-fetch's and p2pl-publish's defaults */
	cfg.latency = role == P2PL_ROLE_VIEWER ? (uint64_t)(S.latency_s * 1e6) : 0;
	cfg.window = role == P2PL_ROLE_VIEWER ? 0 : 10000000;
	cfg.push = role == P2PL_ROLE_PUBLISHER ? S.push : 0;
	cfg.trees = role == P2PL_ROLE_VIEWER && S.trees;
	cfg.up.kind = P2PL_RATE_MULT;
	cfg.up.mult = mult;
	s->mult = mult;
	s->rate = S.link / 8;	/* the access link; the core caps below it */
	s->up_free = S.now;
	s->tick_at = UINT64_MAX;
	s->joined = S.now;
	s->started = 0;
	return p2pl_node_new(&cfg, &cb);
}

static void
join(struct sn *s)
{
	struct p2pl_addr a;
	double mult = S.mult;
	long k;

	if (S.slow_frac > 0 && (double)s->idx <= S.slow_frac * S.n)
		mult = S.slow_mult;	/* the first FRAC of viewers */
	if ((s->node = node_start(s, P2PL_ROLE_VIEWER, mult)) == NULL) {
		fprintf(stderr, "p2pl-sim: cannot make a node\n");
		exit(1);
	}
	node_addr(0, 0, &a);
	p2pl_node_add_candidate(s->node, &a, 1);	/* the URI's peer */
	/* a tracker's answer: random members, a few tries each */
	for (int i = 0, got = 0; got < S.tracker && i < S.tracker * 4; i++) {
		k = 1 + (long)(unif() * S.n);
		if (k > S.n || k == (long)s->idx || S.sn[k].node == NULL)
			continue;
		node_addr((uint32_t)k, S.sn[k].inc, &a);
		p2pl_node_add_candidate(s->node, &a, 0);
		got++;
	}
	s->tick_at = S.now;
	ev_node(EV_TICK, s, S.now);
}

static void
leave(struct sn *s)
{
	struct p2pl_node_stats st;
	void *conn;

	while ((conn = p2pl_node_first_conn(s->node)) != NULL)
		conn_close(conn, 0);
	p2pl_node_stats(s->node, &st);
	s->played += st.played;
	s->skipped += st.skipped;
	s->bytes_out += st.bytes_out;
	s->bytes_in += st.bytes_in;
	s->dups += st.dups;
	p2pl_node_free(s->node);
	s->node = NULL;
	s->inc++;
}

static void
make_piece(void)
{
	uint8_t data[P2PL_PAYLOAD_MAX];
	struct sn *pub = &S.sn[0];
	struct p2pl_piece *p, *chk;
	uint64_t len, seq = S.next_seq++;
	unsigned flags = 0;
	char err[P2PL_ERRLEN];
	uint64_t per_gop = (uint64_t)(S.gop * 1e6 / PIECE_US + 0.5);

	if (per_gop == 0 || (seq - 1) % per_gop == 0)
		flags |= P2PL_PIECE_JOIN;
	if (seq == 1)
		flags |= P2PL_PIECE_RESTART;
	/* the stream's bytes in 50 ms, give or take a fifth */
	len = (uint64_t)((double)S.bps / 8 * PIECE_US / 1e6 * (0.8 + 0.4 * unif()));
	if (len < 188)
		len = 188;
	if (len > P2PL_PAYLOAD_MAX)
		len = P2PL_PAYLOAD_MAX;
	for (uint64_t i = 0; i < len; i++)
		data[i] = (uint8_t)(seq * 31 + i);
	p = p2pl_piece_make(&S.key, seq, S.now, flags, data, len, err,
	    sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "p2pl-sim: %s\n", err);
		exit(1);
	}
	/* verified once here; --verify bytes compares against this copy */
	chk = p2pl_piece_verify(S.key.pk, p->msg + P2PL_MSG_HDR,
	    p->msglen - P2PL_MSG_HDR, err, sizeof(err));
	if (chk == NULL) {
		fprintf(stderr, "p2pl-sim: %s\n", err);
		exit(1);
	}
	p2pl_piece_unref(S.table[seq % TABLE]);
	S.table[seq % TABLE] = chk;
	S.made++;
	S.stream_bytes += p->msglen;
	p2pl_node_publish(pub->node, p, S.now);
	tick_soon(pub);
}

static void
churn(void)
{
	int k = (int)(S.churn_frac * S.n + 0.5);
	long i;

	for (int j = 0; j < k; j++) {
		i = 1 + (long)(unif() * S.n);
		if (i > S.n || S.sn[i].node == NULL)
			continue;
		leave(&S.sn[i]);
		ev_node(EV_JOIN, &S.sn[i], S.now + 500000);
	}
}

static void
handle(struct ev *e)
{
	struct sn *s = e->type == EV_MSG || e->type == EV_ACCEPT ||
	    e->type == EV_CLOSE ? NULL : &S.sn[e->node];
	uint64_t w;

	S.evtype[e->type]++;
	switch (e->type) {
	case EV_MSG:
		on_msg(e);
		break;
	case EV_ACCEPT:
		on_accept(e->ep);
		break;
	case EV_CLOSE:
		if (e->ep->open) {
			s = &S.sn[e->ep->node];
			conn_close(e->ep, 0);
			dial_more(s);
		}
		break;
	case EV_TICK:
		if (s->node == NULL || s->inc != e->inc || s->tick_at != S.now) {
			S.stale++;
			break;
		}
		w = p2pl_node_tick(s->node, S.now);
		s->tick_at = S.now + w;
		ev_node(EV_TICK, s, s->tick_at);
		dial_more(s);
		break;
	case EV_FLUSH:
		s->flush_pending = 0;
		if (s->node != NULL)
			p2pl_node_flush(s->node, S.now);
		break;
	case EV_PIECE:
		make_piece();
		ev_node(EV_PIECE, s, S.now + PIECE_US);
		break;
	case EV_JOIN:
		if (s->node == NULL)
			join(s);
		break;
	case EV_CHURN:
		churn();
		ev_node(EV_CHURN, s, S.now + (uint64_t)(S.churn_every * 1e6));
		break;
	}
	if (e->ep != NULL)
		conn_unref(e->ep->c);
	p2pl_piece_unref(e->piece);
	ev_free(e);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of n sorted values (nearest rank). */
static double
qd(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)ceil(q * (double)n);
	return v[i > 0 ? i - 1 : 0];
}

static double
qu(const uint64_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)ceil(q * (double)n);
	return (double)v[i > 0 ? i - 1 : 0] / 1e6;
}

static void
report(double wall)
{
	struct p2pl_node_stats st;
	struct rusage ru;
	double *up = xmalloc((size_t)S.n * sizeof(*up));
	uint64_t played = 0, skipped = 0, dups = 0, in = 0, started = 0;
	uint64_t requests = 0;
	uint64_t pub_out;
	size_t nup = 0;

	for (int i = 1; i <= S.n; i++) {
		struct sn *s = &S.sn[i];
		uint64_t o = s->bytes_out, b = s->bytes_in;

		if (s->node != NULL) {
			p2pl_node_stats(s->node, &st);
			played += st.played;
			skipped += st.skipped;
			dups += st.dups;
			in += st.pieces_in;
			requests += st.requests;
			o += st.bytes_out;
			b += st.bytes_in;
			started += s->started != 0;
		}
		played += s->played;
		skipped += s->skipped;
		dups += s->dups;
		if (b > 0)
			up[nup++] = (double)o / (double)b;
	}
	p2pl_node_stats(S.sn[0].node, &st);
	pub_out = st.bytes_out;
	qsort(up, nup, sizeof(*up), cmp_dbl);
	qsort(S.startup, S.nstartup, sizeof(*S.startup), cmp_u64);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"peers\":%d,\"seconds\":%.1f,\"stream_bps\":%llu,"
	    "\"pieces\":%llu,\"delay_p50\":%.3f,\"delay_p95\":%.3f,"
	    "\"delay_p99\":%.3f,\"delay_max\":%.3f,\"continuity\":%.5f,"
	    "\"played\":%llu,\"skipped\":%llu,\"started\":%llu,"
	    "\"startup_p50\":%.3f,\"startup_p99\":%.3f,\"publisher_ratio\":%.3f,"
	    "\"upload_min\":%.2f,\"upload_p10\":%.2f,\"upload_median\":%.2f,"
	    "\"upload_p90\":%.2f,\"upload_max\":%.2f,\"dup_ratio\":%.4f,\"requests_per_piece\":%.3f,"
	    "\"viewer_up\":%.2f,\"slow\":[%.2f,%.2f],\"publisher_up\":%.2f,"
	    "\"play_latency\":%.2f,\"link_bps\":%llu,\"latency_ms\":[%g,%g],\"tracker\":%d,\"push\":%d,\"trees\":%d,"
	    "\"churn\":[%.2f,%.0f],\"verify\":\"%s\",\"seed\":%llu,"
	    "\"events\":%llu,\"wall_s\":%.1f,\"rss_mib\":%.0f}\n",
	    S.n, S.seconds, (unsigned long long)S.bps,
	    (unsigned long long)S.made, p2pl_hist_quantile(&S.delay, 0.5),
	    p2pl_hist_quantile(&S.delay, 0.95), p2pl_hist_quantile(&S.delay, 0.99),
	    (double)S.delay_max / 1e6,
	    played + skipped ? (double)played / (double)(played + skipped) : 0,
	    (unsigned long long)played, (unsigned long long)skipped,
	    (unsigned long long)started, qu(S.startup, S.nstartup, 0.5),
	    qu(S.startup, S.nstartup, 0.99),
	    S.stream_bytes ? (double)pub_out / (double)S.stream_bytes : 0,
	    qd(up, nup, 0), qd(up, nup, 0.1), qd(up, nup, 0.5), qd(up, nup, 0.9),
	    qd(up, nup, 1), in ? (double)dups / (double)in : 0,
	    in ? (double)requests / (double)in : 0, S.mult, S.slow_frac,
	    S.slow_mult, S.pub_mult, S.latency_s,
	    (unsigned long long)S.link, (double)S.lat_min / 1000,
	    (double)S.lat_max / 1000, S.tracker,
	    S.push ? S.push : 1, S.trees, S.churn_frac, S.churn_every, S.real_verify ? "ed25519" : "bytes",
	    (unsigned long long)S.seed, (unsigned long long)S.events, wall,
	    (double)ru.ru_maxrss / 1024);
	free(up);
}

static void
run(void)
{
	struct sn *pub = &S.sn[0];
	uint64_t end = T0 + (uint64_t)(S.seconds * 1e6), next_note = T0;
	uint64_t wall0 = p2pl_mono_us();
	struct rusage ru;
	const struct hent *top;
	struct hent h;

	S.now = T0;
	S.cur = T0 >> BUCKET_SHIFT;
	if ((pub->node = node_start(pub, P2PL_ROLE_PUBLISHER, S.pub_mult)) == NULL) {
		fprintf(stderr, "p2pl-sim: cannot make the publisher\n");
		exit(1);
	}
	S.next_seq = 1;
	ev_node(EV_PIECE, pub, T0);
	pub->tick_at = T0;
	ev_node(EV_TICK, pub, T0);
	for (int i = 1; i <= S.n; i++)
		ev_node(EV_JOIN, &S.sn[i], T0 + 100000 +
		    (uint64_t)(unif() * S.join * 1e6));
	if (S.churn_frac > 0)
		ev_node(EV_CHURN, pub, T0 + (uint64_t)(S.churn_every * 1e6));
	while ((top = peek()) != NULL && top->t <= end) {
		if (S.near.n + S.nbucketed + S.far.n > S.hmax)
			S.hmax = S.near.n + S.nbucketed + S.far.n;
		h = pop();
		prefetch_next();
		S.now = h.t;
		S.events++;
		handle(h.e);
		if (S.verbose && S.now >= next_note) {
			getrusage(RUSAGE_SELF, &ru);
			fprintf(stderr, "p2pl-sim: %.0f s simulated, %llu events, "
			    "%.0f s run, %ld MiB\n", (double)(S.now - T0) / 1e6,
			    (unsigned long long)S.events,
			    (double)(p2pl_mono_us() - wall0) / 1e6,
			    ru.ru_maxrss / 1024);
			next_note += 5000000;
		}
	}
	S.now = end;
	if (S.verbose)
		fprintf(stderr, "p2pl-sim: events msg %llu tick %llu (stale %llu) "
		    "accept %llu close %llu piece %llu join %llu flush %llu "
		    "churn %llu; queue at most %llu\n",
		    (unsigned long long)S.evtype[EV_MSG],
		    (unsigned long long)S.evtype[EV_TICK],
		    (unsigned long long)S.stale,
		    (unsigned long long)S.evtype[EV_ACCEPT],
		    (unsigned long long)S.evtype[EV_CLOSE],
		    (unsigned long long)S.evtype[EV_PIECE],
		    (unsigned long long)S.evtype[EV_JOIN],
		    (unsigned long long)S.evtype[EV_FLUSH],
		    (unsigned long long)S.evtype[EV_CHURN],
		    (unsigned long long)S.hmax);
	if (S.verbose) {
		size_t caps = S.near.cap + S.far.cap + S.nchunks * CHUNK;

		fprintf(stderr, "p2pl-sim: queue arrays %zu entries (near %zu, "
		    "far %zu)\n", caps, S.near.cap, S.far.cap);
	}
	report((double)(p2pl_mono_us() - wall0) / 1e6);
}

static void __attribute__((noreturn))
usage(int rc)
{
	fprintf(rc ? stderr : stdout,
	    "usage: p2pl-sim [-v] [-n PEERS] [-t SECONDS] [-j SECONDS] "
	    "[-r RATE] [-g SECONDS]\n"
	    "                [-u MULT] [-P MULT] [--slow FRAC:MULT] "
	    "[--link RATE]\n"
	    "                [--latency MIN:MAX] [--play-latency SECONDS] "
	    "[--tracker K]\n"
	    "                [--churn FRAC:SECONDS] [--push N] [--trees] "
	    "[--seed N]\n"
	    "                [--verify bytes|ed25519]\n");
	exit(rc);
}

static double
num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "p2pl-sim: %s: want a number from %g to %g\n",
		    opt, lo, hi);
		exit(2);
	}
	return v;
}

/* "A:B" into two numbers */
static void
pair(const char *opt, const char *s, double lo, double hi, double *a,
    double *b)
{
	char buf[64], *colon;

	if (strlen(s) >= sizeof(buf) || (colon = strchr(s, ':')) == NULL) {
		fprintf(stderr, "p2pl-sim: %s: want A:B\n", opt);
		exit(2);
	}
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	*a = num(opt, buf, lo, hi);
	*b = num(opt, colon + 1, 0, 1e9);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "churn", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "latency", required_argument, NULL, 'L' },
		{ "link", required_argument, NULL, 'K' },
		{ "play-latency", required_argument, NULL, 'l' },
		{ "push", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "slow", required_argument, NULL, 'W' },
		{ "tracker", required_argument, NULL, 'T' },
		{ "trees", no_argument, NULL, 'R' },
		{ "verify", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct p2pl_rate r;
	char err[P2PL_ERRLEN];
	uint8_t seed[32];
	double a, b;
	int ch;

	S.n = 200;
	S.seconds = 30;
	S.join = -1;
	S.gop = 1;
	S.bps = 1000000;
	S.mult = 1.5;
	S.pub_mult = 2;
	S.link = 100000000;
	S.latency_s = 1;
	S.lat_min = 10000;
	S.lat_max = 100000;
	S.seed = 1;
	while ((ch = getopt_long(argc, argv, "g:hj:n:P:r:t:u:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			pair("--churn", optarg, 0, 1, &S.churn_frac,
			    &S.churn_every);
			if (S.churn_every < 1)
				S.churn_every = 1;
			break;
		case 'g':
			S.gop = num("-g", optarg, 0.05, 60);
			break;
		case 'j':
			S.join = num("-j", optarg, 0, 3600);
			break;
		case 'K':
			if (p2pl_rate_parse(optarg, &r, err, sizeof(err)) == -1 ||
			    r.kind != P2PL_RATE_FIXED || r.bps < 64000) {
				fprintf(stderr, "p2pl-sim: --link: want a bitrate "
				    "of at least 64k\n");
				exit(2);
			}
			S.link = r.bps;
			break;
		case 'L':
			pair("--latency", optarg, 0, 10000, &a, &b);
			if (b < a) {
				fprintf(stderr, "p2pl-sim: --latency: MIN "
				    "above MAX\n");
				exit(2);
			}
			S.lat_min = (uint64_t)(a * 1000);
			S.lat_max = (uint64_t)(b * 1000);
			break;
		case 'l':
			S.latency_s = num("--play-latency", optarg, 0.05, 60);
			break;
		case 'n':
			S.n = (int)num("-n", optarg, 1, 1000000);
			break;
		case 'p':
			S.push = (int)num("--push", optarg, 1, 64);
			break;
		case 'R':
			S.trees = 1;
			break;
		case 'P':
			S.pub_mult = num("-P", optarg, 0.1, 1000);
			break;
		case 'r':
			if (p2pl_rate_parse(optarg, &r, err, sizeof(err)) == -1 ||
			    r.kind != P2PL_RATE_FIXED || r.bps < 8000) {
				fprintf(stderr, "p2pl-sim: -r: want a bitrate "
				    "of at least 8k\n");
				exit(2);
			}
			S.bps = r.bps;
			break;
		case 's':
			S.seed = (uint64_t)num("--seed", optarg, 0, 1e15);
			break;
		case 'T':
			S.tracker = (int)num("--tracker", optarg, 0, 200);
			break;
		case 't':
			S.seconds = num("-t", optarg, 0.1, 86400);
			break;
		case 'u':
			S.mult = num("-u", optarg, 0, 1000);
			break;
		case 'V':
			if (strcmp(optarg, "ed25519") == 0)
				S.real_verify = 1;
			else if (strcmp(optarg, "bytes") != 0)
				usage(2);
			break;
		case 'v':
			S.verbose++;
			break;
		case 'W':
			pair("--slow", optarg, 0, 1, &S.slow_frac, &S.slow_mult);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (S.join < 0)
		S.join = S.seconds / 3 < 10 ? S.seconds / 3 : 10;
	S.rng = S.seed;
	S.core_rng = S.seed ^ 0x5eed5eed5eed5eedull;
	randombytes_set_implementation(&rb_impl);
	if (sodium_init() < 0)
		return 1;
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(S.key.pk, S.key.sk, seed);
	if ((S.sn = calloc((size_t)S.n + 1, sizeof(*S.sn))) == NULL) {
		fprintf(stderr, "p2pl-sim: out of memory\n");
		return 1;
	}
	for (int i = 0; i <= S.n; i++)
		S.sn[i].idx = (uint32_t)i;
	run();
	return 0;
}
