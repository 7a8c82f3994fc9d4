/*
 * test-trackd.c - the tracker: the pure announce handler with a fake
 * clock, then real HTTP on 127.0.0.1 through evhttp in one event loop.
 */
#include "trackd.h"
#include "util.h"
#include "tap.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#define T0 1000000ull

static uint8_t rb[P2PL_TRACKD_REPLY_MAX];
static long rlen;
static struct p2pl_trackd *tr;

/* Compare two bencoded strings by their bytes. */
static int
keycmp(const uint8_t *a, const uint8_t *ae, const uint8_t *b,
    const uint8_t *be)
{
	size_t an, bn;
	int c;

	a = memchr(a, ':', (size_t)(ae - a)) + 1;
	b = memchr(b, ':', (size_t)(be - b)) + 1;
	an = (size_t)(ae - a);
	bn = (size_t)(be - b);
	c = memcmp(a, b, an < bn ? an : bn);
	return c != 0 ? c : an < bn ? -1 : an > bn;
}

/* Skip one bencoded value (dict keys sorted, unique); its end or NULL. */
static const uint8_t *
bskip(const uint8_t *p, const uint8_t *e, int depth)
{
	const uint8_t *k = NULL, *ke = NULL, *k2;
	size_t n = 0;
	int dict;

	if (p >= e || depth > 32)
		return NULL;
	if (*p == 'i') {
		p += 1 + (p + 1 < e && p[1] == '-');
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
	if (*p < '0' || *p > '9')
		return NULL;
	while (p < e && *p >= '0' && *p <= '9' && n < 100000000)
		n = n * 10 + (size_t)(*p++ - '0');
	if (p >= e || *p != ':' || (size_t)(e - p - 1) < n)
		return NULL;
	return p + 1 + n;
}

/* The whole reply is one valid dict. */
static int
valid(void)
{
	return rlen > 0 && rb[0] == 'd' && bskip(rb, rb + rlen, 0) == rb + rlen;
}

/* Value of a top-level key in the reply (raw bencoded), or NULL. */
static const uint8_t *
get(const char *key, size_t *vlen)
{
	const uint8_t *p = rb + 1, *e = rb + rlen, *v;
	size_t kl = strlen(key);
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "%zu:", kl);
	while (p < e && *p != 'e') {
		v = bskip(p, e, 1);
		if (v == NULL)
			return NULL;
		if ((size_t)(v - p) == strlen(hdr) + kl &&
		    memcmp(p, hdr, strlen(hdr)) == 0 &&
		    memcmp(p + strlen(hdr), key, kl) == 0) {
			*vlen = (size_t)(bskip(v, e, 1) - v);
			return v;
		}
		p = bskip(v, e, 1);
	}
	return NULL;
}

/* A string value's bytes and length (-1 if absent). */
static long
gets(const char *key, const uint8_t **s)
{
	size_t vl;
	const uint8_t *v = get(key, &vl);
	const uint8_t *c;

	if (v == NULL || (c = memchr(v, ':', vl)) == NULL)
		return -1;
	*s = c + 1;
	return (long)(vl - (size_t)(c + 1 - v));
}

static long
geti(const char *key)
{
	size_t vl;
	const uint8_t *v = get(key, &vl);

	return v != NULL && *v == 'i' ? strtol((const char *)v + 1, NULL, 10) : -999;
}

static int
failed(const char *why)
{
	const uint8_t *s = NULL;
	long n = gets("failure reason", &s);

	return valid() && s != NULL && n == (long)strlen(why) &&
	    memcmp(s, why, (size_t)n) == 0;
}

/* Percent-encode 20 bytes made of byte b and tag. */
static char *
enc20(char *out, uint8_t b, int tag)
{
	int i;

	for (i = 0; i < 20; i++)
		sprintf(out + 3 * i, "%%%02x", i == 19 ? (uint8_t)tag : b);
	return out;
}

/* Announce on stream h as peer id at ip:port with more query text. */
static long
ann(int h, int id, const char *ip, int port, uint64_t now, const char *more)
{
	char q[1024], hs[64], is[64];

	snprintf(q, sizeof(q), "info_hash=%s&peer_id=%s&port=%d%s",
	    enc20(hs, 0xab, h), enc20(is, 0x2d, id), port, more);
	rlen = p2pl_trackd_announce(tr, q, ip, now, rb, sizeof(rb));
	return rlen;
}

static long
npeers(const char *key, size_t esz)
{
	const uint8_t *s;
	long n = gets(key, &s);

	return n < 0 ? -1 : n % (long)esz != 0 ? -2 : n / (long)esz;
}

static struct p2pl_trackd *
mk(int open, int max_swarms, int max_peers)
{
	struct p2pl_trackd_cfg c = { .interval = 60, .open = open,
	    .max_swarms = max_swarms, .max_peers = max_peers };
	char err[P2PL_ERRLEN];

	p2pl_trackd_free(tr);
	tr = p2pl_trackd_new(NULL, NULL, &c, err, sizeof(err));
	if (tr == NULL)
		abort();
	return tr;
}

static void
test_basic(void)
{
	const uint8_t *s;
	static const uint8_t a[6] = { 10, 0, 0, 1, 0x1a, 0xe1 };

	mk(1, 0, 0);
	ann(1, 1, "10.0.0.1", 6881, T0, "&event=started");
	ok(valid() && npeers("peers", 6) == 0 && get("peers6", &(size_t){0}) == NULL,
	    "first peer gets a valid reply with no peers");
	ok(geti("interval") == 60 && geti("min interval") == 30 &&
	    geti("incomplete") == 1 && geti("complete") == 0,
	    "interval, min interval, counts");
	ann(1, 2, "10.0.0.2", 6882, T0, "");
	ok(valid() && npeers("peers", 6) == 1 && gets("peers", &s) == 6 &&
	    memcmp(s, a, 6) == 0, "second peer sees the first compactly");
	ann(1, 1, "10.0.0.1", 6881, T0 + 1, "");
	ok(valid() && npeers("peers", 6) == 1 && gets("peers", &s) == 6 &&
	    s[3] == 2 && p2pl_get16(s + 4) == 6882, "and the first the second");
	ok(p2pl_trackd_count(tr, (uint8_t[20]){ 0 }) == 0, "unknown swarm counts 0");
	ann(1, 3, "2001:db8::7", 7000, T0, "");
	ok(valid() && npeers("peers", 6) == 2 && get("peers6", &(size_t){0}) == NULL,
	    "ipv6 peer gets the ipv4 peers, not itself");
	ann(1, 1, "10.0.0.1", 6881, T0 + 2, "");
	ok(valid() && npeers("peers6", 18) == 1 && gets("peers6", &s) == 18 &&
	    s[0] == 0x20 && s[15] == 7 && p2pl_get16(s + 16) == 7000,
	    "ipv6 peer appears in peers6");
	ann(1, 4, "::ffff:10.0.0.4", 6884, T0, "&left=0");
	ok(valid() && npeers("peers", 6) == 2 && npeers("peers6", 18) == 1 &&
	    geti("complete") == 1 && geti("incomplete") == 3,
	    "v4-mapped counts as ipv4; left=0 is a seed");
	ann(1, 1, "10.0.0.1", 6881, T0 + 3, "&compact=0");
	ok(valid() && get("peers6", &(size_t){0}) == NULL &&
	    memmem(rb, rlen, "2:ip8:10.0.0.4", 14) != NULL &&
	    memmem(rb, rlen, "2:ip11:2001:db8::7", 18) != NULL &&
	    memmem(rb, rlen, "4:porti7000e", 12) != NULL &&
	    memmem(rb, rlen, "7:peer id20:", 12) != NULL &&
	    memmem(rb, rlen, "10.0.0.1", 8) == NULL, "compact=0 lists dicts");
	ok(p2pl_trackd_count(tr, (uint8_t[20]){ [0 ... 18] = 0xab, [19] = 1 }) == 4,
	    "count is 4");
	ann(1, 2, "10.0.0.2", 6882, T0 + 4, "&event=stopped");
	ok(valid() && npeers("peers", 6) == 0 &&
	    p2pl_trackd_count(tr, (uint8_t[20]){ [0 ... 18] = 0xab, [19] = 1 }) == 3,
	    "stopped removes the peer");
	ann(1, 1, "10.0.0.1", 6881, T0 + 5, "");
	ok(valid() && npeers("peers", 6) == 1 && gets("peers", &s) == 6 &&
	    s[3] == 4, "others no longer see a stopped peer");
	ann(1, 9, "10.0.0.1", 6881, T0 + 5, "");
	ok(valid() && npeers("peers", 6) == 1 &&
	    p2pl_trackd_count(tr, (uint8_t[20]){ [0 ... 18] = 0xab, [19] = 1 }) == 3,
	    "new peer_id on the same address and port replaces the entry");
}

static void
test_expiry(void)
{
	uint8_t h[20] = { [0 ... 18] = 0xab, [19] = 2 };

	mk(1, 0, 0);
	ann(2, 1, "10.0.0.1", 1, T0, "");
	ann(2, 2, "10.0.0.2", 2, T0 + 60, "");
	ann(2, 3, "10.0.0.3", 3, T0 + 119, "");
	ok(valid() && npeers("peers", 6) == 2, "both alive before 2x interval");
	ann(2, 3, "10.0.0.3", 3, T0 + 120, "");
	ok(valid() && npeers("peers", 6) == 1 && p2pl_trackd_count(tr, h) == 2,
	    "expired at 2x interval since the last announce");
	ann(2, 3, "10.0.0.3", 3, T0 + 500, "");
	ok(valid() && npeers("peers", 6) == 0 && p2pl_trackd_count(tr, h) == 1,
	    "all others expired later");
}

static void
test_numwant(void)
{
	char ip[32];
	const uint8_t *s;
	long n;
	int i, j, dup = 0, self = 0;

	mk(1, 0, 0);
	for (i = 0; i < 250; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 200, i % 200 + 1);
		ann(3, i, ip, 1000 + i, T0, "");
	}
	ann(3, 0, "10.1.0.1", 1000, T0, "");
	ok(valid() && npeers("peers", 6) == 50, "numwant defaults to 50");
	ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=5");
	ok(valid() && npeers("peers", 6) == 5, "numwant=5 gives 5");
	ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=0");
	ok(valid() && npeers("peers", 6) == 0, "numwant=0 gives none");
	ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=99999999999");
	ok(valid() && npeers("peers", 6) == 50, "absurd numwant: default");
	ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=1000&compact=1");
	n = gets("peers", &s) / 6;
	ok(valid() && n == 200, "numwant is capped at 200");
	for (i = 0; i < n; i++) {
		self += s[6 * i + 3] == 1 && p2pl_get16(s + 6 * i + 4) == 1000;
		for (j = 0; j < i; j++)
			dup += memcmp(s + 6 * i, s + 6 * j, 6) == 0;
	}
	ok(self == 0 && dup == 0, "no duplicates and never the asker itself");
	ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=10");
	{
		uint8_t first[60];

		gets("peers", &s);
		memcpy(first, s, 60);
		ann(3, 0, "10.1.0.1", 1000, T0, "&numwant=10");
		gets("peers", &s);
		ok(memcmp(first, s, 60) != 0, "subsets are random");
	}
	ok(p2pl_trackd_announce(tr, "info_hash=%ab%ab%ab%ab%ab%ab%ab%ab%ab%ab"
	    "%ab%ab%ab%ab%ab%ab%ab%ab%ab%03&peer_id=aaaaaaaaaaaaaaaaaaaa&port=1",
	    "10.1.0.1", T0, rb, 64) == -1, "a reply that does not fit is -1");
}

/* Copy fmt to q with H and I replaced by h and id. */
static void
subst(char *q, size_t qlen, const char *fmt, const char *h, const char *id)
{
	size_t n = 0;

	for (; *fmt != '\0' && n + 64 < qlen; fmt++) {
		if (*fmt == 'H' || *fmt == 'I')
			n += (size_t)sprintf(q + n, "%s", *fmt == 'H' ? h : id);
		else
			q[n++] = *fmt;
	}
	q[n] = '\0';
}

static void
test_bad(void)
{
	char h[64], id[64], q[512];
	static const struct { const char *q, *why; } bad[] = {
		{ "info_hash=%ab%ab&peer_id=I&port=1", "info_hash is not 20 bytes" },
		{ "info_hash=H%00&peer_id=I&port=1", "info_hash is not 20 bytes" },
		{ "info_hash=&peer_id=I&port=1", "info_hash is not 20 bytes" },
		{ "info_hash=H&peer_id=abc&port=1", "peer_id is not 20 bytes" },
		{ "info_hash=H&peer_id=I", "missing port" },
		{ "info_hash=H&peer_id=I&port=0", "invalid port" },
		{ "info_hash=H&peer_id=I&port=65536", "invalid port" },
		{ "info_hash=H&peer_id=I&port=-1", "invalid port" },
		{ "info_hash=H&peer_id=I&port=", "invalid port" },
		{ "info_hash=H&peer_id=I&port=80x", "invalid port" },
		{ "info_hash=%zzH&peer_id=I&port=1", "invalid percent escape" },
		{ "info_hash=H%4&peer_id=I&port=1", "invalid percent escape" },
		{ "info_hash=H&peer_id=I%&port=1", "invalid percent escape" },
		{ "info_hash=H&peer_id=I&port=1&event=exploded", "invalid event" },
		{ "peer_id=I&port=1", "missing info_hash" },
		{ "info_hash=H&port=1", "missing peer_id" },
		{ "", "missing info_hash" },
	};
	size_t i;
	int good = 1;

	mk(1, 0, 0);
	enc20(h, 1, 1);
	enc20(id, 2, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		subst(q, sizeof(q), bad[i].q, h, id);
		rlen = p2pl_trackd_announce(tr, q, "10.0.0.1", T0, rb, sizeof(rb));
		if (!failed(bad[i].why)) {
			good = 0;
			printf("# %s: %.*s\n", q, (int)rlen, rb);
		}
	}
	ok(good, "bad queries get the right failure reason");
	snprintf(q, sizeof(q), "ip=6.6.6.6&info_hash=%s&peer_id=%s&port=1", h, id);
	rlen = p2pl_trackd_announce(tr, q, "not-an-ip", T0, rb, sizeof(rb));
	ok(rlen == -1, "a remote address that is not one is -1");
	rlen = p2pl_trackd_announce(tr, q, "fe80::1%eth0", T0, rb, sizeof(rb));
	ok(valid() && geti("incomplete") == 1, "ipv6 zone is ignored");
	snprintf(q, sizeof(q), "info_hash=%s&peer_id=%s&port=2&ip=6.6.6.6", h, id);
	rlen = p2pl_trackd_announce(tr, q, "10.0.0.9", T0, rb, sizeof(rb));
	ok(valid() && npeers("peers", 6) == 0 && npeers("peers6", 18) == 1,
	    "the ip parameter is ignored");
	ok(ann(1, 1, "10.0.0.1", 1, T0, "&&=&x&numwant=abc&compact") > 0 && valid() &&
	    geti("interval") == 60, "empty and unknown pairs are ignored");
	ok(ann(1, 1, "10.0.0.1", 1, T0, "&numwant=5&numwant=") > 0 && valid(),
	    "repeated keys are fine");
}

static void
test_bounds(void)
{
	uint8_t h[20] = { [0 ... 18] = 0xab, [19] = 5 };

	mk(1, 2, 3);
	ann(5, 1, "10.0.0.1", 1, T0, "");
	ann(5, 2, "10.0.0.2", 1, T0, "");
	ann(5, 3, "10.0.0.3", 1, T0, "");
	ok(valid() && npeers("peers", 6) == 2, "three peers fit");
	ann(5, 4, "10.0.0.4", 1, T0, "");
	ok(failed("stream has too many peers") && p2pl_trackd_count(tr, h) == 3,
	    "max_peers refuses the fourth");
	ann(5, 1, "10.0.0.1", 1, T0 + 1, "");
	ok(valid() && npeers("peers", 6) == 2, "known peers still announce");
	ann(5, 4, "10.0.0.4", 1, T0 + 200, "");
	ok(valid() && npeers("peers", 6) == 0, "room again once peers expire");
	ann(6, 1, "10.0.0.1", 1, T0, "");
	ann(7, 1, "10.0.0.1", 1, T0, "");
	ok(failed("too many streams"), "max_swarms refuses a third stream");
	ann(6, 1, "10.0.0.1", 1, T0, "&event=stopped");
	ann(7, 1, "10.0.0.1", 1, T0, "");
	ok(valid() && geti("incomplete") == 1, "an emptied stream frees its slot");

	mk(0, 2, 0);
	ann(5, 1, "10.0.0.1", 1, T0, "");
	ok(failed("unknown stream"), "closed tracker refuses unknown streams");
	ok(p2pl_trackd_allow(tr, h) == 0, "allow");
	ann(5, 1, "10.0.0.1", 1, T0, "&event=stopped");
	ann(5, 1, "10.0.0.1", 1, T0, "");
	ok(valid() && geti("incomplete") == 1,
	    "allowed stream is tracked and survives being emptied");
	h[0] = 1;
	ok(p2pl_trackd_allow(tr, h) == 0, "allow a second");
	h[0] = 2;
	ok(p2pl_trackd_allow(tr, h) == -1, "allow beyond max_swarms is -1");
}

/* End to end: evhttp server and client in one loop on 127.0.0.1. */
struct http_res {
	struct event_base *base;
	int code;
	uint8_t body[4096];
	size_t len;
	char ctype[64];
};

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct http_res *r = arg;
	const char *ct;

	r->code = req != NULL ? evhttp_request_get_response_code(req) : -1;
	if (req != NULL) {
		ct = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Content-Type");
		snprintf(r->ctype, sizeof(r->ctype), "%s", ct ? ct : "");
		r->len = evbuffer_remove(evhttp_request_get_input_buffer(req),
		    r->body, sizeof(r->body));
	}
	event_base_loopexit(r->base, NULL);
}

static int
fetch(struct event_base *base, int port, enum evhttp_cmd_type cmd,
    const char *path, struct http_res *r)
{
	struct evhttp_connection *c;
	struct evhttp_request *req;

	memset(r, 0, sizeof(*r));
	r->base = base;
	c = evhttp_connection_base_new(base, NULL, "127.0.0.1", (uint16_t)port);
	req = evhttp_request_new(on_reply, r);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "x");
	if (evhttp_make_request(c, req, cmd, path) == -1)
		return -1;
	event_base_dispatch(base);
	evhttp_connection_free(c);
	memcpy(rb, r->body, r->len);
	rlen = (long)r->len;
	return r->code;
}

static void
test_http(void)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct p2pl_trackd *t, *t2;
	struct http_res r;
	char err[P2PL_ERRLEN], path[512], h[64], id[64];
	const uint8_t *s;
	int port;

	bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	t = p2pl_trackd_new(base, http, &(struct p2pl_trackd_cfg){ .open = 1 },
	    err, sizeof(err));
	ok(t != NULL && port > 0, "tracker serves on 127.0.0.1:%d", port);
	t2 = p2pl_trackd_new(base, http, NULL, err, sizeof(err));
	ok(t2 == NULL && strstr(err, "already") != NULL,
	    "a second tracker on the same server fails: %s", err);
	snprintf(path, sizeof(path), "/announce?info_hash=%s&peer_id=%s&port=5001"
	    "&uploaded=0&downloaded=0&left=100&event=started&compact=1",
	    enc20(h, 0x77, 1), enc20(id, 0x2d, 1));
	ok(fetch(base, port, EVHTTP_REQ_GET, path, &r) == 200 && valid() &&
	    npeers("peers", 6) == 0 && strcmp(r.ctype, "text/plain") == 0,
	    "first GET /announce: 200, text/plain, valid dict");
	snprintf(path, sizeof(path), "/announce?info_hash=%s&peer_id=%s&port=5002",
	    h, enc20(id, 0x2d, 2));
	ok(fetch(base, port, EVHTTP_REQ_GET, path, &r) == 200 && valid() &&
	    gets("peers", &s) == 6 && s[0] == 127 && s[3] == 1 &&
	    p2pl_get16(s + 4) == 5001, "second sees the first at 127.0.0.1:5001");
	ok(p2pl_trackd_count(t, (uint8_t[20]){ [0 ... 18] = 0x77, [19] = 1 }) == 2,
	    "count over http is 2");
	ok(fetch(base, port, EVHTTP_REQ_GET, "/announce?port=1", &r) == 200 &&
	    failed("missing info_hash"), "bad query: failure reason over http");
	ok(fetch(base, port, EVHTTP_REQ_POST, path, &r) == 405, "POST is 405");
	ok(fetch(base, port, EVHTTP_REQ_GET, "/stats", &r) == 404,
	    "other paths stay the caller's");
	p2pl_trackd_free(t);
	ok(fetch(base, port, EVHTTP_REQ_GET, path, &r) == 404,
	    "free unregisters /announce");
	evhttp_free(http);
	event_base_free(base);
}

int
main(void)
{
	test_basic();
	test_expiry();
	test_numwant();
	test_bad();
	test_bounds();
	p2pl_trackd_free(tr);
	tr = NULL;
	test_http();
	return tap_done();
}
