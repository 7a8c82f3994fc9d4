/*
 * fuzz-node.c - the protocol core fed hostile bytes on one connection.
 *
 * The first byte steers the harness:
 *   bit 0     prepend a valid HELLO from a publisher of the stream and a
 *             few validly signed pieces, so the fuzz bytes reach the state
 *             machine after the handshake;
 *   bit 1     the connection is outgoing (we dialled it: we subscribe),
 *             and we talk to relays only (so we choose parents: CHOOSE,
 *             and the ACCEPT answers in the input are acted on);
 *   bits 2-4  feed the bytes in 1 to 8 slices;
 *   bits 5-7  time between slices, 50 ms << n (up to 6.4 s).
 * The fuzzer cannot forge signatures, so in the rest of the input a
 * message of the harness-only type 0xfe is replaced by a signed PIECE:
 *   u64 seq (added to 1000) | u64 stamp (added to T0) | u8 flags | payload
 */
#include "node.h"
#include "piece.h"
#include "wire.h"
#include "util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000000ULL	/* fake wall clock of the first piece, µs */
#define SEQ0 1000
#define PREFIX_PIECES 4
#define MAKE_MAX 16		/* signed pieces made per input */
#define MSG_MAKE 0xfe

struct harness {
	struct p2pl_node *node;
	struct p2pl_peer *peer;
	uint64_t sent, delivered, last_seq;
	int any_delivered;
};

static struct p2pl_key key;
static uint8_t prefix[P2PL_MSG_HDR + P2PL_HELLO_LEN +
    PREFIX_PIECES * (P2PL_MSG_HDR + P2PL_PIECE_HDR + 188 + P2PL_SIGLEN)];
static size_t prefixlen;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[crypto_sign_SEEDBYTES], ts[188];
	struct p2pl_hello h;
	struct p2pl_piece *p;
	int i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(key.pk, key.sk, seed);
	memset(&h, 0, sizeof(h));
	h.version = P2PL_VERSION;
	h.role = P2PL_ROLE_PUBLISHER;
	h.port = 7000;
	memcpy(h.key, key.pk, P2PL_KEYLEN);
	memset(h.id, 0xab, sizeof(h.id));
	prefixlen = p2pl_wire_hello(prefix, &h);
	memset(ts, 0xff, sizeof(ts));
	ts[0] = 0x47;
	for (i = 0; i < PREFIX_PIECES; i++) {
		p = p2pl_piece_make(&key, SEQ0 + i, T0 + i * 40000ULL,
		    i == 0 ? P2PL_PIECE_JOIN : 0, ts, sizeof(ts), NULL, 0);
		if (p == NULL || prefixlen + p->msglen > sizeof(prefix))
			abort();
		memcpy(prefix + prefixlen, p->msg, p->msglen);
		prefixlen += p->msglen;
		p2pl_piece_unref(p);
	}
	return 0;
}

static void
cb_send(void *arg, void *conn, const uint8_t *data, size_t len,
    struct p2pl_piece *piece)
{
	struct harness *hs = arg;
	const uint8_t *body;
	size_t bodylen;
	uint8_t type;

	(void)piece;
	if (conn != hs)
		abort();
	/* the node only ever queues whole, well-formed messages */
	if (p2pl_wire_next(data, len, &type, &body, &bodylen, NULL, 0) !=
	    (long)len)
		abort();
	hs->sent += len;
}

static size_t
cb_backlog(void *arg, void *conn)
{
	(void)arg;
	(void)conn;
	return 0;
}

static void
cb_deliver(void *arg, struct p2pl_piece *p)
{
	struct harness *hs = arg;

	/* pieces reach the player in sequence order, each once */
	if (hs->any_delivered && p->seq <= hs->last_seq)
		abort();
	hs->any_delivered = 1;
	hs->last_seq = p->seq;
	hs->delivered += p->len;
}

static void
cb_drop(void *arg, void *conn, const char *why)
{
	struct harness *hs = arg;

	(void)why;
	if (conn != hs || hs->peer == NULL)
		abort();
	p2pl_node_peer_del(hs->node, hs->peer);
	hs->peer = NULL;
}

/* Append the fuzz bytes to out, replacing MSG_MAKE messages by signed
 * pieces; returns the new length. */
static size_t
expand(const uint8_t *data, size_t size, uint8_t *out, size_t o)
{
	static const uint8_t one = 0x47;
	const uint8_t *body, *payload;
	size_t off = 0, len, plen;
	struct p2pl_piece *p;
	int made = 0;
	uint8_t type;
	long r;

	while (off < size) {
		r = p2pl_wire_next(data + off, size - off, &type, &body, &len,
		    NULL, 0);
		if (r <= 0)
			break;
		if (type != MSG_MAKE || len < 17 || made == MAKE_MAX) {
			memcpy(out + o, data + off, (size_t)r);
			o += (size_t)r;
			off += (size_t)r;
			continue;
		}
		payload = len > 17 ? body + 17 : &one;
		plen = len > 17 ? len - 17 : 1;
		p = p2pl_piece_make(&key, SEQ0 + p2pl_get64(body),
		    T0 + p2pl_get64(body + 8), body[16] & P2PL_PIECE_FLAGS,
		    payload, plen, NULL, 0);
		if (p == NULL) {	/* out of range: refused at the source */
			off += (size_t)r;
			continue;
		}
		memcpy(out + o, p->msg, p->msglen);
		o += p->msglen;
		p2pl_piece_unref(p);
		made++;
		off += (size_t)r;
	}
	memcpy(out + o, data + off, size - off);
	return o + size - off;
}

static void
feed(struct harness *hs, const uint8_t *buf, size_t n, int slices,
    uint64_t step)
{
	uint64_t now = T0 + 1000000;
	size_t fed = 0, have = 0, cut;
	long r;
	int i;

	for (i = 1; i <= slices; i++) {
		cut = n * (size_t)i / (size_t)slices;
		if (hs->peer != NULL) {
			/* like a driver: unconsumed bytes wait for more */
			have += cut - fed;
			fed = cut;
			r = p2pl_peer_input(hs->peer, buf + fed - have, have,
			    now);
			if (r < 0) {
				(void)p2pl_peer_error(hs->peer);
				p2pl_node_peer_del(hs->node, hs->peer);
				hs->peer = NULL;
			} else if ((size_t)r > have) {
				abort();
			} else {
				have -= (size_t)r;
				(void)p2pl_peer_hello(hs->peer);
			}
		}
		(void)p2pl_node_tick(hs->node, now);
		now += step;
	}
	(void)p2pl_node_tick(hs->node, now + 40000000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness hs;
	struct p2pl_node_cfg cfg;
	struct p2pl_node_cb cb;
	struct p2pl_node_stats st;
	uint8_t *buf;
	size_t n = 0, cap;
	unsigned ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	/* each made piece grows by at most its fixed overhead */
	cap = prefixlen + size + (size_t)MAKE_MAX * (P2PL_PIECE_HDR +
	    P2PL_SIGLEN + 1);
	if ((buf = malloc(cap)) == NULL)
		return 0;
	if (ctl & 1) {
		memcpy(buf, prefix, prefixlen);
		n = prefixlen;
	}
	n = expand(data, size, buf, n);

	memset(&hs, 0, sizeof(hs));
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.key, key.pk, P2PL_KEYLEN);
	cfg.role = P2PL_ROLE_VIEWER;
	cfg.play = 1;
	cfg.latency = 1000000;
	cfg.relay_only = (ctl >> 1) & 1;
	cfg.up.kind = P2PL_RATE_MULT;	/* 1.5x: takes on 10 substreams */
	cfg.up.mult = 1.5;
	cb.arg = &hs;
	cb.send = cb_send;
	cb.backlog = cb_backlog;
	cb.deliver = cb_deliver;
	cb.drop = cb_drop;
	cb.verify = NULL;
	if ((hs.node = p2pl_node_new(&cfg, &cb)) == NULL)
		abort();
	hs.peer = p2pl_node_peer_new(hs.node, &hs, (ctl >> 1) & 1, NULL, T0 + 1000000);
	if (hs.peer == NULL)
		abort();
	feed(&hs, buf, n, (int)((ctl >> 2) & 7) + 1, 50000ULL << (ctl >> 5));
	p2pl_node_stats(hs.node, &st);
	(void)p2pl_node_head(hs.node);
	(void)p2pl_node_first_conn(hs.node);
	p2pl_node_free(hs.node);
	free(buf);
	return 0;
}
