/* wire.c - encode and decode p2pl messages. */
#include "wire.h"
#include "util.h"

#include <string.h>

static const uint8_t magic[4] = { 'P', '2', 'P', 'L' };

long
p2pl_wire_next(const uint8_t *buf, size_t n, uint8_t *type,
    const uint8_t **body, size_t *bodylen, char *err, size_t errlen)
{
	uint32_t len;

	/* the length is judged as soon as it is here: a bad one (0 among
	 * them) is refused without waiting for bytes that may never come */
	if (n < 4)
		return 0;
	len = p2pl_get32(buf);
	if (len < 1 || len > P2PL_MSG_MAX - 4) {
		p2pl_seterr(err, errlen, "message length %u out of bounds",
		    len);
		return -1;
	}
	if (n < P2PL_MSG_HDR || n - 4 < len)
		return 0;
	*type = buf[4];
	*body = buf + P2PL_MSG_HDR;
	*bodylen = len - 1;
	return (long)len + 4;
}

void
p2pl_wire_header(uint8_t *out, uint8_t type, size_t bodylen)
{
	p2pl_put32(out, (uint32_t)bodylen + 1);
	out[4] = type;
}

size_t
p2pl_wire_hello(uint8_t *out, const struct p2pl_hello *h)
{
	uint8_t *b = out + P2PL_MSG_HDR;

	p2pl_wire_header(out, P2PL_MSG_HELLO, P2PL_HELLO_LEN);
	memcpy(b, magic, 4);
	b[4] = h->version;
	b[5] = h->role;
	p2pl_put16(b + 6, h->port);
	memcpy(b + 8, h->key, P2PL_KEYLEN);
	memcpy(b + 40, h->id, P2PL_IDLEN);
	return P2PL_MSG_HDR + P2PL_HELLO_LEN;
}

int
p2pl_wire_looks_like_hello(const uint8_t *buf, size_t n)
{
	uint8_t want[P2PL_MSG_HDR + 4];
	size_t i;

	/* length may grow in later versions, so only its top bytes are fixed */
	p2pl_wire_header(want, P2PL_MSG_HELLO, P2PL_HELLO_LEN);
	memcpy(want + P2PL_MSG_HDR, magic, 4);
	for (i = 0; i < n && i < sizeof(want); i++) {
		if (i == 3)
			continue;
		if (buf[i] != want[i])
			return 0;
	}
	return 1;
}

int
p2pl_wire_parse_hello(const uint8_t *body, size_t n, struct p2pl_hello *h,
    char *err, size_t errlen)
{
	if (n < P2PL_HELLO_LEN || memcmp(body, magic, 4) != 0) {
		p2pl_seterr(err, errlen, "peer does not speak p2pl");
		return -1;
	}
	h->version = body[4];
	h->role = body[5];
	h->port = p2pl_get16(body + 6);
	memcpy(h->key, body + 8, P2PL_KEYLEN);
	memcpy(h->id, body + 40, P2PL_IDLEN);
	if (h->version != P2PL_VERSION) {
		p2pl_seterr(err, errlen, "peer speaks protocol version %u, "
		    "we speak %u", h->version, P2PL_VERSION);
		return -1;
	}
	if (h->role > P2PL_ROLE_RELAY) {
		p2pl_seterr(err, errlen, "peer sent unknown role %u", h->role);
		return -1;
	}
	return 0;
}

size_t
p2pl_wire_u64(uint8_t *out, uint8_t type, uint64_t v)
{
	p2pl_wire_header(out, type, 8);
	p2pl_put64(out + P2PL_MSG_HDR, v);
	return P2PL_MSG_HDR + 8;
}

int
p2pl_wire_parse_u64(const uint8_t *body, size_t n, uint64_t *v, char *err,
    size_t errlen)
{
	if (n != 8) {
		p2pl_seterr(err, errlen, "message body of %zu bytes, want 8", n);
		return -1;
	}
	*v = p2pl_get64(body);
	return 0;
}

size_t
p2pl_wire_subscribe(uint8_t *out, uint64_t from, uint32_t latency_ms)
{
	p2pl_wire_header(out, P2PL_MSG_SUBSCRIBE, P2PL_SUBSCRIBE_LEN);
	p2pl_put64(out + P2PL_MSG_HDR, from);
	p2pl_put32(out + P2PL_MSG_HDR + 8, latency_ms);
	return P2PL_MSG_HDR + P2PL_SUBSCRIBE_LEN;
}

int
p2pl_wire_parse_subscribe(const uint8_t *body, size_t n, uint64_t *from,
    uint32_t *latency_ms, char *err, size_t errlen)
{
	if (n != P2PL_SUBSCRIBE_LEN) {
		p2pl_seterr(err, errlen, "subscribe of %zu bytes, want %d", n,
		    P2PL_SUBSCRIBE_LEN);
		return -1;
	}
	*from = p2pl_get64(body);
	*latency_ms = p2pl_get32(body + 8);
	return 0;
}
