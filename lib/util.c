/* util.c - error strings, clocks, base32, rates and addresses. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
p2pl_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
p2pl_wall_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

uint64_t
p2pl_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

size_t
p2pl_base32_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0, need = (n * 8 + 4) / 5;
	uint32_t acc = 0;
	int bits = 0;

	if (outlen < need + 1)
		return 0;
	for (i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

int
p2pl_base32_decode(const char *in, size_t n, uint8_t *out, size_t outlen)
{
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;
	char c;

	for (i = 0; i < n; i++) {
		c = (char)tolower((unsigned char)in[i]);
		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero padding, fewer than a character */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (int)o;
}

int
p2pl_rate_parse(const char *s, struct p2pl_rate *r, char *err, size_t errlen)
{
	char *end;
	double v, mul = 1;

	memset(r, 0, sizeof(*r));
	if (strcmp(s, "unlimited") == 0 || strcmp(s, "inf") == 0) {
		r->kind = P2PL_RATE_UNLIMITED;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		goto bad;
	if (strcmp(end, "x") == 0) {
		if (v > 1000)
			goto bad;
		r->kind = P2PL_RATE_MULT;
		r->mult = v;
		return 0;
	}
	if (*end == 'k' || *end == 'K')
		mul = 1e3;
	else if (*end == 'm' || *end == 'M')
		mul = 1e6;
	else if (*end == 'g' || *end == 'G')
		mul = 1e9;
	else if (*end != '\0')
		goto bad;
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (v * mul > 1e12)
		goto bad;
	r->kind = P2PL_RATE_FIXED;
	r->bps = (uint64_t)llround(v * mul);
	return 0;
bad:
	p2pl_seterr(err, errlen, "bad rate '%s' (want e.g. 800k, 2M or 1.5x)", s);
	return -1;
}

uint64_t
p2pl_rate_bytes(const struct p2pl_rate *r, uint64_t stream_bps)
{
	switch (r->kind) {
	case P2PL_RATE_FIXED:
		return r->bps / 8;
	case P2PL_RATE_MULT:
		/* before the bitrate is known, assume 1 Mbit/s */
		if (stream_bps == 0)
			stream_bps = 1000000;
		return (uint64_t)(r->mult * (double)stream_bps / 8);
	default:
		return UINT64_MAX;
	}
}

static int
parse_port(const char *s, int allow_zero, uint16_t *port)
{
	char *end;
	long v;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > 65535 || (v == 0 && !allow_zero))
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
p2pl_addr_parse(const char *s, const char *defhost, int allow_zero,
    struct p2pl_addr *a, char *err, size_t errlen)
{
	const char *colon, *host = s, *port;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (colon == NULL || colon[1] != ':')
			goto bad;
		host = s + 1;
		hlen = (size_t)(colon - host);
		port = colon + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			goto bad;	/* bare IPv6 needs brackets */
		hlen = (size_t)(colon - s);
		port = colon + 1;
	} else if (defhost != NULL) {
		host = defhost;
		hlen = strlen(defhost);
		port = s;
	} else
		goto bad;
	/* an empty host is only the default's: listen on every address */
	if ((hlen == 0 && host != defhost) || hlen >= sizeof(a->host))
		goto bad;
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) &&
		    strchr(".-:_%", host[i]) == NULL)
			goto bad;
	memcpy(a->host, host, hlen);
	if (parse_port(port, allow_zero, &a->port) == -1)
		goto bad;
	return 0;
bad:
	p2pl_seterr(err, errlen, "bad address '%.80s' (want HOST:PORT)", s);
	return -1;
}

char *
p2pl_addr_format(const struct p2pl_addr *a, char *out, size_t outlen)
{
	if (strchr(a->host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%u", a->host, a->port);
	else
		snprintf(out, outlen, "%s:%u", a->host, a->port);
	return out;
}

int
p2pl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
