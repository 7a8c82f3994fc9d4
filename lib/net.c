/* net.c - libevent driver for a protocol node. */
#include "net.h"
#include "secure.h"
#include "tracker.h"

#include <sodium.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/listener.h>
#include <event2/bufferevent.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SEEDS_MAX 16
#define TRACKERS_MAX 8
#define WANT_OUT 4

struct conn {
	struct p2pl_net *net;
	struct bufferevent *bev;	/* the socket: frames */
	struct p2pl_sec sec;
	struct evbuffer *plain;		/* opened, not yet taken by the node */
	struct evbuffer *pending;	/* to seal, at the end of this turn */
	struct event *seal_ev;
	struct evbuffer *held;		/* sealed, held back (P2PL_NET_DELAY) */
	struct evbuffer *marks;		/* a struct hold per batch in held */
	struct event *hold_ev;
	size_t marked;			/* bytes of held that marks cover */
	struct p2pl_peer *peer;
	struct p2pl_addr addr;	/* dialled, or the remote end */
	int outgoing;
	int seed;		/* index into seeds, -1 if not one */
	int ready;
	char name[300];
};

struct p2pl_net {
	struct event_base *base;
	struct evdns_base *dns;
	struct p2pl_net_cb cb;
	struct p2pl_node *node;
	struct evconnlistener *lis;
	struct event *tick_ev, *lis_ev;
	struct bufferevent_rate_limit_group *down;
	struct ev_token_bucket_cfg *down_cfg;
	struct tracked {
		struct p2pl_net *net;
		struct p2pl_tracker *t;
		char url[128];		/* for messages */
		int failing;
	} trackers[TRACKERS_MAX];
	int ntrackers;
	uint8_t key[P2PL_KEYLEN];
	uint16_t port;			/* where we listen, 0 if not */
	struct p2pl_addr seeds[SEEDS_MAX];
	int seed_warned[SEEDS_MAX];	/* said it is down, not yet back */
	int nseeds, want_out;
	uint64_t delay;			/* P2PL_NET_DELAY, µs; 0: none */
};

/* A batch of held bytes: the next len bytes of held go out at due. */
struct hold {
	uint64_t due;
	size_t len;
};

static void
logf_(struct p2pl_net *net, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
logf_(struct p2pl_net *net, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (net->cb.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	net->cb.log(net->cb.arg, level, msg);
}

static void
schedule(struct p2pl_net *net, uint64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };

	evtimer_add(net->tick_ev, &tv);
}

static void dial_more(struct p2pl_net *net);

static void
tick(struct p2pl_net *net)
{
	struct p2pl_node_stats st;

	schedule(net, p2pl_node_tick(net->node, p2pl_wall_us()));
	dial_more(net);
	if (net->ntrackers > 0) {
		p2pl_node_stats(net->node, &st);
		for (int i = 0; i < net->ntrackers; i++)
			p2pl_tracker_set_counts(net->trackers[i].t,
			    st.bytes_out, st.bytes_in);
	}
}

static int
seed_index(const struct p2pl_net *net, const struct p2pl_addr *a)
{
	for (int i = 0; i < net->nseeds; i++)
		if (net->seeds[i].port == a->port &&
		    strcmp(net->seeds[i].host, a->host) == 0)
			return i;
	return -1;
}

static void
conn_free(struct conn *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->plain != NULL)
		evbuffer_free(c->plain);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	if (c->seal_ev != NULL)
		event_free(c->seal_ev);
	if (c->hold_ev != NULL)
		event_free(c->hold_ev);
	if (c->held != NULL)
		evbuffer_free(c->held);
	if (c->marks != NULL)
		evbuffer_free(c->marks);
	p2pl_sec_wipe(&c->sec);
	free(c);
}

static void
conn_close(struct conn *c, const char *reason, int bad)
{
	struct p2pl_net *net = c->net;
	char why[P2PL_ERRLEN];
	int level;

	/* the reason may live in the peer, freed below */
	snprintf(why, sizeof(why), "%s", reason);
	if (c->peer != NULL) {
		if (bad && p2pl_peer_benign(c->peer))
			bad = 0;	/* a duplicate link, ourselves */
		p2pl_node_peer_del(net->node, c->peer);
	}
	level = bad ? P2PL_LOG_WARN : P2PL_LOG_INFO;
	if (c->outgoing)
		p2pl_node_dial_failed(net->node, &c->addr, bad, p2pl_wall_us());
	if (c->seed >= 0 && !net->seed_warned[c->seed]) {
		/* a seed's outage is worth one line, not one per retry */
		level = P2PL_LOG_WARN;
		net->seed_warned[c->seed] = 1;
	}
	logf_(net, level, "%s: %s%s", c->name, why, bad ? "; dropped" :
	    c->seed >= 0 ? "; retrying" : "");
	conn_free(c);
	dial_more(net);
}

static void
conn_ready(struct conn *c)
{
	c->ready = 1;
	if (c->seed >= 0 && c->net->seed_warned[c->seed]) {
		c->net->seed_warned[c->seed] = 0;
		logf_(c->net, P2PL_LOG_WARN, "%s: connected", c->name);
	} else
		logf_(c->net, P2PL_LOG_INFO, "%s: connected", c->name);
}

/* The held bytes that are due to the socket, in order; the timer is
 * set for the next batch. */
static void
release(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct hold h;
	struct timeval tv;
	uint64_t now = p2pl_wall_us();

	(void)fd;
	(void)what;
	while (evbuffer_copyout(c->marks, &h, sizeof(h)) == sizeof(h)) {
		if (h.due > now + 500) {	/* the timer's slack */
			tv.tv_sec = (time_t)((h.due - now) / 1000000);
			tv.tv_usec = (suseconds_t)((h.due - now) % 1000000);
			evtimer_add(c->hold_ev, &tv);
			return;
		}
		evbuffer_remove_buffer(c->held, bufferevent_get_output(c->bev),
		    h.len);
		evbuffer_drain(c->marks, sizeof(h));
		c->marked -= h.len;
	}
}

/* What was added to held since the last mark goes out net->delay from
 * now; -1 when out of memory. */
static int
hold_mark(struct conn *c)
{
	struct hold h;

	h.len = evbuffer_get_length(c->held) - c->marked;
	if (h.len == 0)
		return 0;
	h.due = p2pl_wall_us() + c->net->delay;
	if (evbuffer_add(c->marks, &h, sizeof(h)) == -1)
		return -1;
	c->marked += h.len;
	if (!evtimer_pending(c->hold_ev, NULL))
		release(-1, 0, c);
	return 0;
}

/* Bytes for the socket: written, or held back for P2PL_NET_DELAY. */
static int
conn_put(struct conn *c, const void *data, size_t len)
{
	if (c->net->delay == 0)
		return bufferevent_write(c->bev, data, len);
	return evbuffer_add(c->held, data, len);
}

/* Seal what the node queued into frames on the socket. */
static void
seal(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint8_t frame[P2PL_SEC_FRAME_MAX];
	size_t n;

	(void)fd;
	(void)what;
	while (c->sec.keyed && (n = evbuffer_get_length(c->pending)) > 0) {
		n = p2pl_sec_room(&c->sec, n);
		n = p2pl_sec_seal(&c->sec, evbuffer_pullup(c->pending,
		    (ssize_t)n), n, frame);
		evbuffer_drain(c->pending, n - P2PL_SEC_HDR - P2PL_SEC_TAG);
		conn_put(c, frame, n);
	}
	if (c->net->delay > 0)
		hold_mark(c);
}

/* Open the frames that came whole; 0, or -1 (closed) on a bad one. */
static int
open_frames(struct conn *c, struct evbuffer *in)
{
	uint8_t plain[P2PL_SEC_CHUNK];
	const uint8_t *b;
	long size, n;

	if (!c->sec.keyed) {
		if (evbuffer_get_length(in) < P2PL_SEC_PKLEN)
			return 0;
		if (p2pl_sec_exchange(&c->sec, evbuffer_pullup(in,
		    P2PL_SEC_PKLEN)) == -1) {
			conn_close(c, "bad key exchange", 1);
			return -1;
		}
		evbuffer_drain(in, P2PL_SEC_PKLEN);
		p2pl_sec_bind(&c->sec, c->net->key);
		seal(-1, 0, c);
	}
	while (evbuffer_get_length(in) >= P2PL_SEC_HDR) {
		b = evbuffer_pullup(in, P2PL_SEC_HDR);
		if ((size = p2pl_sec_next_size(&c->sec, b)) == -1) {
			conn_close(c, c->sec.rxn == 0 ? "peer does not speak "
			    "p2pl" : "bad frame length", 1);
			return -1;
		}
		if (evbuffer_get_length(in) < (size_t)size)
			break;
		b = evbuffer_pullup(in, size);
		if ((n = p2pl_sec_open(&c->sec, b, (size_t)size, plain, 0)) < 0) {
			conn_close(c, c->sec.rxn == 0 ? "peer does not speak p2pl "
			    "or serves another stream (its first frame failed "
			    "to open)" : "a frame failed to open (forged)", 1);
			return -1;
		}
		evbuffer_add(c->plain, plain, (size_t)n);
		evbuffer_drain(in, (size_t)size);
	}
	return 0;
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = c->plain;
	size_t len;
	long r;

	if (open_frames(c, bufferevent_get_input(bev)) == -1)
		return;
	while ((len = evbuffer_get_length(in)) > 0) {
		r = p2pl_peer_input(c->peer, evbuffer_pullup(in, (ssize_t)len),
		    len, p2pl_wall_us());
		if (r < 0) {
			conn_close(c, p2pl_peer_error(c->peer), 1);
			return;
		}
		evbuffer_drain(in, (size_t)r);
		if (!c->ready && p2pl_peer_hello(c->peer) != NULL)
			conn_ready(c);
		if (r == 0)
			break;
	}
	tick(c->net);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	p2pl_node_flush(c->net->node, p2pl_wall_us());
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char why[128];
	int e = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed");
	else if ((what & BEV_EVENT_ERROR) &&
	    bufferevent_socket_get_dns_error(bev) != 0)
		snprintf(why, sizeof(why), "%s", evutil_gai_strerror(
		    bufferevent_socket_get_dns_error(bev)));
	else
		snprintf(why, sizeof(why), "%s",
		    evutil_socket_error_to_string(e));
	conn_close(c, why, 0);
}

/*
 * A connection on bev.  sec: its channel, keyed already (a relay's shared port, portshare.h); NULL
 * to start one here, sending our key first.  On failure bev is left to
 * the caller.
 */
static struct conn *
conn_new(struct p2pl_net *net, struct bufferevent *bev, int outgoing,
    const struct p2pl_addr *a, const struct p2pl_sec *sec)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->net = net;
	c->bev = bev;
	c->outgoing = outgoing;
	c->addr = *a;
	c->seed = outgoing ? seed_index(net, a) : -1;
	p2pl_addr_format(a, c->name, sizeof(c->name));
	c->plain = evbuffer_new();
	c->pending = evbuffer_new();
	c->seal_ev = event_new(net->base, -1, 0, seal, c);
	c->held = evbuffer_new();
	c->marks = evbuffer_new();
	c->hold_ev = evtimer_new(net->base, release, c);
	if (sec != NULL)
		c->sec = *sec;
	else
		p2pl_sec_init(&c->sec, outgoing);
	if (c->plain == NULL || c->pending == NULL || c->seal_ev == NULL ||
	    c->held == NULL || c->marks == NULL || c->hold_ev == NULL ||
	    (sec == NULL && (conn_put(c, c->sec.pk, P2PL_SEC_PKLEN) == -1 ||
	    (net->delay > 0 && hold_mark(c) == -1))) ||
	    (c->peer = p2pl_node_peer_new(net->node, c, outgoing, a,
	    p2pl_wall_us())) == NULL) {
		c->bev = NULL;	/* the caller's still */
		conn_free(c);
		return NULL;
	}
	if (net->down != NULL)
		bufferevent_add_to_rate_limit_group(bev, net->down);
	bufferevent_setcb(bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, P2PL_BACKLOG_MAX / 2, 0);
	bufferevent_setwatermark(bev, EV_READ, 0, P2PL_MSG_MAX * 2);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

static void
dial(struct p2pl_net *net, const struct p2pl_addr *a)
{
	struct bufferevent *bev;
	struct conn *c;
	char name[300];

	bev = bufferevent_socket_new(net->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return;
	if ((c = conn_new(net, bev, 1, a, NULL)) == NULL) {
		bufferevent_free(bev);
		p2pl_node_dial_failed(net->node, a, 0, p2pl_wall_us());
		return;
	}
	logf_(net, P2PL_LOG_DEBUG, "%s: dialling",
	    p2pl_addr_format(a, name, sizeof(name)));
	if (bufferevent_socket_connect_hostname(bev, net->dns, AF_UNSPEC,
	    a->host, a->port) == -1)
		conn_close(c, "cannot connect", 0);
}

/* Keep want_out outgoing connections, from the node's candidates. */
static void
dial_more(struct p2pl_net *net)
{
	struct p2pl_addr a;
	uint64_t now = p2pl_wall_us();

	while (p2pl_node_outgoing(net->node) < net->want_out &&
	    p2pl_node_pick(net->node, now, &a) == 0)
		dial(net, &a);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct p2pl_net *net = arg;
	struct bufferevent *bev;
	struct p2pl_addr a;
	int one = 1;

	(void)lis;
	(void)salen;
	memset(&a, 0, sizeof(a));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, a.host, sizeof(a.host));
		a.port = ntohs(s6->sin6_port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &s4->sin_addr, a.host, sizeof(a.host));
		a.port = ntohs(s4->sin_port);
	}
	if (p2pl_node_banned(net->node, a.host, p2pl_wall_us())) {
		evutil_closesocket(fd);	/* it misbehaved: not again yet */
		logf_(net, P2PL_LOG_DEBUG, "%s:%u: banned, refused", a.host,
		    a.port);
		return;
	}
	bev = bufferevent_socket_new(net->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if (conn_new(net, bev, 0, &a, NULL) == NULL) {
		bufferevent_free(bev);	/* full: refused */
		return;
	}
	logf_(net, P2PL_LOG_DEBUG, "%s:%u: accepted", a.host, a.port);
}

static void
lis_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(((struct p2pl_net *)arg)->lis);
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct p2pl_net *net = arg;
	struct timeval tv = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	logf_(net, P2PL_LOG_WARN, "accept: %s",
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(lis);
	evtimer_add(net->lis_ev, &tv);
}

struct evconnlistener *
p2pl_listen(struct event_base *base, const struct p2pl_addr *a,
    evconnlistener_cb cb, void *arg, struct p2pl_addr *bound, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct evconnlistener *lis;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints, &res);
	if (rc != 0) {
		p2pl_seterr(err, errlen, "%s: %s", a->host, gai_strerror(rc));
		return NULL;
	}
	lis = evconnlistener_new_bind(base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (lis == NULL) {
		p2pl_seterr(err, errlen, "cannot listen on %s:%u: %s", a->host,
		    a->port, strerror(errno));
		return NULL;
	}
	*bound = *a;
	if (getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&ss,
	    &sslen) == 0)
		bound->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	return lis;
}

int
p2pl_net_listen(struct p2pl_net *net, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen)
{
	net->lis = p2pl_listen(net->base, a, on_accept, net, bound, err,
	    errlen);
	if (net->lis == NULL)
		return -1;
	evconnlistener_set_error_cb(net->lis, on_accept_error);
	p2pl_net_set_port(net, bound->port);
	return 0;
}

void
p2pl_net_set_port(struct p2pl_net *net, uint16_t port)
{
	p2pl_node_set_port(net->node, port);
	net->port = port;
}

int
p2pl_net_adopt(struct p2pl_net *net, struct bufferevent *bev,
    const struct p2pl_addr *remote, const struct p2pl_sec *sec)
{
	struct conn *c = conn_new(net, bev, 0, remote, sec);

	if (c == NULL)
		return -1;
	conn_read(bev, c);	/* its first frames are waiting already */
	return 0;
}

int
p2pl_net_add_seed(struct p2pl_net *net, const struct p2pl_addr *a)
{
	if (net->nseeds == SEEDS_MAX)
		return -1;
	net->seeds[net->nseeds++] = *a;
	p2pl_node_add_candidate(net->node, a, 1);
	dial_more(net);
	return 0;
}

void
p2pl_net_add_peers(struct p2pl_net *net, const struct p2pl_addr *a, int n)
{
	for (int i = 0; i < n; i++)
		p2pl_node_add_candidate(net->node, &a[i], 0);
	dial_more(net);
}

int
p2pl_net_set_download(struct p2pl_net *net, uint64_t bytes_per_s)
{
	size_t rate = bytes_per_s > EV_RATE_LIMIT_MAX ? EV_RATE_LIMIT_MAX :
	    (size_t)bytes_per_s;

	net->down_cfg = ev_token_bucket_cfg_new(rate, rate / 4 + P2PL_MSG_MAX,
	    EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, NULL);
	if (net->down_cfg == NULL)
		return -1;
	net->down = bufferevent_rate_limit_group_new(net->base, net->down_cfg);
	return net->down == NULL ? -1 : 0;
}

void
p2pl_net_set_outgoing(struct p2pl_net *net, int n)
{
	net->want_out = n;
}

void
p2pl_swarm_id(const uint8_t key[P2PL_KEYLEN], uint8_t id[20])
{
	static const char ctx[] = "p2pl-swarm-1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 20);
	crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof(ctx) - 1);
	crypto_generichash_update(&st, key, P2PL_KEYLEN);
	crypto_generichash_final(&st, id, 20);
}

static void
tracker_peers(void *arg, const struct p2pl_addr *peers, int n)
{
	struct tracked *t = arg;

	if (t->failing)
		logf_(t->net, P2PL_LOG_WARN, "tracker %s: answers again", t->url);
	else
		logf_(t->net, P2PL_LOG_INFO, "tracker %s: %d peers", t->url, n);
	t->failing = 0;
	p2pl_net_add_peers(t->net, peers, n);
}

static void
tracker_error(void *arg, const char *why)
{
	struct tracked *t = arg;

	/* one line per outage, not one per retry */
	logf_(t->net, t->failing ? P2PL_LOG_INFO : P2PL_LOG_WARN,
	    "tracker %s: %s", t->url, why);
	t->failing = 1;
}

int
p2pl_net_add_tracker(struct p2pl_net *net, const char *url, char *err,
    size_t errlen)
{
	struct tracked *t = &net->trackers[net->ntrackers];
	struct p2pl_tracker_cb cb = { t, tracker_peers, tracker_error };
	uint8_t hash[20], id[20];

	if (net->ntrackers == TRACKERS_MAX) {
		p2pl_seterr(err, errlen, "too many trackers");
		return -1;
	}
	memcpy(id, "-PL0001-", 8);
	randombytes_buf(id + 8, 12);
	p2pl_swarm_id(net->key, hash);
	t->net = net;
	snprintf(t->url, sizeof(t->url), "%s", url);
	t->t = p2pl_tracker_new(net->base, url, hash, id, net->port, &cb, err,
	    errlen);
	if (t->t == NULL)
		return -1;
	net->ntrackers++;
	return 0;
}

void
p2pl_net_publish(struct p2pl_net *net, struct p2pl_piece *p)
{
	p2pl_node_publish(net->node, p, p2pl_wall_us());
	tick(net);
}

static void
node_send(void *arg, void *conn, const uint8_t *data, size_t len,
    struct p2pl_piece *piece)
{
	struct conn *c = conn;

	(void)arg;
	(void)piece;	/* sealing copies it anyway */
	if (evbuffer_get_length(c->pending) == 0 && c->sec.keyed)
		event_active(c->seal_ev, 0, 0);
	evbuffer_add(c->pending, data, len);
}

static size_t
node_backlog(void *arg, void *conn)
{
	(void)arg;
	const struct conn *c = conn;

	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    evbuffer_get_length(c->held) + evbuffer_get_length(c->pending);
}

static void
node_deliver(void *arg, struct p2pl_piece *p)
{
	struct p2pl_net *net = arg;

	if (net->cb.deliver != NULL)
		net->cb.deliver(net->cb.arg, p);
}

static void
node_drop(void *arg, void *conn, const char *why)
{
	struct conn *c = conn;

	(void)arg;
	conn_close(c, why, c->peer != NULL && p2pl_peer_banned(c->peer));
}

/* P2PL_NET_DELAY: milliseconds, 0 to 10000, into *us; -1 if bad. */
static int
delay_env(uint64_t *us, char *err, size_t errlen)
{
	const char *s = getenv("P2PL_NET_DELAY");
	char *end;
	long ms;

	*us = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	ms = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || ms < 0 || ms > 10000) {
		p2pl_seterr(err, errlen, "P2PL_NET_DELAY: want milliseconds "
		    "from 0 to 10000, not \"%.32s\"", s);
		return -1;
	}
	*us = (uint64_t)ms * 1000;
	return 0;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tick(arg);
}

struct p2pl_net *
p2pl_net_new(struct event_base *base, const struct p2pl_node_cfg *cfg,
    const struct p2pl_net_cb *cb, char *err, size_t errlen)
{
	struct p2pl_net *net;
	struct p2pl_node_cb ncb = {
		.send = node_send, .backlog = node_backlog,
		.deliver = node_deliver, .drop = node_drop,
	};
	uint64_t delay;

	if (delay_env(&delay, err, errlen) == -1)
		return NULL;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		goto fail;
	net->delay = delay;
	net->base = base;
	net->cb = *cb;
	memcpy(net->key, cfg->key, P2PL_KEYLEN);
	ncb.arg = net;
	net->node = p2pl_node_new(cfg, &ncb);
	net->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (net->dns == NULL)	/* no resolv.conf: numeric addresses only */
		net->dns = evdns_base_new(base, 0);
	net->tick_ev = evtimer_new(base, on_tick, net);
	net->lis_ev = evtimer_new(base, lis_resume, net);
	net->want_out = WANT_OUT;
	if (delay > 0)
		logf_(net, P2PL_LOG_WARN, "P2PL_NET_DELAY: holding every "
		    "connection's outgoing bytes %llu ms (a testing knob)",
		    (unsigned long long)(delay / 1000));
	if (net->node == NULL || net->dns == NULL || net->tick_ev == NULL ||
	    net->lis_ev == NULL)
		goto fail;
	tick(net);
	return net;
fail:
	p2pl_seterr(err, errlen, "out of memory");
	p2pl_net_free(net);
	return NULL;
}

struct p2pl_node *
p2pl_net_node(struct p2pl_net *net)
{
	return net->node;
}

void
p2pl_net_free(struct p2pl_net *net)
{
	if (net == NULL)
		return;
	/* conns are found through the node's peers; close them first */
	while (p2pl_node_first_conn(net->node) != NULL) {
		struct conn *c = p2pl_node_first_conn(net->node);
		p2pl_node_peer_del(net->node, c->peer);
		conn_free(c);
	}
	for (int i = 0; i < net->ntrackers; i++)
		p2pl_tracker_free(net->trackers[i].t);
	if (net->lis != NULL)
		evconnlistener_free(net->lis);
	if (net->tick_ev != NULL)
		event_free(net->tick_ev);
	if (net->down != NULL)
		bufferevent_rate_limit_group_free(net->down);
	if (net->down_cfg != NULL)
		ev_token_bucket_cfg_free(net->down_cfg);
	if (net->lis_ev != NULL)
		event_free(net->lis_ev);
	if (net->dns != NULL)
		evdns_base_free(net->dns, 0);
	p2pl_node_free(net->node);
	free(net);
}
