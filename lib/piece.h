/*
 * piece.h - signed pieces of a stream.
 *
 * A piece is a header, a payload of MPEG-TS packets and an Ed25519
 * signature (see p2pl(7)):
 *
 *   u8 version | u8 flags | u16 zero | u32 payload length
 *   u64 sequence number | u64 publisher stamp (µs since the epoch)
 *   payload | 64-byte signature
 *
 * A struct p2pl_piece holds the whole PIECE wire message, ready to send,
 * and is reference counted so every neighbour's queue shares one copy.
 */
#ifndef P2PL_PIECE_H
#define P2PL_PIECE_H

#include "key.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

#define P2PL_PIECE_HDR 24
#define P2PL_SIGLEN 64
#define P2PL_PAYLOAD_MAX 65536

#define P2PL_PIECE_JOIN 0x01	/* a decoder can start at this piece */
#define P2PL_PIECE_RESTART 0x02	/* first piece of a publisher session */
#define P2PL_PIECE_CONT 0x04	/* ends inside a PES; the next piece ends it */
#define P2PL_PIECE_SECRET 0x08	/* payload encrypted with the stream secret */
#define P2PL_PIECE_FLAGS 0x0f	/* all flags this version knows */
#define P2PL_SEQ_MAX ((uint64_t)1 << 62)	/* larger ones are refused */
#define P2PL_STAMP_MAX ((uint64_t)1 << 62)

struct p2pl_piece {
	int refs;
	uint64_t seq;
	uint64_t stamp;		/* publisher's wall clock, µs */
	unsigned flags;
	uint32_t len;		/* payload bytes */
	uint64_t recv;		/* local wall clock when stored, µs */
	size_t msglen;		/* bytes of msg[] */
	uint8_t msg[];		/* the PIECE message: header, piece, signature */
};

static inline const uint8_t *
p2pl_piece_payload(const struct p2pl_piece *p)
{
	return p->msg + P2PL_MSG_HDR + P2PL_PIECE_HDR;
}

/* Build and sign a piece; NULL with err set on failure. */
struct p2pl_piece *p2pl_piece_make(const struct p2pl_key *k, uint64_t seq,
    uint64_t stamp, unsigned flags, const uint8_t *data, size_t len,
    char *err, size_t errlen);

/*
 * Check a PIECE body's framing and read its header without verifying the
 * signature (cheap, to drop duplicates before paying for a verify).
 */
int p2pl_piece_peek(const uint8_t *body, size_t n, uint64_t *seq,
    uint64_t *stamp, unsigned *flags, char *err, size_t errlen);

/*
 * Verify a PIECE body against the stream key and copy it into a new piece
 * with one reference.  NULL with err set if the signature does not hold.
 */
struct p2pl_piece *p2pl_piece_verify(const uint8_t pk[P2PL_KEYLEN],
    const uint8_t *body, size_t n, char *err, size_t errlen);

struct p2pl_piece *p2pl_piece_ref(struct p2pl_piece *p);

/*
 * A private stream's payload is XChaCha20 with the stream secret as key
 * and seq, stamp (8 bytes each, big-endian) and "p2pl-sec" as nonce;
 * this applies it (either way) to len bytes in place.
 */
void p2pl_piece_crypt(uint8_t *data, size_t len, const uint8_t secret[32],
    uint64_t seq, uint64_t stamp);
/*
 * A copy of a SECRET piece with its payload decrypted and the flag
 * cleared, for the player only: its signature no longer holds.
 */
struct p2pl_piece *p2pl_piece_opened(const struct p2pl_piece *p,
    const uint8_t secret[32]);
void p2pl_piece_unref(struct p2pl_piece *p);

#endif
