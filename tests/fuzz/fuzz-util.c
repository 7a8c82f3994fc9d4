/* fuzz-util.c - base32, rates and host:port addresses. */
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* decode(s) then encode must give s back in lowercase; encode then
 * decode must give the bytes back. */
static void
fuzz_base32(const uint8_t *data, size_t size)
{
	size_t cap = size * 2 + 16, i;
	uint8_t *bin = malloc(cap);
	char *txt = malloc(cap);
	int n;

	if (bin == NULL || txt == NULL)
		goto out;
	n = p2pl_base32_decode((const char *)data, size, bin, cap);
	if (n >= 0) {
		if (p2pl_base32_encode(bin, (size_t)n, txt, cap) != size)
			abort();
		for (i = 0; i < size; i++)
			if (txt[i] != tolower(data[i]))
				abort();
	}
	/* one byte short must be refused (ASan catches an overrun) */
	if (n > 0) {
		uint8_t *shortbuf = malloc((size_t)n - 1);

		if (shortbuf != NULL && p2pl_base32_decode((const char *)data,
		    size, shortbuf, (size_t)n - 1) != -1)
			abort();
		free(shortbuf);
	}
	if (p2pl_base32_encode(data, size, txt, cap) != (size * 8 + 4) / 5)
		abort();
	n = p2pl_base32_decode(txt, strlen(txt), bin, cap);
	if (n != (int)size || memcmp(bin, data, size) != 0)
		abort();
out:
	free(bin);
	free(txt);
}

static void
fuzz_rate(const char *s)
{
	struct p2pl_rate r;
	char err[P2PL_ERRLEN];

	if (p2pl_rate_parse(s, &r, err, sizeof(err)) == -1)
		return;
	if (r.kind != P2PL_RATE_UNLIMITED && r.kind != P2PL_RATE_FIXED &&
	    r.kind != P2PL_RATE_MULT)
		abort();
	(void)p2pl_rate_bytes(&r, 0);
	(void)p2pl_rate_bytes(&r, 2500000);
	(void)p2pl_rate_bytes(&r, UINT64_MAX / 1024);
}

static void
fuzz_addr(const char *s, const char *defhost, int allow_zero)
{
	struct p2pl_addr a, b;
	char err[P2PL_ERRLEN], out[300];

	if (p2pl_addr_parse(s, defhost, allow_zero, &a, err, sizeof(err)) == -1)
		return;
	if (a.host[0] == '\0' || (a.port == 0 && !allow_zero))
		abort();
	p2pl_addr_format(&a, out, sizeof(out));
	if (p2pl_addr_parse(out, NULL, allow_zero, &b, err, sizeof(err)) == -1)
		abort();
	if (strcmp(a.host, b.host) != 0 || a.port != b.port)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	fuzz_base32(data, size);
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_rate(s);
	fuzz_addr(s, NULL, 0);
	fuzz_addr(s, NULL, 1);
	fuzz_addr(s, "localhost", 0);
	fuzz_addr(s, "::1", 1);
	free(s);
	return 0;
}
