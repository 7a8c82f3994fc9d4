/* portshare.c - dispatch incoming connections to streams by the key their
 * first frame opens with. */
#include "portshare.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <string.h>
#include <sys/socket.h>

#define SHARE_STREAMS 64
#define SHARE_PENDING 1024	/* connections waiting for their HELLO */
#define SHARE_PER_HOST 64		/* of them from one address */

struct pending {
	TAILQ_ENTRY(pending) entry;	/* oldest first */
	struct p2pl_portshare *hub;
	struct bufferevent *bev;
	struct p2pl_addr addr;
	struct p2pl_sec sec;
};

struct p2pl_portshare {
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *resume;
	struct {
		uint8_t key[P2PL_KEYLEN];
		struct p2pl_net *net;
	} streams[SHARE_STREAMS];
	int nstreams, npending;
	TAILQ_HEAD(, pending) pending;
};

static void
pending_free(struct pending *p)
{
	TAILQ_REMOVE(&p->hub->pending, p, entry);
	p->hub->npending--;
	bufferevent_free(p->bev);
	p2pl_sec_wipe(&p->sec);
	free(p);
}

static void
pending_read(struct bufferevent *bev, void *arg)
{
	struct pending *p = arg;
	struct p2pl_portshare *h = p->hub;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	uint8_t plain[P2PL_SEC_CHUNK];
	const uint8_t *b;
	long size;
	int i;

	/* the peer's key, then its first frame: which stream opens it */
	if (len < P2PL_SEC_PKLEN + P2PL_SEC_HDR)
		return;
	b = evbuffer_pullup(in, P2PL_SEC_PKLEN + P2PL_SEC_HDR);
	if ((size = p2pl_sec_next_size(&p->sec, b + P2PL_SEC_PKLEN)) == -1) {
		pending_free(p);
		return;
	}
	if (len < P2PL_SEC_PKLEN + (size_t)size)
		return;
	b = evbuffer_pullup(in, P2PL_SEC_PKLEN + size);
	if (p2pl_sec_exchange(&p->sec, b) == -1) {
		pending_free(p);
		return;
	}
	for (i = 0; i < h->nstreams; i++) {
		p2pl_sec_bind(&p->sec, h->streams[i].key);
		if (p2pl_sec_open(&p->sec, b + P2PL_SEC_PKLEN, (size_t)size,
		    plain, 1) >= 0)
			break;
	}
	if (i == h->nstreams) {
		pending_free(p);	/* not a stream we serve */
		return;
	}
	TAILQ_REMOVE(&h->pending, p, entry);
	evbuffer_drain(in, P2PL_SEC_PKLEN);
	h->npending--;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	if (p2pl_net_adopt(h->streams[i].net, bev, &p->addr, &p->sec) == -1)
		bufferevent_free(bev);
	p2pl_sec_wipe(&p->sec);
	free(p);
}

static void
pending_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	pending_free(arg);	/* closed, error or no hello in time */
}

/* Some stream refuses host: a peer from it misbehaved there. */
static int
banned(const struct p2pl_portshare *h, const char *host)
{
	uint64_t now = p2pl_wall_us();

	for (int i = 0; i < h->nstreams; i++)
		if (p2pl_node_banned(p2pl_net_node(h->streams[i].net), host,
		    now))
			return 1;
	return 0;
}

/*
 * Make room for a new connection from host: past SHARE_PER_HOST from the
 * same address, or SHARE_PENDING in all, the oldest waiting one goes, so
 * idle connections, however many, cannot keep an honest peer out.
 */
static void
make_room(struct p2pl_portshare *h, const char *host)
{
	struct pending *p, *first = NULL;
	int same = 0;

	TAILQ_FOREACH(p, &h->pending, entry)
		if (strcmp(p->addr.host, host) == 0 && same++ == 0)
			first = p;
	if (same >= SHARE_PER_HOST)
		pending_free(first);
	else if (h->npending >= SHARE_PENDING)
		pending_free(TAILQ_FIRST(&h->pending));
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct p2pl_portshare *h = arg;
	struct timeval tv = { 10, 0 };
	struct pending *p;
	int one = 1;

	(void)lis;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	getnameinfo(sa, (socklen_t)salen, p->addr.host, sizeof(p->addr.host),
	    NULL, 0, NI_NUMERICHOST);
	if (banned(h, p->addr.host)) {
		evutil_closesocket(fd);
		free(p);
		return;
	}
	make_room(h, p->addr.host);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->addr.port = ntohs(sa->sa_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)sa)->sin6_port :
	    ((struct sockaddr_in *)sa)->sin_port);
	p->hub = h;
	p->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL) {
		evutil_closesocket(fd);
		free(p);
		return;
	}
	p2pl_sec_init(&p->sec, 0);
	bufferevent_write(p->bev, p->sec.pk, P2PL_SEC_PKLEN);
	h->npending++;
	TAILQ_INSERT_TAIL(&h->pending, p, entry);
	bufferevent_setcb(p->bev, pending_read, NULL, pending_event, p);
	bufferevent_set_timeouts(p->bev, &tv, NULL);
	bufferevent_enable(p->bev, EV_READ);
}

static void
resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(((struct p2pl_portshare *)arg)->lis);
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct timeval tv = { 1, 0 };

	evconnlistener_disable(lis);
	evtimer_add(((struct p2pl_portshare *)arg)->resume, &tv);
}

struct p2pl_portshare *
p2pl_portshare_new(struct event_base *base, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen)
{
	struct p2pl_portshare *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	TAILQ_INIT(&h->pending);
	h->resume = evtimer_new(base, resume, h);
	h->lis = p2pl_listen(base, a, on_accept, h, bound, err, errlen);
	if (h->lis == NULL || h->resume == NULL) {
		p2pl_portshare_free(h);
		return NULL;
	}
	evconnlistener_set_error_cb(h->lis, on_accept_error);
	return h;
}

void
p2pl_portshare_free(struct p2pl_portshare *h)
{
	if (h == NULL)
		return;
	while (!TAILQ_EMPTY(&h->pending))
		pending_free(TAILQ_FIRST(&h->pending));
	if (h->lis != NULL)
		evconnlistener_free(h->lis);
	if (h->resume != NULL)
		event_free(h->resume);
	free(h);
}

int
p2pl_portshare_add(struct p2pl_portshare *h, const uint8_t key[P2PL_KEYLEN],
    struct p2pl_net *net)
{
	if (h->nstreams == SHARE_STREAMS)
		return -1;
	memcpy(h->streams[h->nstreams].key, key, P2PL_KEYLEN);
	h->streams[h->nstreams++].net = net;
	return 0;
}
