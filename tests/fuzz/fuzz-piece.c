/*
 * fuzz-piece.c - p2pl_piece_verify.  The first byte picks a mode:
 *   even: verify the rest as a PIECE body against a fixed key;
 *   odd:  bytes 1-5 pick a bit and the flags, the rest is a payload;
 *         sign it with p2pl_piece_make, check that it verifies, flip the
 *         bit anywhere in the PIECE body (header, payload or signature)
 *         and check that it no longer verifies.
 */
#include "piece.h"
#include "util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static struct p2pl_key key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(key.pk, key.sk, seed);
	return 0;
}

static void
raw_verify(const uint8_t *body, size_t n)
{
	char err[P2PL_ERRLEN];
	struct p2pl_piece *p;

	p = p2pl_piece_verify(key.pk, body, n, err, sizeof(err));
	if (p == NULL)
		return;
	/* only a body this key signed verifies; it must round-trip */
	if (p->msglen != n + P2PL_MSG_HDR ||
	    memcmp(p->msg + P2PL_MSG_HDR, body, n) != 0 ||
	    p->len != n - P2PL_PIECE_HDR - P2PL_SIGLEN)
		abort();
	p2pl_piece_unref(p);
}

static void
flip_verify(const uint8_t *data, size_t size)
{
	static const uint8_t one = 0;
	char err[P2PL_ERRLEN];
	struct p2pl_piece *p, *q;
	const uint8_t *payload = &one;
	size_t len = 1, bodylen, pos;
	uint32_t sel;
	uint8_t *body, bit;

	if (size < 5)
		return;
	sel = p2pl_get32(data);
	bit = data[4];
	if (size > 5) {
		payload = data + 5;
		len = size - 5;
	}
	if (len > P2PL_PAYLOAD_MAX)
		len = P2PL_PAYLOAD_MAX;
	p = p2pl_piece_make(&key, sel * 7919ULL, sel * 104729ULL,
	    (bit >> 3) & P2PL_PIECE_FLAGS, payload, len, err, sizeof(err));
	if (p == NULL)
		abort();
	bodylen = p->msglen - P2PL_MSG_HDR;
	body = p->msg + P2PL_MSG_HDR;
	q = p2pl_piece_verify(key.pk, body, bodylen, err, sizeof(err));
	if (q == NULL || q->msglen != p->msglen ||
	    memcmp(q->msg, p->msg, p->msglen) != 0 || q->seq != p->seq ||
	    q->stamp != p->stamp || q->flags != p->flags || q->len != p->len)
		abort();
	p2pl_piece_unref(q);
	pos = sel % bodylen;
	body[pos] ^= (uint8_t)(1u << (bit & 7));
	q = p2pl_piece_verify(key.pk, body, bodylen, err, sizeof(err));
	if (q != NULL)
		abort();	/* a forged piece passed verification */
	p2pl_piece_unref(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		flip_verify(data + 1, size - 1);
	else
		raw_verify(data + 1, size - 1);
	return 0;
}
