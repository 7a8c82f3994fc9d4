/* hls.c - cut the played stream into HLS segments at join points. */
#include "hls.h"

#include <stdlib.h>
#include <string.h>

struct seg {
	struct p2pl_piece **p;	/* its pieces, one reference each */
	size_t n, cap;
	size_t bytes;
	uint64_t start, dur;	/* publisher stamps, µs */
	int disc;		/* follows a gap or a restart */
};

struct p2pl_hls {
	struct seg cur;		/* being built; n == 0: waiting for a join */
	struct seg done[P2PL_HLS_KEEP];	/* segment i at i % KEEP */
	uint64_t count;		/* segments completed */
	uint64_t discs;		/* of those, marked as discontinuities */
	uint64_t next;		/* the sequence number due */
	int started, want_disc;
	unsigned target;	/* EXT-X-TARGETDURATION, s; never goes down */
};

static void
seg_clear(struct seg *s)
{
	while (s->n > 0)
		p2pl_piece_unref(s->p[--s->n]);
	s->bytes = 0;
}

static void
seg_free(struct seg *s)
{
	seg_clear(s);
	free(s->p);
	s->p = NULL;
	s->cap = 0;
}

static int
seg_add(struct seg *s, struct p2pl_piece *p)
{
	struct p2pl_piece **np;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		if ((np = realloc(s->p, cap * sizeof(*np))) == NULL)
			return -1;
		s->p = np;
		s->cap = cap;
	}
	s->p[s->n++] = p2pl_piece_ref(p);
	s->bytes += p->len;
	return 0;
}

/* Drop the segment being built: what follows starts at a join point. */
static void
abandon(struct p2pl_hls *h)
{
	if (h->cur.n > 0)
		h->want_disc = 1;
	seg_clear(&h->cur);
}

/* The segment being built is complete at stamp end: keep it. */
static void
finish(struct p2pl_hls *h, uint64_t end)
{
	struct seg *d = &h->done[h->count % P2PL_HLS_KEEP];
	struct seg t;
	unsigned secs;

	h->cur.dur = end > h->cur.start ? end - h->cur.start : 0;
	secs = (unsigned)((h->cur.dur + 500000) / 1000000);
	if (secs > h->target)
		h->target = secs;
	if (h->cur.disc)
		h->discs++;
	/* swap, so the old segment's array is reused for the next */
	seg_clear(d);
	t = *d;
	*d = h->cur;
	h->cur = t;
	h->cur.disc = 0;
	h->count++;
}

void
p2pl_hls_piece(struct p2pl_hls *h, struct p2pl_piece *p)
{
	if (p->flags & P2PL_PIECE_SECRET)
		return;
	if (h->started && ((p->flags & P2PL_PIECE_RESTART) || p->seq != h->next)) {
		abandon(h);
		h->want_disc = 1;
	}
	h->started = 1;
	h->next = p->seq + 1;
	if (p->flags & P2PL_PIECE_JOIN) {
		if (h->cur.n > 0 && p->stamp >= h->cur.start + P2PL_HLS_SEG_US)
			finish(h, p->stamp);
		if (h->cur.n == 0) {
			h->cur.start = p->stamp;
			h->cur.disc = h->want_disc;
			h->want_disc = 0;
		}
	} else if (h->cur.n == 0)
		return;		/* not decodable alone: wait for a join */
	if (h->cur.bytes + p->len > P2PL_HLS_SEG_MAX || seg_add(&h->cur, p) == -1)
		abandon(h);
}

int
p2pl_hls_playlist(struct p2pl_hls *h, struct evbuffer *out)
{
	uint64_t first, i, disc = h->discs;
	struct seg *s;
	int rc = 0;

	if (h->count == 0)
		return -1;
	first = h->count > P2PL_HLS_WINDOW ? h->count - P2PL_HLS_WINDOW : 0;
	for (i = first; i < h->count; i++)
		disc -= h->done[i % P2PL_HLS_KEEP].disc != 0;
	rc |= evbuffer_add_printf(out, "#EXTM3U\n#EXT-X-VERSION:3\n"
	    "#EXT-X-TARGETDURATION:%u\n#EXT-X-MEDIA-SEQUENCE:%llu\n",
	    h->target, (unsigned long long)first) < 0;
	if (disc > 0)
		rc |= evbuffer_add_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:"
		    "%llu\n", (unsigned long long)disc) < 0;
	for (i = first; i < h->count; i++) {
		s = &h->done[i % P2PL_HLS_KEEP];
		if (s->disc)
			rc |= evbuffer_add_printf(out,
			    "#EXT-X-DISCONTINUITY\n") < 0;
		rc |= evbuffer_add_printf(out, "#EXTINF:%.3f,\nseg-%llu.ts\n",
		    (double)s->dur / 1e6, (unsigned long long)i) < 0;
	}
	return rc ? -1 : 0;
}

static struct seg *
kept(struct p2pl_hls *h, uint64_t n)
{
	if (n >= h->count || h->count - n > P2PL_HLS_KEEP)
		return NULL;
	return &h->done[n % P2PL_HLS_KEEP];
}

static void
unref_cb(const void *data, size_t len, void *piece)
{
	(void)data;
	(void)len;
	p2pl_piece_unref(piece);
}

int
p2pl_hls_segment(struct p2pl_hls *h, uint64_t n, struct evbuffer *out)
{
	struct seg *s = kept(h, n);
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		p2pl_piece_ref(s->p[i]);
		if (evbuffer_add_reference(out, p2pl_piece_payload(s->p[i]),
		    s->p[i]->len, unref_cb, s->p[i]) == -1) {
			p2pl_piece_unref(s->p[i]);
			return -1;
		}
	}
	return 0;
}

long
p2pl_hls_segment_len(struct p2pl_hls *h, uint64_t n)
{
	struct seg *s = kept(h, n);

	return s == NULL ? -1 : (long)s->bytes;
}

uint64_t
p2pl_hls_count(const struct p2pl_hls *h)
{
	return h->count;
}

struct p2pl_hls *
p2pl_hls_new(void)
{
	struct p2pl_hls *h = calloc(1, sizeof(*h));

	if (h != NULL)
		h->target = 2;
	return h;
}

void
p2pl_hls_free(struct p2pl_hls *h)
{
	unsigned i;

	if (h == NULL)
		return;
	seg_free(&h->cur);
	for (i = 0; i < P2PL_HLS_KEEP; i++)
		seg_free(&h->done[i]);
	free(h);
}
