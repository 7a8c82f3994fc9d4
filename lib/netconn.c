/*
 * netconn.c - one peer connection of the network driver: its bufferevent,
 * the key exchange and the sealed frames (secure.h) both ways, the bytes
 * the node queues (sealed once per event-loop turn), the emulated link
 * delay (P2PL_NET_DELAY) that holds sealed bytes back until they are due,
 * and its end.  net.c makes connections (dialling, accepting) and wires
 * them to the node.
 */
#include "net-int.h"

#include <sys/uio.h>

#define STAGE_IOV 64	/* chains of one turn's frames sent by one call */

static int
seed_index(const struct p2pl_net *net, const struct p2pl_addr *a)
{
	for (int i = 0; i < net->nseeds; i++)
		if (net->seeds[i].port == a->port &&
		    strcmp(net->seeds[i].host, a->host) == 0)
			return i;
	return -1;
}

void
p2pl__conn_free(struct conn *c)
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

void
p2pl__conn_close(struct conn *c, const char *reason, int bad)
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
	p2pl__net_log(net, level, "%s: %s%s", c->name, why, bad ? "; dropped" :
	    c->seed >= 0 ? "; retrying" : "");
	p2pl__conn_free(c);
	p2pl__net_dial_more(net);
}

static void
conn_ready(struct conn *c)
{
	c->ready = 1;
	if (c->seed >= 0 && c->net->seed_warned[c->seed]) {
		c->net->seed_warned[c->seed] = 0;
		p2pl__net_log(c->net, P2PL_LOG_WARN, "%s: connected", c->name);
	} else
		p2pl__net_log(c->net, P2PL_LOG_INFO, "%s: connected", c->name);
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

/*
 * One turn's frames to the socket.  While nothing waits in the
 * bufferevent's output they are written here, one writev for the turn:
 * no write event to add and delete (two epoll_ctl) and no wake-up to
 * write.  (writev, as libevent itself writes, so that SIGPIPE is as the
 * programs set it, ignored, and /proc's wchar counts the bytes.)  What
 * the socket does not take, or all of it when the write fails (the
 * bufferevent then meets the error and reports it), goes through the
 * bufferevent.
 */
static int
conn_send(struct conn *c, struct evbuffer *stage)
{
	struct evbuffer_iovec v[STAGE_IOV];
	struct iovec iov[STAGE_IOV];
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	ssize_t w;
	int i, n;

	if (fd >= 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		n = evbuffer_peek(stage, -1, NULL, v, STAGE_IOV);
		if (n > STAGE_IOV)
			n = STAGE_IOV;
		for (i = 0; i < n; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		w = writev(fd, iov, n);
		if (w > 0)
			evbuffer_drain(stage, (size_t)w);
	}
	if (evbuffer_get_length(stage) == 0)
		return 0;
	return bufferevent_write_buffer(c->bev, stage);
}

/* Seal what the node queued into frames on the socket. */
static void
seal(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *stage = c->net->stage;
	uint8_t frame[P2PL_SEC_FRAME_MAX];
	size_t n;

	(void)fd;
	(void)what;
	while (c->sec.keyed && (n = evbuffer_get_length(c->pending)) > 0) {
		n = p2pl_sec_room(&c->sec, n);
		n = p2pl_sec_seal(&c->sec, evbuffer_pullup(c->pending,
		    (ssize_t)n), n, frame);
		evbuffer_drain(c->pending, n - P2PL_SEC_HDR - P2PL_SEC_TAG);
		if (c->net->delay > 0)
			conn_put(c, frame, n);
		else
			evbuffer_add(stage, frame, n);
	}
	if (c->net->delay > 0)
		hold_mark(c);
	else if (evbuffer_get_length(stage) > 0 && conn_send(c, stage) == -1)
		evbuffer_drain(stage, evbuffer_get_length(stage));
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
			p2pl__conn_close(c, "bad key exchange", 1);
			return -1;
		}
		evbuffer_drain(in, P2PL_SEC_PKLEN);
		p2pl_sec_bind(&c->sec, c->net->key);
		seal(-1, 0, c);
	}
	while (evbuffer_get_length(in) >= P2PL_SEC_HDR) {
		b = evbuffer_pullup(in, P2PL_SEC_HDR);
		if ((size = p2pl_sec_next_size(&c->sec, b)) == -1) {
			p2pl__conn_close(c, c->sec.rxn == 0 ?
			    "peer does not speak p2pl" : "bad frame length", 1);
			return -1;
		}
		if (evbuffer_get_length(in) < (size_t)size)
			break;
		b = evbuffer_pullup(in, size);
		if ((n = p2pl_sec_open(&c->sec, b, (size_t)size, plain, 0)) < 0) {
			p2pl__conn_close(c, c->sec.rxn == 0 ?
			    "peer does not speak p2pl or serves another stream "
			    "(its first frame failed to open)" :
			    "a frame failed to open (forged)", 1);
			return -1;
		}
		evbuffer_add(c->plain, plain, (size_t)n);
		evbuffer_drain(in, (size_t)size);
	}
	return 0;
}

void
p2pl__conn_read(struct bufferevent *bev, void *arg)
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
			p2pl__conn_close(c, p2pl_peer_error(c->peer), 1);
			return;
		}
		evbuffer_drain(in, (size_t)r);
		if (!c->ready && p2pl_peer_hello(c->peer) != NULL)
			conn_ready(c);
		if (r == 0)
			break;
	}
	p2pl__net_tick_soon(c->net);
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
	p2pl__conn_close(c, why, 0);
}

/*
 * A connection on bev.  sec: its channel, keyed already (a relay's shared port, portshare.h); NULL
 * to start one here, sending our key first.  On failure bev is left to
 * the caller.
 */
struct conn *
p2pl__conn_new(struct p2pl_net *net, struct bufferevent *bev, int outgoing,
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
		p2pl__conn_free(c);
		return NULL;
	}
	if (net->down != NULL)
		bufferevent_add_to_rate_limit_group(bev, net->down);
	bufferevent_setcb(bev, p2pl__conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(bev, EV_WRITE, P2PL_BACKLOG_MAX / 2, 0);
	bufferevent_setwatermark(bev, EV_READ, 0, P2PL_MSG_MAX * 2);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}
