/*
 * fuzz-bencode.c - p2pl_benc_decode, a decode/encode round trip (decoded
 * input re-encodes to the same bytes), and p2pl_tracker_parse_reply.
 */
#include "bencode.h"
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#define NVALS 4096

/* Write v and its children with the writer; returns the next value. */
static const struct p2pl_benc *
encode(struct p2pl_benc_writer *w, const struct p2pl_benc *v)
{
	const struct p2pl_benc *c;
	int i, n;

	switch (v->type) {
	case P2PL_BENC_INT:
		p2pl_benc_put_int(w, v->i);
		return v + 1;
	case P2PL_BENC_STR:
		p2pl_benc_put_str(w, v->s, v->len);
		return v + 1;
	}
	if (v->type == P2PL_BENC_DICT)
		p2pl_benc_put_dict(w);
	else
		p2pl_benc_put_list(w);
	n = v->type == P2PL_BENC_DICT ? 2 * v->n : v->n;
	c = p2pl_benc_child(v);
	for (i = 0; i < n; i++)
		c = encode(w, c);
	p2pl_benc_put_end(w);
	if (c != p2pl_benc_next(v))
		abort();
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2pl_benc v[NVALS];
	static struct p2pl_addr peers[P2PL_TRACKER_PEERS];
	static uint8_t out[64 * 1024];
	struct p2pl_benc_writer w;
	char err[P2PL_ERRLEN];
	const uint8_t *s;
	size_t len;
	int64_t i;
	int n, iv;

	n = p2pl_benc_decode(data, size, v, NVALS, err, sizeof(err));
	if (n > 0) {
		if (v[0].span != n)
			abort();
		p2pl_benc_get_int(v, "interval", &i);
		s = p2pl_benc_get_str(v, "peers", &len);
		if (s != NULL && (s < data || s + len > data + size))
			abort();
		p2pl_benc_writer_init(&w, out, sizeof(out));
		encode(&w, v);
		if (size <= sizeof(out) &&
		    ((size_t)p2pl_benc_done(&w) != size ||
		    memcmp(out, data, size) != 0))
			abort();
	}
	n = p2pl_tracker_parse_reply(data, size, peers, P2PL_TRACKER_PEERS,
	    &iv, err, sizeof(err));
	if (n > P2PL_TRACKER_PEERS || (n >= 0 &&
	    (iv < P2PL_TRACKER_MIN_INTERVAL || iv > P2PL_TRACKER_MAX_INTERVAL)))
		abort();
	while (n-- > 0)
		if (peers[n].port == 0 || strlen(peers[n].host) == 0)
			abort();
	return 0;
}
