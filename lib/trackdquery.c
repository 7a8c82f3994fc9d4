/*
 * trackdquery.c - the tracker's reading of an announce: the query string
 * split into pairs, percent-decoded, each value checked (info_hash and
 * peer_id exactly 20 bytes, numbers in range, known events) before
 * trackd.c acts on it; the address a peer announces or comes from.
 */
#include "trackd-int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(int c)
{
	if (!isxdigit(c))
		return -1;
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Percent-decode s[0..n) into out; the decoded length, or -1. */
static long
pct_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o == outlen)
			return -1;
		if (s[i] != '%') {
			out[o++] = (uint8_t)s[i];
			continue;
		}
		if (n - i < 3)
			return -1;
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return (long)o;
}

/* A decimal number of at most 9 digits, or -1. */
static long
number(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
key_is(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && memcmp(k, name, kn) == 0;
}

/* One key=value pair into r; NULL, or what is wrong with it. */
static const char *
parse_pair(struct req *r, const char *k, size_t kn, const char *v, size_t vn)
{
	uint8_t tmp[32];
	long x;

	if (key_is(k, kn, "info_hash") || key_is(k, kn, "peer_id")) {
		x = pct_decode(v, vn, tmp, sizeof(tmp));
		if (x < 0)
			return "invalid percent escape";
		if (x != 20)
			return k[0] == 'i' ? "info_hash is not 20 bytes" :
			    "peer_id is not 20 bytes";
		if (k[0] == 'i') {
			memcpy(r->hash, tmp, 20);
			r->have_hash = 1;
		} else {
			memcpy(r->me.id, tmp, 20);
			r->have_id = 1;
		}
	} else if (key_is(k, kn, "port")) {
		x = number(v, vn);
		if (x < 1 || x > 65535)
			return "invalid port";
		r->me.port = (uint16_t)x;
		r->have_port = 1;
	} else if (key_is(k, kn, "numwant")) {
		x = number(v, vn);
		r->numwant = x < 0 ? P2PL_TRACKD_NUMWANT :
		    x > P2PL_TRACKD_MAXWANT ? P2PL_TRACKD_MAXWANT : (int)x;
	} else if (key_is(k, kn, "compact")) {
		r->compact = !(vn == 1 && v[0] == '0');
	} else if (key_is(k, kn, "left")) {
		r->me.seed = number(v, vn) == 0;
	} else if (key_is(k, kn, "event")) {
		if (key_is(v, vn, "started"))
			r->event = EV_STARTED;
		else if (key_is(v, vn, "stopped"))
			r->event = EV_STOPPED;
		else if (key_is(v, vn, "completed"))
			r->event = EV_COMPLETED;
		else if (vn != 0 && !key_is(v, vn, "empty"))
			return "invalid event";
	}
	return NULL;
}

/* Split the query on '&' and parse each pair; NULL, or what is wrong. */
const char *
p2pl__trackd_query(struct req *r, const char *q)
{
	const char *end, *eq, *why;

	r->numwant = P2PL_TRACKD_NUMWANT;
	r->compact = 1;
	while (*q != '\0') {
		end = strchr(q, '&');
		if (end == NULL)
			end = q + strlen(q);
		eq = memchr(q, '=', (size_t)(end - q));
		if (eq == NULL)
			eq = end;
		why = parse_pair(r, q, (size_t)(eq - q),
		    eq == end ? eq : eq + 1, eq == end ? 0 : (size_t)(end - eq - 1));
		if (why != NULL)
			return why;
		q = *end == '&' ? end + 1 : end;
	}
	if (!r->have_hash)
		return "missing info_hash";
	if (!r->have_id)
		return "missing peer_id";
	if (!r->have_port)
		return "missing port";
	return NULL;
}

/* Text address into p (v4-mapped v6 counts as v4); 0, or -1. */
int
p2pl__trackd_ip(const char *s, struct peer *p)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	size_t n = strcspn(s, "%");

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p->ip, 0, sizeof(p->ip));
	if (inet_pton(AF_INET, buf, p->ip) == 1) {
		p->v6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(p->ip, a6.s6_addr + 12, 4);
		p->v6 = 0;
	} else {
		memcpy(p->ip, a6.s6_addr, 16);
		p->v6 = 1;
	}
	return 0;
}
