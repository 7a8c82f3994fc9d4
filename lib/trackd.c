/*
 * trackd.c - the BitTorrent HTTP tracker: swarms and their peers, expiry,
 * the bencoded replies, and the evhttp glue.  The announce query is read
 * in trackdquery.c.
 */
#include "trackd-int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <sodium.h>

struct swarm {
	uint8_t hash[20];
	int allowed;
	struct peer *peers;
	int n, cap;
};

struct p2pl_trackd {
	struct p2pl_trackd_cfg cfg;
	struct evhttp *http;
	struct event *timer;
	struct swarm **sw;	/* max_swarms slots */
	int nsw;
	uint8_t reply[P2PL_TRACKD_REPLY_MAX];
};

/* The reply being written: overflow is checked once at the end. */
struct out {
	uint8_t *p;
	size_t len, cap;
	int over;
};

static void
put(struct out *o, const void *d, size_t n)
{
	if (o->over || n > o->cap - o->len) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, d, n);
	o->len += n;
}

/* A short formatted piece: an integer or a string's length prefix. */
static void
put_fmt(struct out *o, const char *fmt, long long v)
{
	char s[32];

	snprintf(s, sizeof(s), fmt, v);
	put(o, s, strlen(s));
}

static void
put_str(struct out *o, const void *d, size_t n)
{
	put_fmt(o, "%lld:", (long long)n);
	put(o, d, n);
}

/* A whole reply holding only "failure reason". */
static long
fail(struct out *o, const char *why)
{
	o->len = 0;
	o->over = 0;
	put(o, "d14:failure reason", 18);
	put_str(o, why, strlen(why));
	put(o, "e", 1);
	return o->over ? -1 : (long)o->len;
}

static int
same_addr(const struct peer *a, const struct peer *b)
{
	return a->v6 == b->v6 && memcmp(a->ip, b->ip, 16) == 0;
}

/* Index of the swarm for hash, or -1. */
static int
find_swarm(const struct p2pl_trackd *t, const uint8_t hash[20])
{
	int i;

	for (i = 0; i < t->nsw; i++)
		if (memcmp(t->sw[i]->hash, hash, 20) == 0)
			return i;
	return -1;
}

/* The swarm for hash, made if need be; NULL when full or out of memory. */
static struct swarm *
add_swarm(struct p2pl_trackd *t, const uint8_t hash[20])
{
	struct swarm *s;
	int i = find_swarm(t, hash);

	if (i >= 0)
		return t->sw[i];
	if (t->nsw >= t->cfg.max_swarms || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->hash, hash, 20);
	t->sw[t->nsw++] = s;
	return s;
}

/* Free swarm i; the last one takes its place. */
static void
drop_swarm(struct p2pl_trackd *t, int i)
{
	free(t->sw[i]->peers);
	free(t->sw[i]);
	t->sw[i] = t->sw[--t->nsw];
}

/* Forget peers silent for two intervals (order of peers is not kept). */
static void
expire(const struct p2pl_trackd *t, struct swarm *s, uint64_t now)
{
	uint64_t ttl = 2 * (uint64_t)t->cfg.interval;
	int i = 0;

	while (i < s->n) {
		if (now > s->peers[i].last && now - s->peers[i].last >= ttl)
			s->peers[i] = s->peers[--s->n];
		else
			i++;
	}
}

/* Index of me (same address, and same peer_id or port), or -1. */
static int
find_peer(const struct swarm *s, const struct peer *me)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (same_addr(&s->peers[i], me) &&
		    (memcmp(s->peers[i].id, me->id, 20) == 0 ||
		    s->peers[i].port == me->port))
			return i;
	return -1;
}

/* Record me in s; NULL, or why not. */
static const char *
update_peer(const struct p2pl_trackd *t, struct swarm *s, const struct req *r)
{
	struct peer *np;
	int i = find_peer(s, &r->me), cap;

	if (r->event == EV_STOPPED) {
		if (i >= 0)
			s->peers[i] = s->peers[--s->n];
		return NULL;
	}
	if (i < 0) {
		if (s->n >= t->cfg.max_peers)
			return "stream has too many peers";
		if (s->n == s->cap) {
			cap = s->cap == 0 ? 8 : s->cap * 2;
			if (cap > t->cfg.max_peers)
				cap = t->cfg.max_peers;
			np = realloc(s->peers, (size_t)cap * sizeof(*np));
			if (np == NULL)
				return "out of memory";
			s->peers = np;
			s->cap = cap;
		}
		i = s->n++;
	}
	s->peers[i] = r->me;
	if (r->event == EV_COMPLETED)
		s->peers[i].seed = 1;
	return NULL;
}

static void
swap_peer(struct swarm *s, int a, int b)
{
	struct peer tmp = s->peers[a];

	s->peers[a] = s->peers[b];
	s->peers[b] = tmp;
}

/*
 * Move up to want random peers other than me to the front of s->peers
 * (a partial Fisher-Yates shuffle); returns how many.
 */
static int
pick(struct swarm *s, const struct peer *me, int want)
{
	int i, n = s->n;

	for (i = 0; i < n; ) {
		if (same_addr(&s->peers[i], me) && s->peers[i].port == me->port)
			swap_peer(s, i, --n);
		else
			i++;
	}
	if (want > n)
		want = n;
	for (i = 0; i < want; i++)
		swap_peer(s, i, i + (int)randombytes_uniform((uint32_t)(n - i)));
	return want;
}

static void
put_peer_dict(struct out *o, const struct peer *p)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(p->v6 ? AF_INET6 : AF_INET, p->ip, ip, sizeof(ip));
	put(o, "d2:ip", 5);
	put_str(o, ip, strlen(ip));
	put(o, "7:peer id", 9);
	put_str(o, p->id, 20);
	put(o, "4:port", 6);
	put_fmt(o, "i%llde", p->port);
	put(o, "e", 1);
}

/* One compact string of the first n peers of s in family v6. */
static void
put_compact(struct out *o, const struct swarm *s, int n, int v6)
{
	size_t esz = v6 ? 18 : 6;
	uint8_t e[18];
	int i, cnt = 0;

	for (i = 0; i < n; i++)
		cnt += s->peers[i].v6 == v6;
	put_fmt(o, "%lld:", (long long)(cnt * esz));
	for (i = 0; i < n; i++) {
		if (s->peers[i].v6 != v6)
			continue;
		memcpy(e, s->peers[i].ip, esz - 2);
		p2pl_put16(e + esz - 2, s->peers[i].port);
		put(o, e, esz);
	}
}

/* "peers" (and "peers6" when any) for the first n peers of s. */
static void
put_peers(struct out *o, const struct swarm *s, int n, int compact)
{
	int i, n6 = 0;

	if (!compact) {
		put(o, "5:peersl", 8);
		for (i = 0; i < n; i++)
			put_peer_dict(o, &s->peers[i]);
		put(o, "e", 1);
		return;
	}
	put(o, "5:peers", 7);
	put_compact(o, s, n, 0);
	for (i = 0; i < n; i++)
		n6 += s->peers[i].v6;
	if (n6 > 0) {
		put(o, "6:peers6", 8);
		put_compact(o, s, n, 1);
	}
}

/* The normal reply: counts, intervals and n picked peers. */
static void
put_reply(const struct p2pl_trackd *t, struct out *o, const struct swarm *s,
    int n, int compact)
{
	int i, seeds = 0;

	for (i = 0; s != NULL && i < s->n; i++)
		seeds += s->peers[i].seed;
	put(o, "d8:complete", 11);
	put_fmt(o, "i%llde", seeds);
	put(o, "10:incomplete", 13);
	put_fmt(o, "i%llde", (s != NULL ? s->n : 0) - seeds);
	put(o, "8:interval", 10);
	put_fmt(o, "i%llde", t->cfg.interval);
	put(o, "12:min interval", 15);
	put_fmt(o, "i%llde", t->cfg.interval / 2);
	if (s == NULL)
		put(o, "5:peers0:", 9);
	else
		put_peers(o, s, n, compact);
	put(o, "e", 1);
}

long
p2pl_trackd_announce(struct p2pl_trackd *t, const char *query,
    const char *remote_ip, uint64_t now_s, uint8_t *buf, size_t buflen)
{
	struct out o = { buf, 0, buflen, 0 };
	struct req r;
	struct swarm *s;
	const char *why;
	int i, n = 0;

	memset(&r, 0, sizeof(r));
	if (p2pl__trackd_ip(remote_ip, &r.me) == -1)
		return -1;
	if ((why = p2pl__trackd_query(&r, query)) != NULL)
		return fail(&o, why);
	r.me.last = now_s;
	i = find_swarm(t, r.hash);
	s = i >= 0 ? t->sw[i] : NULL;
	if (s == NULL && !t->cfg.open)
		return fail(&o, "unknown stream");
	if (s == NULL && r.event != EV_STOPPED &&
	    (s = add_swarm(t, r.hash)) == NULL)
		return fail(&o, "too many streams");
	if (s != NULL) {
		expire(t, s, now_s);
		if ((why = update_peer(t, s, &r)) != NULL)
			return fail(&o, why);
		if (r.event != EV_STOPPED)
			n = pick(s, &r.me, r.numwant);
	}
	put_reply(t, &o, s, n, r.compact);
	if (s != NULL && s->n == 0 && !s->allowed)
		drop_swarm(t, find_swarm(t, r.hash));
	return o.over ? -1 : (long)o.len;
}

int
p2pl_trackd_allow(struct p2pl_trackd *t, const uint8_t info_hash[20])
{
	struct swarm *s = add_swarm(t, info_hash);

	if (s == NULL)
		return -1;
	s->allowed = 1;
	return 0;
}

int
p2pl_trackd_count(const struct p2pl_trackd *t, const uint8_t info_hash[20])
{
	int i = find_swarm(t, info_hash);

	return i >= 0 ? t->sw[i]->n : 0;
}

/* Every interval: expire all swarms, drop the empty ones not allowed. */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_trackd *t = arg;
	uint64_t now = p2pl_mono_us() / 1000000;
	int i;

	(void)fd;
	(void)what;
	for (i = t->nsw - 1; i >= 0; i--) {
		expire(t, t->sw[i], now);
		if (t->sw[i]->n == 0 && !t->sw[i]->allowed)
			drop_swarm(t, i);
	}
}

/* The connection's numeric address as text. */
static int
remote_text(struct evhttp_request *req, char *ip, size_t iplen)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const struct sockaddr *sa;

	if (c == NULL || (sa = evhttp_connection_get_addr(c)) == NULL)
		return -1;
	return getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    ip, (socklen_t)iplen, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}

/* GET /announce: run the pure handler on the query and the peer's address. */
static void
on_announce(struct evhttp_request *req, void *arg)
{
	struct p2pl_trackd *t = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	char ip[NI_MAXHOST];
	long n;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	if (remote_text(req, ip, sizeof(ip)) == -1)
		n = -1;
	else
		n = p2pl_trackd_announce(t, q != NULL ? q : "", ip,
		    p2pl_mono_us() / 1000000, t->reply, sizeof(t->reply));
	if (n < 0 || evbuffer_add(evhttp_request_get_output_buffer(req),
	    t->reply, (size_t)n) == -1) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, 200, "OK", NULL);
}

struct p2pl_trackd *
p2pl_trackd_new(struct event_base *base, struct evhttp *http,
    const struct p2pl_trackd_cfg *cfg, char *err, size_t errlen)
{
	struct p2pl_trackd *t;
	struct timeval tv;

	if (sodium_init() < 0) {
		p2pl_seterr(err, errlen, "libsodium failed to start");
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	if (cfg != NULL)
		t->cfg = *cfg;
	t->cfg.interval = t->cfg.interval > 0 ? t->cfg.interval : 60;
	t->cfg.max_swarms = t->cfg.max_swarms > 0 ? t->cfg.max_swarms : 1024;
	t->cfg.max_peers = t->cfg.max_peers > 0 ? t->cfg.max_peers : 1000;
	t->sw = calloc((size_t)t->cfg.max_swarms, sizeof(*t->sw));
	if (t->sw == NULL)
		goto nomem;
	if (http == NULL)
		return t;
	if (base == NULL) {
		p2pl_seterr(err, errlen, "tracker needs an event base");
		goto free_t;
	}
	tv.tv_sec = t->cfg.interval;
	tv.tv_usec = 0;
	t->timer = event_new(base, -1, EV_PERSIST, on_timer, t);
	if (t->timer == NULL || event_add(t->timer, &tv) == -1) {
		p2pl_seterr(err, errlen, "cannot start the tracker timer");
		goto free_t;
	}
	if (evhttp_set_cb(http, "/announce", on_announce, t) != 0) {
		p2pl_seterr(err, errlen, "/announce is already served");
		goto free_t;
	}
	t->http = http;
	return t;
nomem:
	p2pl_seterr(err, errlen, "out of memory");
free_t:
	p2pl_trackd_free(t);
	return NULL;
}

void
p2pl_trackd_free(struct p2pl_trackd *t)
{
	if (t == NULL)
		return;
	if (t->http != NULL)
		evhttp_del_cb(t->http, "/announce");
	if (t->timer != NULL)
		event_free(t->timer);
	while (t->nsw > 0)
		drop_swarm(t, t->nsw - 1);
	free(t->sw);
	free(t);
}
