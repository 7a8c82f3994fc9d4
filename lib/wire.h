/*
 * wire.h - the message codec shared by peer connections and the signed
 * frame stream.  Every message is
 *
 *   u32 length (of type and body, big-endian) | u8 type | body
 *
 * and at most P2PL_MSG_MAX bytes long.  The body layouts are in p2pl(7).
 */
#ifndef P2PL_WIRE_H
#define P2PL_WIRE_H

#include "key.h"

#include <stddef.h>
#include <stdint.h>

#define P2PL_MSG_HDR 5
#define P2PL_MSG_MAX (128 * 1024)
#define P2PL_VERSION 1

enum {
	P2PL_MSG_HELLO = 1,
	P2PL_MSG_SUBSCRIBE = 2,
	P2PL_MSG_PIECE = 3,
	P2PL_MSG_HAVE = 4,
	P2PL_MSG_REQUEST = 5,
	P2PL_MSG_PING = 6,
	P2PL_MSG_PONG = 7,
	P2PL_MSG_PEX = 8,
	P2PL_MSG_CHOOSE = 9,
	P2PL_MSG_ACCEPT = 10,
};

/* SUBSCRIBE from this: only pieces that arrive from now on */
#define P2PL_FROM_LIVE UINT64_MAX

enum { P2PL_ROLE_VIEWER, P2PL_ROLE_PUBLISHER, P2PL_ROLE_RELAY };

#define P2PL_HELLO_LEN 56
#define P2PL_IDLEN 16

struct p2pl_hello {
	uint8_t version;
	uint8_t role;
	uint16_t port;			/* where the sender listens, 0 if not */
	uint8_t key[P2PL_KEYLEN];	/* the stream */
	uint8_t id[P2PL_IDLEN];		/* random per process */
};

/*
 * Find the first complete message in buf[0..n).  Returns its total size
 * (header included) and sets *type, *body and *bodylen; returns 0 if more
 * bytes are needed; -1 with err set if the length is out of bounds.
 */
long p2pl_wire_next(const uint8_t *buf, size_t n, uint8_t *type,
    const uint8_t **body, size_t *bodylen, char *err, size_t errlen);

/* Write the 5-byte header for a body of bodylen bytes. */
void p2pl_wire_header(uint8_t *out, uint8_t type, size_t bodylen);

/* HELLO: encode into out (P2PL_MSG_HDR + P2PL_HELLO_LEN bytes). */
size_t p2pl_wire_hello(uint8_t *out, const struct p2pl_hello *h);
int p2pl_wire_parse_hello(const uint8_t *body, size_t n, struct p2pl_hello *h,
    char *err, size_t errlen);
/* True when the first bytes of a connection can still become a HELLO. */
int p2pl_wire_looks_like_hello(const uint8_t *buf, size_t n);

/*
 * SUBSCRIBE: u64 first sequence wanted (0: the newest join point), u32
 * the subscriber's latency in milliseconds (0: none); pieces older than
 * that behind the newest are not sent to it.
 */
#define P2PL_SUBSCRIBE_LEN 12
size_t p2pl_wire_subscribe(uint8_t *out, uint64_t from, uint32_t latency_ms);
int p2pl_wire_parse_subscribe(const uint8_t *body, size_t n, uint64_t *from,
    uint32_t *latency_ms, char *err, size_t errlen);

/*
 * Substreams: piece seq belongs to substream seq % P2PL_SUBSTREAMS.  CHOOSE
 * carries a u64 mask of the substreams the sender wants pushed by the
 * receiver (its parent for them); ACCEPT the mask the parent took on.
 */
#define P2PL_SUBSTREAMS 8

/* Messages whose body is one u64: HAVE, REQUEST, PING, PONG, CHOOSE,
 * ACCEPT. */
size_t p2pl_wire_u64(uint8_t *out, uint8_t type, uint64_t v);
int p2pl_wire_parse_u64(const uint8_t *body, size_t n, uint64_t *v,
    char *err, size_t errlen);

#endif
