/* piece.c - make, check and verify signed pieces. */
#include "piece.h"
#include "util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char context[] = "p2pl-piece-1";

/* Ed25519ph over context | stream key | header | payload. */
static void
sig_state(crypto_sign_state *st, const uint8_t pk[P2PL_KEYLEN],
    const uint8_t *piece, size_t len)
{
	crypto_sign_init(st);
	crypto_sign_update(st, (const uint8_t *)context, sizeof(context));
	crypto_sign_update(st, pk, P2PL_KEYLEN);
	crypto_sign_update(st, piece, len);
}

static struct p2pl_piece *
piece_alloc(size_t len)
{
	size_t msglen = P2PL_MSG_HDR + P2PL_PIECE_HDR + len + P2PL_SIGLEN;
	struct p2pl_piece *p;

	p = malloc(sizeof(*p) + msglen);
	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->len = (uint32_t)len;
	p->recv = 0;
	p->msglen = msglen;
	return p;
}

struct p2pl_piece *
p2pl_piece_make(const struct p2pl_key *k, uint64_t seq, uint64_t stamp,
    unsigned flags, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct p2pl_piece *p;
	crypto_sign_state st;
	uint8_t *h;

	if (len == 0 || len > P2PL_PAYLOAD_MAX || (flags & ~P2PL_PIECE_FLAGS) ||
	    seq > P2PL_SEQ_MAX || stamp > P2PL_STAMP_MAX) {
		p2pl_seterr(err, errlen, "bad piece (%zu bytes, flags %#x)",
		    len, flags);
		return NULL;
	}
	if ((p = piece_alloc(len)) == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	p->seq = seq;
	p->stamp = stamp;
	p->flags = flags;
	p2pl_wire_header(p->msg, P2PL_MSG_PIECE, p->msglen - P2PL_MSG_HDR);
	h = p->msg + P2PL_MSG_HDR;
	h[0] = 1;
	h[1] = (uint8_t)flags;
	p2pl_put16(h + 2, 0);
	p2pl_put32(h + 4, (uint32_t)len);
	p2pl_put64(h + 8, seq);
	p2pl_put64(h + 16, stamp);
	memcpy(h + P2PL_PIECE_HDR, data, len);
	sig_state(&st, k->pk, h, P2PL_PIECE_HDR + len);
	crypto_sign_final_create(&st, h + P2PL_PIECE_HDR + len, NULL, k->sk);
	return p;
}

int
p2pl_piece_peek(const uint8_t *b, size_t n, uint64_t *seq, uint64_t *stamp,
    unsigned *flags, char *err, size_t errlen)
{
	uint32_t len;

	if (n < P2PL_PIECE_HDR + P2PL_SIGLEN + 1) {
		p2pl_seterr(err, errlen, "truncated piece (%zu bytes)", n);
		return -1;
	}
	len = p2pl_get32(b + 4);
	if (b[0] != 1 || (b[1] & ~P2PL_PIECE_FLAGS) || p2pl_get16(b + 2) != 0) {
		p2pl_seterr(err, errlen, "piece with unknown version or flags");
		return -1;
	}
	if (len == 0 || len > P2PL_PAYLOAD_MAX ||
	    (size_t)len + P2PL_PIECE_HDR + P2PL_SIGLEN != n) {
		p2pl_seterr(err, errlen, "piece length %u does not match its "
		    "message (%zu bytes)", len, n);
		return -1;
	}
	*flags = b[1];
	*seq = p2pl_get64(b + 8);
	*stamp = p2pl_get64(b + 16);
	/* leave room above both so sums of them never wrap */
	if (*seq > P2PL_SEQ_MAX || *stamp > P2PL_STAMP_MAX) {
		p2pl_seterr(err, errlen, "piece sequence or stamp out of range");
		return -1;
	}
	return 0;
}

struct p2pl_piece *
p2pl_piece_verify(const uint8_t pk[P2PL_KEYLEN], const uint8_t *b, size_t n,
    char *err, size_t errlen)
{
	crypto_sign_state st;
	struct p2pl_piece *p;
	uint64_t seq, stamp;
	unsigned flags;

	if (p2pl_piece_peek(b, n, &seq, &stamp, &flags, err, errlen) == -1)
		return NULL;
	sig_state(&st, pk, b, n - P2PL_SIGLEN);
	if (crypto_sign_final_verify(&st, b + n - P2PL_SIGLEN, pk) != 0) {
		p2pl_seterr(err, errlen, "bad signature on piece %llu",
		    (unsigned long long)seq);
		return NULL;
	}
	if ((p = piece_alloc(n - P2PL_PIECE_HDR - P2PL_SIGLEN)) == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	p->seq = seq;
	p->stamp = stamp;
	p->flags = flags;
	p2pl_wire_header(p->msg, P2PL_MSG_PIECE, n);
	memcpy(p->msg + P2PL_MSG_HDR, b, n);
	return p;
}

struct p2pl_piece *
p2pl_piece_ref(struct p2pl_piece *p)
{
	p->refs++;
	return p;
}

void
p2pl_piece_unref(struct p2pl_piece *p)
{
	if (p != NULL && --p->refs == 0)
		free(p);
}

void
p2pl_piece_crypt(uint8_t *data, size_t len, const uint8_t secret[32],
    uint64_t seq, uint64_t stamp)
{
	uint8_t n[crypto_stream_xchacha20_NONCEBYTES];

	p2pl_put64(n, seq);
	p2pl_put64(n + 8, stamp);
	memcpy(n + 16, "p2pl-sec", 8);
	crypto_stream_xchacha20_xor(data, data, len, n, secret);
}

struct p2pl_piece *
p2pl_piece_opened(const struct p2pl_piece *p, const uint8_t secret[32])
{
	struct p2pl_piece *q = piece_alloc(p->len);

	if (q == NULL)
		return NULL;
	q->seq = p->seq;
	q->stamp = p->stamp;
	q->recv = p->recv;
	q->flags = p->flags & ~(unsigned)P2PL_PIECE_SECRET;
	memcpy(q->msg, p->msg, p->msglen);
	q->msg[P2PL_MSG_HDR + 1] = (uint8_t)q->flags;
	p2pl_piece_crypt(q->msg + P2PL_MSG_HDR + P2PL_PIECE_HDR, q->len,
	    secret, q->seq, q->stamp);
	return q;
}
