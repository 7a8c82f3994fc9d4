/*
 * fuzz-redirect.c - p2pl__tracker_redirect, the URL a tracker's redirect
 * (its Location header, hostile) leads to.  Input: the base URL's path
 * and query up to the first newline (after "http://tracker.example:6969/"),
 * the Location after it (each up to a NUL).  A refusal says why; what
 * comes out is an http(s) URL, and from a relative Location one that
 * keeps the base's scheme and host and ends with the Location.
 */
#include "tracker-int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORIGIN "http://tracker.example:6969/"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A C string of the first n bytes of d, up to a NUL; NULL if no memory. */
static char *
cstr(const char *prefix, const uint8_t *d, size_t n)
{
	size_t p = strlen(prefix);
	char *s;

	n = strnlen((const char *)d, n);
	if ((s = malloc(p + n + 1)) == NULL)
		return NULL;
	memcpy(s, prefix, p);
	memcpy(s + p, d, n);
	s[p + n] = '\0';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t pathlen = nl != NULL ? (size_t)(nl - data) : size;
	char *base = cstr(ORIGIN, data, pathlen), *loc = NULL, *u;
	char why[P2PL_ERRLEN] = "";

	if (base == NULL || (loc = cstr("", nl != NULL ? nl + 1 : data,
	    nl != NULL ? size - pathlen - 1 : 0)) == NULL)
		goto out;
	if ((u = p2pl__tracker_redirect(base, loc, why, sizeof(why))) ==
	    NULL) {
		if (why[0] == '\0')
			abort();
		goto out;
	}
	if (strncasecmp(u, "http://", 7) != 0 &&
	    strncasecmp(u, "https://", 8) != 0)
		abort();
	if (strncasecmp(loc, "http://", 7) != 0 &&
	    strncasecmp(loc, "https://", 8) != 0 &&
	    (strncmp(u, ORIGIN, strlen(ORIGIN) - 1) != 0 ||
	    strlen(u) < strlen(loc) ||
	    strcmp(u + strlen(u) - strlen(loc), loc) != 0))
		abort();
	free(u);
out:
	free(base);
	free(loc);
	return 0;
}
