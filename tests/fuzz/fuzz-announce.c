/*
 * fuzz-announce.c - p2pl_trackd_announce on hostile queries.
 *
 * Input: byte 0 picks the remote address and which tracker (open with
 * small bounds, or closed with one allowed stream), byte 1 advances the
 * clock, the rest is the query string.  The trackers persist across runs
 * so swarms fill, expire and hit their bounds.  Every reply must be one
 * well-formed bencoded dict with sorted keys, holding either only
 * "failure reason" or "interval" and "peers".
 */
#include "trackd.h"

#include <stdlib.h>
#include <string.h>

static const char *ips[] = {
	"10.0.0.1", "10.0.0.2", "192.168.1.9", "::ffff:10.0.0.1",
	"2001:db8::1", "2001:db8::2", "fe80::1%eth0", "::1",
	"0.0.0.0", "255.255.255.255", "::", "not-an-ip",
	"::ffff:1.2.3.4", "127.0.0.1", "2001:db8::1%1", "",
};

/* Compare two bencoded strings (p..e each) by their bytes. */
static int
keycmp(const uint8_t *a, const uint8_t *ae, const uint8_t *b,
    const uint8_t *be)
{
	size_t an, bn;
	int c;

	a = (const uint8_t *)memchr(a, ':', (size_t)(ae - a)) + 1;
	b = (const uint8_t *)memchr(b, ':', (size_t)(be - b)) + 1;
	an = (size_t)(ae - a);
	bn = (size_t)(be - b);
	c = memcmp(a, b, an < bn ? an : bn);
	return c != 0 ? c : an < bn ? -1 : an > bn;
}

/* Skip one canonical bencoded value; its end, or NULL if malformed. */
static const uint8_t *
bskip(const uint8_t *p, const uint8_t *e, int depth)
{
	const uint8_t *k = NULL, *ke = NULL, *k2;
	size_t n = 0;
	int dict;

	if (p >= e || depth > 8)
		return NULL;
	if (*p == 'i') {
		p++;
		if (p < e && *p == '-')
			p++;
		if (p < e && *p == '0' && p + 1 < e && p[1] != 'e')
			return NULL;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			n++;
		return n > 0 && p < e && *p == 'e' ? p + 1 : NULL;
	}
	if (*p == 'l' || *p == 'd') {
		dict = *p++ == 'd';
		while (p < e && *p != 'e') {
			k2 = p;
			if ((p = bskip(p, e, depth + 1)) == NULL)
				return NULL;
			if (!dict)
				continue;
			if (*k2 < '0' || *k2 > '9' ||
			    (k != NULL && keycmp(k, ke, k2, p) >= 0))
				return NULL;
			k = k2;
			ke = p;
			if ((p = bskip(p, e, depth + 1)) == NULL)
				return NULL;
		}
		return p < e ? p + 1 : NULL;
	}
	if (*p < '0' || *p > '9' || (*p == '0' && p + 1 < e && p[1] != ':'))
		return NULL;
	while (p < e && *p >= '0' && *p <= '9' && n < 100000000)
		n = n * 10 + (size_t)(*p++ - '0');
	if (p >= e || *p != ':' || (size_t)(e - p - 1) < n)
		return NULL;
	return p + 1 + n;
}

static int
has(const uint8_t *r, long n, const char *s)
{
	return memmem(r, (size_t)n, s, strlen(s)) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2pl_trackd *open_t, *closed_t;
	static uint64_t now = 1000;
	static uint8_t out[P2PL_TRACKD_REPLY_MAX];
	static const uint8_t allowed[20] = { 0x41, 0x41, 0x41, 0x41, 0x41,
	    0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41,
	    0x41, 0x41, 0x41, 0x41 };
	struct p2pl_trackd_cfg c1 = { .interval = 30, .open = 1,
	    .max_swarms = 8, .max_peers = 16 };
	struct p2pl_trackd_cfg c2 = { .interval = 60, .max_swarms = 2 };
	struct p2pl_trackd *t;
	const char *ip;
	char *q;
	long n;

	if (open_t == NULL) {
		open_t = p2pl_trackd_new(NULL, NULL, &c1, NULL, 0);
		closed_t = p2pl_trackd_new(NULL, NULL, &c2, NULL, 0);
		if (open_t == NULL || closed_t == NULL ||
		    p2pl_trackd_allow(closed_t, allowed) == -1)
			abort();
	}
	if (size < 2)
		return 0;
	t = data[0] & 0x80 ? closed_t : open_t;
	ip = ips[data[0] & 15];
	now += data[1];
	if ((q = malloc(size - 1)) == NULL)
		return 0;
	memcpy(q, data + 2, size - 2);
	q[size - 2] = '\0';
	n = p2pl_trackd_announce(t, q, ip, now, out, sizeof(out));
	if (n == -1) {
		/* only a bad remote address may fail outright */
		if (strcmp(ip, "not-an-ip") != 0 && ip[0] != '\0')
			abort();
		goto done;
	}
	if (n < 2 || (size_t)n > sizeof(out) || out[0] != 'd' ||
	    bskip(out, out + n, 0) != out + n)
		abort();
	if (!has(out, n, "14:failure reason") &&
	    (!has(out, n, "8:intervali") || !has(out, n, "5:peers")))
		abort();
done:
	free(q);
	return 0;
}
