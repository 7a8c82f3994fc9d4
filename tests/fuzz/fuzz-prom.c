/*
 * fuzz-prom.c - p2pl_prom_parse on hostile /metrics pages (Prometheus's
 * text format, as p2pl-top reads it from a relay): it must not crash,
 * and what it accepts must stay within its bounds, with every kept
 * string terminated.  An accepted page is read again the same.
 */
#include "promparse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void
check_str(const char *s)
{
	if (strnlen(s, P2PL_PROM_STR) >= P2PL_PROM_STR)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2pl_prom p, q;
	char err[P2PL_ERRLEN];

	if (p2pl_prom_parse((const char *)data, size, &p, err,
	    sizeof(err)) == -1) {
		if (strnlen(err, sizeof(err)) == 0)
			abort();	/* a refusal says why */
		return 0;
	}
	if (p.n < 0 || p.n > P2PL_PROM_STREAMS)
		abort();
	for (int i = 0; i < p.n; i++) {
		check_str(p.s[i].stream);
		check_str(p.s[i].prog);
		check_str(p.s[i].pid);
		if (p.s[i].have >> P2PL_PROM_NVALUES)
			abort();
		for (int j = i + 1; j < p.n; j++)
			if (strcmp(p.s[i].stream, p.s[j].stream) == 0)
				abort();	/* one entry a stream */
	}
	if (p2pl_prom_parse((const char *)data, size, &q, err,
	    sizeof(err)) == -1 || q.n != p.n)
		abort();
	return 0;
}
