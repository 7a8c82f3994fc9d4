/* secure.c - the peer connection's encryption (see secure.h). */
#include "secure.h"
#include "util.h"

#include <sodium.h>
#include <string.h>

static const char CTX[] = "p2pl-conn-1";

void
p2pl_sec_init(struct p2pl_sec *s, int initiator)
{
	memset(s, 0, sizeof(*s));
	s->initiator = initiator;
	crypto_kx_keypair(s->pk, s->sk);
}

int
p2pl_sec_exchange(struct p2pl_sec *s, const uint8_t peer_pk[32])
{
	int r;

	if (s->initiator)
		r = crypto_kx_client_session_keys(s->srx, s->skx, s->pk, s->sk,
		    peer_pk);
	else
		r = crypto_kx_server_session_keys(s->srx, s->skx, s->pk, s->sk,
		    peer_pk);
	sodium_memzero(s->sk, sizeof(s->sk));
	return r == 0 ? 0 : -1;
}

static void
bind1(uint8_t out[32], const uint8_t in[32], const uint8_t key[32])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, key, 32, 32);
	crypto_generichash_update(&h, in, 32);
	crypto_generichash_update(&h, (const uint8_t *)CTX, sizeof(CTX));
	crypto_generichash_final(&h, out, 32);
}

void
p2pl_sec_bind(struct p2pl_sec *s, const uint8_t stream_key[32])
{
	bind1(s->rx, s->srx, stream_key);
	bind1(s->tx, s->skx, stream_key);
	s->rxn = s->txn = 0;
	s->keyed = 1;
}

long
p2pl_sec_frame_size(const uint8_t hdr[P2PL_SEC_HDR])
{
	unsigned n = (unsigned)hdr[0] << 8 | hdr[1];

	if (n <= P2PL_SEC_TAG || n > P2PL_SEC_CHUNK + P2PL_SEC_TAG)
		return -1;
	return (long)n + P2PL_SEC_HDR;
}

long
p2pl_sec_next_size(const struct p2pl_sec *s, const uint8_t hdr[P2PL_SEC_HDR])
{
	long n = p2pl_sec_frame_size(hdr);

	if (s->rxn == 0 && n > P2PL_SEC_HDR + P2PL_SEC_FIRST + P2PL_SEC_TAG)
		return -1;
	return n;
}

size_t
p2pl_sec_room(const struct p2pl_sec *s, size_t len)
{
	size_t max = s->txn == 0 ? P2PL_SEC_FIRST : P2PL_SEC_CHUNK;

	return len < max ? len : max;
}

static void
nonce(uint8_t n[crypto_aead_chacha20poly1305_IETF_NPUBBYTES], uint64_t c)
{
	memset(n, 0, crypto_aead_chacha20poly1305_IETF_NPUBBYTES);
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(c >> (8 * i));
}

size_t
p2pl_sec_seal(struct p2pl_sec *s, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nb[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long clen;
	size_t n = len + P2PL_SEC_TAG;

	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	nonce(nb, s->txn++);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + P2PL_SEC_HDR, &clen, in,
	    len, out, P2PL_SEC_HDR, NULL, nb, s->tx);
	return (size_t)clen + P2PL_SEC_HDR;
}

long
p2pl_sec_open(struct p2pl_sec *s, const uint8_t *frame, size_t n,
    uint8_t *out, int peek)
{
	uint8_t nb[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	unsigned long long plen;

	if (n < P2PL_SEC_HDR || p2pl_sec_frame_size(frame) != (long)n)
		return -1;
	nonce(nb, s->rxn);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL,
	    frame + P2PL_SEC_HDR, n - P2PL_SEC_HDR, frame, P2PL_SEC_HDR, nb,
	    s->rx) != 0)
		return -1;
	if (!peek)
		s->rxn++;
	return (long)plen;
}

void
p2pl_sec_wipe(struct p2pl_sec *s)
{
	sodium_memzero(s, sizeof(*s));
}
