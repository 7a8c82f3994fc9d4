/* fuzz-wire.c - the message codec: framing, HELLO, SUBSCRIBE, u64 bodies,
 * PIECE; each parsed body is re-encoded and must give the same bytes. */
#include "piece.h"
#include "wire.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void
fuzz_message(uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t out[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	struct p2pl_hello h;
	char err[P2PL_ERRLEN];
	uint64_t v, seq, stamp;
	uint32_t latency_ms;
	unsigned flags;

	switch (type) {
	case P2PL_MSG_HELLO:
		if (p2pl_wire_parse_hello(body, len, &h, err, sizeof(err)) == -1)
			break;
		/* re-encoding gives the first P2PL_HELLO_LEN bytes back */
		p2pl_wire_hello(out, &h);
		if (memcmp(out + P2PL_MSG_HDR, body, P2PL_HELLO_LEN) != 0)
			abort();
		if (!p2pl_wire_looks_like_hello(out, sizeof(out)))
			abort();
		break;
	case P2PL_MSG_SUBSCRIBE:
		if (p2pl_wire_parse_subscribe(body, len, &v, &latency_ms, err,
		    sizeof(err)) == -1)
			break;
		p2pl_wire_subscribe(out, v, latency_ms);
		if (memcmp(out + P2PL_MSG_HDR, body, P2PL_SUBSCRIBE_LEN) != 0)
			abort();
		break;
	case P2PL_MSG_HAVE:
	case P2PL_MSG_REQUEST:
	case P2PL_MSG_PING:
	case P2PL_MSG_PONG:
		if (p2pl_wire_parse_u64(body, len, &v, err, sizeof(err)) == -1)
			break;
		p2pl_wire_u64(out, type, v);
		if (memcmp(out + P2PL_MSG_HDR, body, 8) != 0)
			abort();
		break;
	case P2PL_MSG_PIECE:
		if (p2pl_piece_peek(body, len, &seq, &stamp, &flags, err,
		    sizeof(err)) == -1)
			break;
		if (flags & ~P2PL_PIECE_FLAGS)
			abort();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	char err[P2PL_ERRLEN];
	size_t off = 0, len;
	uint8_t type;
	long r;

	(void)p2pl_wire_looks_like_hello(data, size);
	while (off < size) {
		r = p2pl_wire_next(data + off, size - off, &type, &body, &len,
		    err, sizeof(err));
		if (r <= 0)
			break;
		if ((size_t)r > size - off || (size_t)r != len + P2PL_MSG_HDR ||
		    body != data + off + P2PL_MSG_HDR)
			abort();
		fuzz_message(type, body, len);
		off += (size_t)r;
	}
	return 0;
}
