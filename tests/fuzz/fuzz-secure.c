/*
 * fuzz-secure.c - hostile bytes where a peer's encrypted frames should
 * be: the frame sizes and p2pl_sec_open must reject them without harm,
 * and nothing forged may open.
 */
#include "secure.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[P2PL_SEC_CHUNK];
	struct p2pl_sec s;
	uint8_t peer[32], key[32] = { 7 };
	size_t off = 0;
	long n;

	if (size < 32)
		return 0;
	memcpy(peer, data, 32);
	p2pl_sec_init(&s, size & 1);
	if (p2pl_sec_exchange(&s, peer) == -1)
		return 0;
	p2pl_sec_bind(&s, key);
	off = 32;
	while (size - off >= P2PL_SEC_HDR) {
		if ((n = p2pl_sec_frame_size(data + off)) == -1)
			break;
		if (n < P2PL_SEC_HDR + P2PL_SEC_TAG + 1 ||
		    n > P2PL_SEC_FRAME_MAX)
			abort();
		if (size - off < (size_t)n)
			break;
		/* no one but an end with our keys can make a frame open */
		if (p2pl_sec_open(&s, data + off, (size_t)n, out, 0) >= 0)
			abort();
		off += (size_t)n;
	}
	p2pl_sec_wipe(&s);
	return 0;
}
