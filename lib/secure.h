/*
 * secure.h - the encrypted, authenticated channel every peer connection
 * runs in (see p2pl(7), "CONNECTIONS").  No I/O: the caller moves bytes.
 *
 * Each end first sends a fresh X25519 public key (32 bytes, nothing else
 * in clear).  From the two keys libsodium's crypto_kx gives one key per
 * direction (the end that dialled is the kx client); each is then bound
 * to the stream: BLAKE2b-256 keyed with the stream's public key over the
 * kx key and "p2pl-conn-1".  After that the byte stream travels in frames
 *
 *   u16 n (big-endian) | n bytes: ChaCha20-Poly1305 (IETF) of 1 to
 *   P2PL_SEC_CHUNK bytes, nonce = frame counter (u64 little-endian, then
 *   4 zero bytes), the 2 length bytes as additional data
 *
 * so an observer sees neither the messages nor the stream, and a frame
 * that was changed, replayed, reordered, or sent by an end that does not
 * know the stream's key fails to open.
 */
#ifndef P2PL_SECURE_H
#define P2PL_SECURE_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_SEC_PKLEN 32
#define P2PL_SEC_CHUNK 16384		/* plaintext bytes per frame, at most */
#define P2PL_SEC_TAG 16
#define P2PL_SEC_HDR 2
#define P2PL_SEC_FRAME_MAX (P2PL_SEC_HDR + P2PL_SEC_CHUNK + P2PL_SEC_TAG)
#define P2PL_SEC_FIRST 1024		/* plaintext in the first frame, at most */

struct p2pl_sec {
	int initiator;
	int keyed;
	uint8_t pk[P2PL_SEC_PKLEN], sk[32];	/* ours, ephemeral */
	uint8_t rx[32], tx[32];
	uint8_t skx[32], srx[32];	/* kx keys before the stream binding */
	uint64_t rxn, txn;
};

/* A fresh key pair; s->pk is what to send first. */
void p2pl_sec_init(struct p2pl_sec *s, int initiator);
/* The peer's public key came: make the session keys (not bound yet).
 * -1 if the key is unusable. */
int p2pl_sec_exchange(struct p2pl_sec *s, const uint8_t peer_pk[32]);
/* Bind the session keys to a stream (again with another key to try). */
void p2pl_sec_bind(struct p2pl_sec *s, const uint8_t stream_key[32]);
/* The size of the frame starting at hdr (2 bytes); -1 if impossible. */
long p2pl_sec_frame_size(const uint8_t hdr[P2PL_SEC_HDR]);
/* The same for the next frame s receives: the first (which carries the
 * HELLO) holds at most P2PL_SEC_FIRST bytes, so a stranger who does not
 * speak p2pl is told apart at once. */
long p2pl_sec_next_size(const struct p2pl_sec *s,
    const uint8_t hdr[P2PL_SEC_HDR]);
/* How much of len bytes the next frame s seals may take. */
size_t p2pl_sec_room(const struct p2pl_sec *s, size_t len);
/* Seal len (1 to P2PL_SEC_CHUNK) bytes into out; returns the frame size. */
size_t p2pl_sec_seal(struct p2pl_sec *s, const uint8_t *in, size_t len,
    uint8_t *out);
/*
 * Open the frame of n bytes into out (room for P2PL_SEC_CHUNK); returns
 * the plaintext length, or -1 if it fails.  With peek, the frame counter
 * does not advance (to try a stream key).
 */
long p2pl_sec_open(struct p2pl_sec *s, const uint8_t *frame, size_t n,
    uint8_t *out, int peek);
/* Forget the keys. */
void p2pl_sec_wipe(struct p2pl_sec *s);

#endif
