/* uri.c - parse and format p2pl: stream URIs. */
#include "uri.h"

#include <stdio.h>
#include <string.h>

/* Percent-decode n bytes of in into out (NUL-terminated); refuses controls. */
static int
pct_decode(const char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = p2pl_hexval(in[i + 1]);
			lo = p2pl_hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int
uri_param(struct p2pl_uri *u, const char *p, size_t n, char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	char val[P2PL_TRACKER_MAX];
	size_t klen;

	if (eq == NULL)
		return 0;	/* unknown flag-like parameter: ignored */
	klen = (size_t)(eq - p);
	if (pct_decode(eq + 1, n - klen - 1, val, sizeof(val)) == -1) {
		p2pl_seterr(err, errlen, "bad value in uri parameter '%.*s'",
		    (int)klen, p);
		return -1;
	}
	if (klen == 4 && memcmp(p, "peer", 4) == 0) {
		if (u->npeers == P2PL_URI_PEERS) {
			p2pl_seterr(err, errlen, "too many peers in uri (max %d)",
			    P2PL_URI_PEERS);
			return -1;
		}
		return p2pl_addr_parse(val, NULL, 0, &u->peers[u->npeers++],
		    err, errlen);
	}
	if (klen == 2 && memcmp(p, "tr", 2) == 0) {
		if (u->ntrackers == P2PL_URI_TRACKERS) {
			p2pl_seterr(err, errlen,
			    "too many trackers in uri (max %d)",
			    P2PL_URI_TRACKERS);
			return -1;
		}
		if (strncmp(val, "http://", 7) != 0 &&
		    strncmp(val, "https://", 8) != 0) {
			p2pl_seterr(err, errlen, "tracker '%.80s' is not an "
			    "http(s) url", val);
			return -1;
		}
		memcpy(u->trackers[u->ntrackers++], val, strlen(val) + 1);
	}
	if (klen == 6 && memcmp(p, "secret", 6) == 0) {
		if (u->has_secret || strlen(val) != P2PL_KEY_B32LEN ||
		    p2pl_base32_decode(val, strlen(val), u->secret,
		    sizeof(u->secret)) != 32) {
			p2pl_seterr(err, errlen, "bad or repeated secret in uri");
			return -1;
		}
		u->has_secret = 1;
	}
	return 0;
}

int
p2pl_uri_parse(const char *s, struct p2pl_uri *u, char *err, size_t errlen)
{
	const char *k, *q, *p, *amp;
	size_t len = strnlen(s, P2PL_URI_MAX + 1);

	memset(u, 0, sizeof(*u));
	if (len > P2PL_URI_MAX) {
		p2pl_seterr(err, errlen, "uri longer than %d bytes",
		    P2PL_URI_MAX);
		return -1;
	}
	if (strncmp(s, "p2pl:", 5) != 0) {
		p2pl_seterr(err, errlen, "not a p2pl uri (must start with p2pl:)");
		return -1;
	}
	k = s + 5;
	if (strncmp(k, "//", 2) == 0)
		k += 2;
	q = strchr(k, '?');
	if (q == NULL)
		q = s + len;
	if (q - k != P2PL_KEY_B32LEN ||
	    p2pl_base32_decode(k, P2PL_KEY_B32LEN, u->key, sizeof(u->key))
	    != P2PL_KEYLEN) {
		p2pl_seterr(err, errlen, "bad stream key in uri (want %d "
		    "base32 characters)", P2PL_KEY_B32LEN);
		return -1;
	}
	for (p = *q ? q + 1 : q; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (uri_param(u, p, (size_t)(amp - p), err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Append s percent-encoding everything but unreserved characters. */
static int
pct_append(char *out, size_t outlen, size_t *o, const char *s, int keep)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) ||
		    (keep && strchr(":[]/", c))) {
			if (*o + 1 >= outlen)
				return -1;
			out[(*o)++] = (char)c;
		} else {
			if (*o + 3 >= outlen)
				return -1;
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	out[*o] = '\0';
	return 0;
}

int
p2pl_uri_format(const struct p2pl_uri *u, char *out, size_t outlen)
{
	char a[300];
	size_t o;
	int i;
	char sep = '?';

	if (outlen < 6 + P2PL_KEY_B32LEN)
		return -1;
	memcpy(out, "p2pl:", 5);
	o = 5 + p2pl_base32_encode(u->key, sizeof(u->key), out + 5,
	    outlen - 5);
	for (i = 0; i < u->npeers; i++) {
		if (o + 7 >= outlen)
			return -1;
		o += (size_t)snprintf(out + o, outlen - o, "%cpeer=", sep);
		sep = '&';
		p2pl_addr_format(&u->peers[i], a, sizeof(a));
		if (pct_append(out, outlen, &o, a, 1) == -1)
			return -1;
	}
	for (i = 0; i < u->ntrackers; i++) {
		if (o + 5 >= outlen)
			return -1;
		o += (size_t)snprintf(out + o, outlen - o, "%ctr=", sep);
		sep = '&';
		if (pct_append(out, outlen, &o, u->trackers[i], 0) == -1)
			return -1;
	}
	if (u->has_secret) {
		if (o + 9 + P2PL_KEY_B32LEN >= outlen)
			return -1;
		o += (size_t)snprintf(out + o, outlen - o, "%csecret=", sep);
		o += p2pl_base32_encode(u->secret, 32, out + o, outlen - o);
	}
	return (int)o;
}
