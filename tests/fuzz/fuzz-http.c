/*
 * fuzz-http.c - the request head parser of p2pl-fetch --http
 * (lib/httpreq.c) on any bytes.  Checks that a complete head is never
 * longer than the input or the cap, that its path is a terminated string
 * starting with "/" and holding no query, and that an error names one of
 * the statuses the server answers with.
 */
#include "httpreq.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pl_httpreq r;
	char err[P2PL_ERRLEN];
	char *buf = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	int n;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	n = p2pl_httpreq_parse(buf, size, &r, err, sizeof(err));
	if (n > 0) {
		if ((size_t)n > size || n > P2PL_HTTP_HEAD_MAX)
			abort();
		if (memchr(r.path, '\0', sizeof(r.path)) == NULL ||
		    r.path[0] != '/' || strchr(r.path, '?') != NULL)
			abort();
		if (r.method < P2PL_HTTP_GET || r.method > P2PL_HTTP_OTHER)
			abort();
	} else if (n < 0) {
		if (r.status != 400 && r.status != 414 && r.status != 431 &&
		    r.status != 505)
			abort();
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	} else if (size >= P2PL_HTTP_HEAD_MAX)
		abort();	/* more is never needed past the cap */
	free(buf);
	return 0;
}
