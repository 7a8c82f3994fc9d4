/* trackd.c - the BitTorrent HTTP tracker: swarms, announce, evhttp glue. */
#include "trackd.h"
#include "util.h"

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

struct peer {
	uint8_t id[20];
	uint8_t ip[16];		/* IPv4 in the first 4 bytes */
	uint8_t v6;
	uint8_t seed;
	uint16_t port;
	uint64_t last;		/* now_s of the last announce */
};

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

/* What one announce asked for. */
struct req {
	uint8_t hash[20];
	struct peer me;
	int have_hash, have_id, have_port;
	int numwant, compact, event;
};
enum { EV_NONE, EV_STARTED, EV_STOPPED, EV_COMPLETED };

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
static const char *
parse_query(struct req *r, const char *q)
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
static int
parse_ip(const char *s, struct peer *p)
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
	if (parse_ip(remote_ip, &r.me) == -1)
		return -1;
	if ((why = parse_query(&r, query)) != NULL)
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
