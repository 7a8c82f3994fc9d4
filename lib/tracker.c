/*
 * tracker.c - BitTorrent HTTP tracker client: announce URLs, replies,
 * when to announce; the transfers are trackhttp.c's and trackcurl.c's.
 */
#include "tracker-int.h"
#include "bencode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXVALUES 8192		/* bencoded values in one reply */
#define BACKOFF_MIN 15		/* seconds before the first retry */
#define BACKOFF_MAX 600
#define URL_MAX 4096

/* Add one peer unless its port or address is zero or out is full. */
static void
add_peer(struct p2pl_addr *out, int max, int *n, int af, const void *ip,
    uint16_t port)
{
	static const uint8_t zero[16];

	if (*n >= max || port == 0 ||
	    memcmp(ip, zero, af == AF_INET ? 4 : 16) == 0)
		return;
	if (inet_ntop(af, ip, out[*n].host, sizeof(out[*n].host)) == NULL)
		return;
	out[*n].port = port;
	(*n)++;
}

/* Compact peers: 4- or 16-byte address and big-endian port, repeated. */
static int
compact_peers(const struct p2pl_benc *v, int af, struct p2pl_addr *out,
    int max, int *n, char *err, size_t errlen)
{
	size_t w = af == AF_INET ? 6 : 18, i;

	if (v->len % w != 0) {
		p2pl_seterr(err, errlen, "compact %s of %zu bytes",
		    af == AF_INET ? "peers" : "peers6", v->len);
		return -1;
	}
	for (i = 0; i < v->len; i += w)
		add_peer(out, max, n, af, v->s + i,
		    p2pl_get16(v->s + i + w - 2));
	return 0;
}

/* The original form: a list of dicts with "ip" (a literal) and "port". */
static void
dict_peers(const struct p2pl_benc *l, struct p2pl_addr *out, int max, int *n)
{
	const struct p2pl_benc *e = p2pl_benc_child(l);
	const uint8_t *ip;
	uint8_t bin[16];
	char s[INET6_ADDRSTRLEN];
	int64_t port;
	size_t len;
	int i;

	for (i = 0; i < l->n; i++, e = p2pl_benc_next(e)) {
		ip = p2pl_benc_get_str(e, "ip", &len);
		if (ip == NULL || len >= sizeof(s) ||
		    p2pl_benc_get_int(e, "port", &port) == -1 ||
		    port < 1 || port > 65535)
			continue;
		memcpy(s, ip, len);
		s[len] = '\0';
		if (inet_pton(AF_INET, s, bin) == 1)
			add_peer(out, max, n, AF_INET, bin, (uint16_t)port);
		else if (inet_pton(AF_INET6, s, bin) == 1)
			add_peer(out, max, n, AF_INET6, bin, (uint16_t)port);
	}
}

/* "tracker said: " and the reason, printable and bounded. */
static void
failure(const uint8_t *s, size_t len, char *err, size_t errlen)
{
	char why[201];
	size_t i;

	if (len > sizeof(why) - 1)
		len = sizeof(why) - 1;
	for (i = 0; i < len; i++)
		why[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	why[len] = '\0';
	p2pl_seterr(err, errlen, "tracker said: %s", why);
}

/* Seconds to the next announce from "interval" and "min interval". */
static int
reply_interval(const struct p2pl_benc *d)
{
	int64_t iv = P2PL_TRACKER_MAX_INTERVAL, min;

	p2pl_benc_get_int(d, "interval", &iv);
	if (iv < P2PL_TRACKER_MIN_INTERVAL)
		iv = P2PL_TRACKER_MIN_INTERVAL;
	if (iv > P2PL_TRACKER_MAX_INTERVAL)
		iv = P2PL_TRACKER_MAX_INTERVAL;
	if (p2pl_benc_get_int(d, "min interval", &min) == 0 && min > iv)
		iv = min < P2PL_TRACKER_MAX_INTERVAL ? min :
		    P2PL_TRACKER_MAX_INTERVAL;
	return (int)iv;
}

int
p2pl_tracker_parse_reply(const uint8_t *buf, size_t n,
    struct p2pl_addr *out, int max, int *interval, char *err, size_t errlen)
{
	const struct p2pl_benc *d, *v;
	struct p2pl_benc *vals;
	char why[P2PL_ERRLEN];
	int npeers = 0, rc = -1;

	if ((vals = calloc(MAXVALUES, sizeof(*vals))) == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (p2pl_benc_decode(buf, n, vals, MAXVALUES, why, sizeof(why)) == -1) {
		p2pl_seterr(err, errlen, "bad reply: %s", why);
		goto out;
	}
	d = vals;
	if (d->type != P2PL_BENC_DICT) {
		p2pl_seterr(err, errlen, "bad reply: not a dict");
		goto out;
	}
	if ((v = p2pl_benc_get(d, "failure reason")) != NULL) {
		if (v->type == P2PL_BENC_STR)
			failure(v->s, v->len, err, errlen);
		else
			p2pl_seterr(err, errlen, "tracker said: (no reason)");
		goto out;
	}
	*interval = reply_interval(d);
	v = p2pl_benc_get(d, "peers");
	if (v != NULL && v->type == P2PL_BENC_STR &&
	    compact_peers(v, AF_INET, out, max, &npeers, err, errlen) == -1)
		goto out;
	if (v != NULL && v->type == P2PL_BENC_LIST)
		dict_peers(v, out, max, &npeers);
	v = p2pl_benc_get(d, "peers6");
	if (v != NULL && v->type == P2PL_BENC_STR &&
	    compact_peers(v, AF_INET6, out, max, &npeers, err, errlen) == -1)
		goto out;
	rc = npeers;
out:
	free(vals);
	return rc;
}

/* Append s to p, percent-encoding all but RFC 3986 unreserved bytes. */
static char *
escape(char *p, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.' || s[i] == '_' || s[i] == '~') {
			*p++ = (char)s[i];
			continue;
		}
		*p++ = '%';
		*p++ = hex[s[i] >> 4];
		*p++ = hex[s[i] & 15];
	}
	return p;
}

/* The announce URL for t's next request (malloc'd), or NULL. */
static char *
announce_url(const struct p2pl_tracker *t)
{
	size_t len = strlen(t->url) + 2 * 3 * 20 + 256;
	char *u, *p;

	if ((u = malloc(len)) == NULL)
		return NULL;
	p = u + sprintf(u, "%s%cinfo_hash=", t->url,
	    strchr(t->url, '?') != NULL ? '&' : '?');
	p = escape(p, t->info_hash, 20);
	p += sprintf(p, "&peer_id=");
	p = escape(p, t->peer_id, 20);
	snprintf(p, len - (size_t)(p - u), "&port=%u&uploaded=%llu"
	    "&downloaded=%llu&left=0&compact=1&numwant=%d%s", t->port,
	    (unsigned long long)t->uploaded,
	    (unsigned long long)t->downloaded, P2PL_TRACKER_NUMWANT,
	    t->started ? "" : "&event=started");
	return u;
}

int
p2pl__tracker_take(struct p2pl_tracker *t, const void *d, size_t n)
{
	size_t cap;
	uint8_t *r;

	if (n > P2PL_TRACKER_REPLY_MAX - t->replylen) {
		t->toolarge = 1;
		return -1;
	}
	if (t->replylen + n > t->replycap) {
		cap = t->replycap < 4096 ? 4096 : t->replycap * 2;
		while (cap < t->replylen + n)
			cap *= 2;
		if (cap > P2PL_TRACKER_REPLY_MAX)
			cap = P2PL_TRACKER_REPLY_MAX;
		if ((r = realloc(t->reply, cap)) == NULL) {
			t->nomem = 1;
			return -1;
		}
		t->reply = r;
		t->replycap = cap;
	}
	memcpy(t->reply + t->replylen, d, n);
	t->replylen += n;
	return 0;
}

static void
destroy(struct p2pl_tracker *t)
{
	p2pl__http_free(t);
	p2pl__curl_free(t);
	if (t->announce_timer != NULL)
		event_free(t->announce_timer);
	free(t->peers);
	free(t->reply);
	free(t->url);
	free(t);
}

/* Call a user callback; 1 if it freed t (which is then gone). */
static int
report(struct p2pl_tracker *t, int n, const char *why)
{
	t->incb = 1;
	if (n >= 0 && t->cb.peers != NULL)
		t->cb.peers(t->cb.arg, t->peers, n);
	else if (n < 0 && t->cb.error != NULL)
		t->cb.error(t->cb.arg, why);
	t->incb = 0;
	if (!t->dead)
		return 0;
	destroy(t);
	return 1;
}

static void
schedule(struct p2pl_tracker *t, int secs)
{
	struct timeval tv = { secs, 0 };

	evtimer_add(t->announce_timer, &tv);
}

/* A failed announce: retry later, and say why. */
static int
failed(struct p2pl_tracker *t, const char *why)
{
	schedule(t, t->backoff);
	t->backoff = t->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    t->backoff * 2;
	return report(t, -1, why);
}

int
p2pl__tracker_end(struct p2pl_tracker *t, long code, const char *why)
{
	char err[P2PL_ERRLEN];
	int n = -1, interval = P2PL_TRACKER_MAX_INTERVAL;

	if (t->toolarge)
		p2pl_seterr(err, sizeof(err), "reply over %d bytes",
		    P2PL_TRACKER_REPLY_MAX);
	else if (t->nomem)
		p2pl_seterr(err, sizeof(err), "out of memory");
	else if (why != NULL)
		p2pl_seterr(err, sizeof(err), "%s", why);
	else {
		n = p2pl_tracker_parse_reply(t->reply, t->replylen, t->peers,
		    P2PL_TRACKER_PEERS, &interval, err, sizeof(err));
		/* a failure reason explains an error status best */
		if (code != 200 && (n >= 0 || strncmp(err, "tracker said: ",
		    14) != 0)) {
			n = -1;
			p2pl_seterr(err, sizeof(err), "http %ld", code);
		}
	}
	if (n < 0)
		return failed(t, err);
	t->started = 1;
	t->backoff = BACKOFF_MIN;
	schedule(t, interval);
	return report(t, n, NULL);
}

/* Timer: send the next announce. */
static void
on_announce(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_tracker *t = arg;
	char why[P2PL_ERRLEN], *url;
	int rc;

	(void)fd;
	(void)what;
	if (p2pl__http_busy(t) || p2pl__curl_busy(t))
		return;
	t->replylen = 0;
	t->toolarge = t->nomem = 0;
	if ((url = announce_url(t)) == NULL) {
		failed(t, "out of memory");
		return;
	}
	rc = strncasecmp(url, "https://", 8) == 0 ?
	    p2pl__curl_get(t, url, P2PL_TRACKER_REDIRECTS, why, sizeof(why)) :
	    p2pl__http_get(t, url, P2PL_TRACKER_REDIRECTS, why, sizeof(why));
	free(url);
	if (rc == -1)
		failed(t, why);
}

/* Is url http:// or https:// with something after? */
static int
url_ok(const char *url)
{
	size_t n = strlen(url);

	if (n >= URL_MAX || strpbrk(url, " \t\r\n#"))
		return 0;
	return (strncasecmp(url, "http://", 7) == 0 && n > 7) ||
	    (strncasecmp(url, "https://", 8) == 0 && n > 8);
}

struct p2pl_tracker *
p2pl_tracker_new(struct event_base *base, struct evdns_base *dns,
    const char *url,
    const uint8_t info_hash[20], const uint8_t peer_id[20], uint16_t port,
    const struct p2pl_tracker_cb *cb, char *err, size_t errlen)
{
	struct p2pl_tracker *t;

	if (!url_ok(url)) {
		p2pl_seterr(err, errlen, "tracker url is not http(s): %.200s",
		    url);
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	t->base = base;
	t->dns = dns;
	t->cb = *cb;
	memcpy(t->info_hash, info_hash, 20);
	memcpy(t->peer_id, peer_id, 20);
	t->port = port;
	t->backoff = BACKOFF_MIN;
	t->url = strdup(url);
	t->peers = calloc(P2PL_TRACKER_PEERS, sizeof(*t->peers));
	t->announce_timer = evtimer_new(base, on_announce, t);
	if (t->url == NULL || t->peers == NULL || t->announce_timer == NULL)
		goto nomem;
	schedule(t, 0);
	return t;
nomem:
	p2pl_seterr(err, errlen, "out of memory");
	if (t != NULL)
		destroy(t);
	return NULL;
}

void
p2pl_tracker_free(struct p2pl_tracker *t)
{
	if (t == NULL)
		return;
	if (t->incb) {
		t->dead = 1;
		return;
	}
	destroy(t);
}

void
p2pl_tracker_set_counts(struct p2pl_tracker *t, uint64_t uploaded,
    uint64_t downloaded)
{
	t->uploaded = uploaded;
	t->downloaded = downloaded;
}
