/* fuzz-uri.c - p2pl_uri_parse, and format/parse round trip. */
#include "uri.h"

#include <stdlib.h>
#include <string.h>

/* The parsed values of two uris match (key, peers, trackers). */
static int
uri_equal(const struct p2pl_uri *a, const struct p2pl_uri *b)
{
	int i;

	if (memcmp(a->key, b->key, sizeof(a->key)) != 0 ||
	    a->npeers != b->npeers || a->ntrackers != b->ntrackers)
		return 0;
	for (i = 0; i < a->npeers; i++)
		if (strcmp(a->peers[i].host, b->peers[i].host) != 0 ||
		    a->peers[i].port != b->peers[i].port)
			return 0;
	for (i = 0; i < a->ntrackers; i++)
		if (strcmp(a->trackers[i], b->trackers[i]) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2pl_uri u, v;
	static char out[64 * 1024];
	char err[P2PL_ERRLEN];
	char *s;
	int len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (p2pl_uri_parse(s, &u, err, sizeof(err)) == -1)
		goto out;
	/* out is big enough for any parsed uri: formatting must succeed */
	len = p2pl_uri_format(&u, out, sizeof(out));
	if (len < 0 || (size_t)len != strlen(out))
		abort();
	/*
	 * Formatting percent-encodes what the input may have written raw, so
	 * it can grow past P2PL_URI_MAX, which the parser refuses by design.
	 */
	if (len > P2PL_URI_MAX)
		goto out;
	if (p2pl_uri_parse(out, &v, err, sizeof(err)) == -1)
		abort();
	if (!uri_equal(&u, &v))
		abort();
out:
	free(s);
	return 0;
}
