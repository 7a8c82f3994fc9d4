/* httpd.c - serve the played stream over HTTP: MPEG-TS and HLS. */
#include "httpd.h"
#include "hls.h"
#include "httpreq.h"
#include "net.h"
#include "mediaout.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_CAP (2 * 1024 * 1024)	/* bytes waiting for a client */
#define STREAM_LAG 4000000	/* µs a wait may reach back */
#define SNDBUF (256 * 1024)	/* a stream socket's send buffer */
#define HEAD_US 10000000	/* for a request head to come */
#define STALL_US 30000000	/* an answer taking no byte */
#define REPLY_US 60000000	/* an answer (not the stream) in all */
#define LINGER_US 2000000	/* after the last byte, for the client's FIN */
#define READ_MAX 4096

enum { C_HEAD, C_REPLY, C_LINGER, C_STREAM, C_DEAD };

struct client {
	struct p2pl_httpd *d;
	struct client *next;
	int fd, state, keepalive;
	int waiting;		/* a stream waits for a join point */
	int said_slow;
	char name[80];		/* host:port, for messages */
	struct evbuffer *in, *out;
	struct event *rev, *wev;
	struct p2pl_mediaout *so;	/* the stream's writer */
	uint64_t since;		/* state entered, monotonic µs */
	uint64_t progress;	/* a byte last written */
	uint64_t bytes, dropped;	/* the stream's, as last seen */
};

struct p2pl_httpd {
	struct event_base *base;
	struct evconnlistener *lis;
	struct event *lis_ev, *tick, *reap;
	struct client *clients;
	struct p2pl_hls *hls;
	struct p2pl_httpd_cb cb;
	struct p2pl_httpd_stats st;
};

static void
logf_(struct p2pl_httpd *d, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (d->cb.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->cb.log(d->cb.arg, level, msg);
}

/* Mark c for closing; it is freed from the loop, never in a callback. */
static void
kill_client(struct client *c)
{
	if (c->state == C_DEAD)
		return;
	if (c->state == C_STREAM)
		c->d->st.streams--;
	c->state = C_DEAD;
	event_del(c->rev);
	event_del(c->wev);
	event_active(c->d->reap, EV_TIMEOUT, 1);
}

static void
client_free(struct client *c)
{
	p2pl_mediaout_free(c->so);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	close(c->fd);
	free(c);
}

static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_httpd *d = arg;
	struct client **cp = &d->clients, *c;

	(void)fd;
	(void)what;
	while ((c = *cp) != NULL) {
		if (c->state == C_DEAD) {
			*cp = c->next;
			client_free(c);
			d->st.clients--;
		} else
			cp = &c->next;
	}
}

static void serve(struct client *c);

/* The answer is out: wait for the next request, or close. */
static void
reply_done(struct client *c)
{
	c->since = p2pl_mono_us();
	if (c->keepalive) {
		c->state = C_HEAD;
		event_add(c->rev, NULL);
		return;
	}
	/* half-close, then read until the client's FIN: closing with
	 * unread input would reset the connection and lose the answer */
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	event_add(c->rev, NULL);
}

/* Write what the socket takes of the answer. */
static void
flush_out(struct client *c)
{
	int n;

	while (evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(c->wev, NULL);
			return;
		}
		if (n <= 0) {
			kill_client(c);
			return;
		}
		c->progress = p2pl_mono_us();
	}
	reply_done(c);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (c->state != C_REPLY)
		return;
	flush_out(c);
	if (c->state == C_HEAD)		/* a pipelined request may wait */
		serve(c);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/*
 * Answer status with body (moved from; NULL: a short text), only its
 * head for HEAD; len -1 sends no Content-Length (a stream's HEAD).
 */
static void
reply(struct client *c, int status, const char *type, struct evbuffer *body,
    long len, int head_only, const char *extra)
{
	int rc;

	if (body == NULL && len >= 0)
		len = (long)strlen(reason(status)) + 6;
	rc = evbuffer_add_printf(c->out, "HTTP/1.1 %d %s\r\n"
	    "Server: p2pl-fetch\r\nContent-Type: %s\r\n", status,
	    reason(status), type);
	if (len >= 0)
		rc |= evbuffer_add_printf(c->out, "Content-Length: %ld\r\n", len);
	rc |= evbuffer_add_printf(c->out, "Cache-Control: no-cache\r\n"
	    "Access-Control-Allow-Origin: *\r\nConnection: %s\r\n%s\r\n",
	    c->keepalive ? "keep-alive" : "close", extra ? extra : "");
	if (!head_only && body != NULL)
		rc |= evbuffer_add_buffer(c->out, body);
	else if (!head_only && len >= 0)
		rc |= evbuffer_add_printf(c->out, "%d %s\r\n", status,
		    reason(status));
	if (rc < 0) {
		kill_client(c);
		return;
	}
	c->state = C_REPLY;
	c->since = c->progress = p2pl_mono_us();
	event_del(c->rev);	/* a pipelined request waits its turn */
	flush_out(c);
}

static void
on_stream_error(void *arg, int e)
{
	struct client *c = arg;

	logf_(c->d, P2PL_LOG_INFO, "http: %s: %s", c->name, strerror(e));
	kill_client(c);
}

/* GET /stream.ts: from the next join point, every piece played. */
static void
stream(struct client *c)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nServer: p2pl-fetch\r\n"
	    "Content-Type: video/mp2t\r\nCache-Control: no-cache\r\n"
	    "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n";
	int sz = SNDBUF;

	/* what waits in the kernel counts towards the lag too */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	c->so = p2pl_mediaout_new(c->d->base, c->fd, STREAM_CAP, on_stream_error, c);
	if (c->so == NULL) {
		kill_client(c);
		return;
	}
	p2pl_mediaout_set_lag(c->so, STREAM_LAG);
	c->state = C_STREAM;
	c->d->st.streams++;
	c->waiting = 1;
	c->since = c->progress = p2pl_mono_us();
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	event_add(c->rev, NULL);	/* to see it leave */
	p2pl_mediaout_raw(c->so, (const uint8_t *)head, sizeof(head) - 1);
	logf_(c->d, P2PL_LOG_INFO, "http: %s: streaming", c->name);
}

/* "seg-N.ts": N, or -1. */
static int64_t
seg_number(const char *path)
{
	const char *s = path + 5;
	int64_t n = 0;

	if (strncmp(path, "/seg-", 5) != 0 || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return strcmp(s, ".ts") == 0 ? n : -1;
}

static void
route(struct client *c, const struct p2pl_httpreq *r)
{
	int head = r->method == P2PL_HTTP_HEAD;
	struct evbuffer *b;
	int64_t n;
	long len;

	c->keepalive = r->keepalive && !r->body;
	if (r->method == P2PL_HTTP_OTHER) {
		reply(c, 405, "text/plain", NULL, 0, 0, "Allow: GET, HEAD\r\n");
		return;
	}
	if (r->body) {
		reply(c, 400, "text/plain", NULL, 0, 0, NULL);
		return;
	}
	if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/stream.ts") == 0) {
		c->keepalive = 0;
		if (head)
			reply(c, 200, "video/mp2t", NULL, -1, 1, NULL);
		else
			stream(c);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		kill_client(c);
		return;
	}
	n = seg_number(r->path);
	if (strcmp(r->path, "/index.m3u8") == 0) {
		if (p2pl_hls_playlist(c->d->hls, b) == 0)
			reply(c, 200, "application/vnd.apple.mpegurl", b,
			    (long)evbuffer_get_length(b), head, NULL);
		else
			reply(c, 503, "text/plain", NULL, 0, head,
			    "Retry-After: 1\r\n");
	} else if (strcmp(r->path, "/metrics") == 0 && c->d->cb.metrics &&
	    (len = c->d->cb.metrics(c->d->cb.arg, b)) >= 0)
		reply(c, 200, "text/plain; version=0.0.4", b, len, head, NULL);
	else if (n >= 0 && (len = p2pl_hls_segment_len(c->d->hls,
	    (uint64_t)n)) >= 0 && p2pl_hls_segment(c->d->hls, (uint64_t)n,
	    b) == 0)
		reply(c, 200, "video/mp2t", b, len, head, NULL);
	else
		reply(c, 404, "text/plain", NULL, 0, head, NULL);
	evbuffer_free(b);
}

/* Answer the requests waiting in c's input, one at a time. */
static void
serve(struct client *c)
{
	struct p2pl_httpreq r;
	char err[P2PL_ERRLEN];
	size_t len;
	int n;

	while (c->state == C_HEAD && (len = evbuffer_get_length(c->in)) > 0) {
		if (len > P2PL_HTTP_HEAD_MAX)
			len = P2PL_HTTP_HEAD_MAX;
		n = p2pl_httpreq_parse((const char *)evbuffer_pullup(c->in,
		    (ev_ssize_t)len), len, &r, err, sizeof(err));
		if (n == 0)
			return;
		if (n < 0) {
			logf_(c->d, P2PL_LOG_INFO, "http: %s: %s", c->name,
			    err);
			c->keepalive = 0;
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			reply(c, r.status, "text/plain", NULL, 0, 0, NULL);
			return;
		}
		evbuffer_drain(c->in, (size_t)n);
		c->d->st.requests++;
		route(c, &r);
	}
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	int n;

	(void)fd;
	(void)what;
	if (c->state == C_DEAD)
		return;
	n = evbuffer_read(c->in, c->fd, READ_MAX);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		kill_client(c);
		return;
	}
	if (c->state != C_HEAD)		/* nothing more is asked */
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	else
		serve(c);
}

/* Over the limit: say so if the socket takes it at once, and close. */
static void
refuse(struct p2pl_httpd *d, evutil_socket_t fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	ssize_t n;

	n = send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	shutdown(fd, SHUT_WR);
	close(fd);
	if (d->st.refused++ == 0)
		logf_(d, P2PL_LOG_WARN, "http: more than %d connections: "
		    "refusing", P2PL_HTTPD_MAX);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct p2pl_httpd *d = arg;
	char host[64], port[16];
	struct client *c;

	(void)lis;
	if (d->st.clients >= P2PL_HTTPD_MAX) {
		refuse(d, fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->d = d;
	c->fd = fd;
	if (getnameinfo(sa, (socklen_t)salen, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(c->name, sizeof(c->name), strchr(host, ':') ? "[%s]:%s" :
	    "%s:%s", host, port);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_read, c);
	c->wev = event_new(d->base, fd, EV_WRITE, on_write, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL || event_add(c->rev, NULL) == -1) {
		client_free(c);
		return;
	}
	c->since = p2pl_mono_us();
	c->next = d->clients;
	d->clients = c;
	d->st.clients++;
}

/* accept() failed (EMFILE...): back off a second rather than spin. */
static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct p2pl_httpd *d = arg;
	struct timeval tv = { 1, 0 };

	logf_(d, P2PL_LOG_WARN, "http: accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(lis);
	evtimer_add(d->lis_ev, &tv);
}

static void
on_relisten(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_httpd *d = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(d->lis);
}

/* A stream client: note its progress; drop it when it took nothing. */
static void
check_stream(struct client *c, uint64_t now)
{
	uint64_t bytes = p2pl_mediaout_stats(c->so)->bytes;

	if (bytes != c->bytes || p2pl_mediaout_pending(c->so) == 0) {
		c->bytes = bytes;
		c->progress = now;
	} else if (now - c->progress > STALL_US) {
		logf_(c->d, P2PL_LOG_WARN, "http: %s took nothing for %d s: "
		    "dropped", c->name, STALL_US / 1000000);
		c->d->st.dropped++;
		kill_client(c);
	}
}

/* Once a second: the idle and the stalled go. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_httpd *d = arg;
	uint64_t now = p2pl_mono_us();
	struct client *c;

	(void)fd;
	(void)what;
	for (c = d->clients; c != NULL; c = c->next) {
		switch (c->state) {
		case C_HEAD:
			if (now - c->since > HEAD_US)
				kill_client(c);
			break;
		case C_REPLY:
			if (now - c->since > REPLY_US ||
			    now - c->progress > STALL_US)
				kill_client(c);
			break;
		case C_LINGER:
			if (now - c->since > LINGER_US)
				kill_client(c);
			break;
		case C_STREAM:
			check_stream(c, now);
			break;
		}
	}
}

void
p2pl_httpd_piece(struct p2pl_httpd *d, struct p2pl_piece *p)
{
	struct p2pl_mediaout_stats *os;
	struct client *c;

	p2pl_hls_piece(d->hls, p);
	for (c = d->clients; c != NULL; c = c->next) {
		if (c->state != C_STREAM)
			continue;
		if (c->waiting && !(p->flags & P2PL_PIECE_JOIN))
			continue;
		c->waiting = 0;
		p2pl_mediaout_piece(c->so, p);
		os = p2pl_mediaout_stats(c->so);
		if (os->dropped == c->dropped)
			continue;
		/* dropped while bytes wait: too slow, not a gap upstream */
		if (p2pl_mediaout_pending(c->so) > 0) {
			d->st.skipped += os->dropped - c->dropped;
			if (!c->said_slow)
				logf_(d, P2PL_LOG_WARN, "http: %s is too slow: "
				    "skipping it to the next join point",
				    c->name);
			c->said_slow = 1;
		}
		c->dropped = os->dropped;
	}
}

void
p2pl_httpd_json(struct p2pl_httpd *d, struct p2pl_json *j)
{
	p2pl_json_u64(j, "http_clients", (uint64_t)d->st.clients);
	p2pl_json_u64(j, "http_streams", (uint64_t)d->st.streams);
	p2pl_json_u64(j, "http_requests", d->st.requests);
	p2pl_json_u64(j, "http_refused", d->st.refused);
	p2pl_json_u64(j, "http_dropped", d->st.dropped);
	p2pl_json_u64(j, "http_skipped", d->st.skipped);
	p2pl_json_u64(j, "hls_segments", p2pl_hls_count(d->hls));
}

struct p2pl_httpd *
p2pl_httpd_new(struct event_base *base, const struct p2pl_addr *a,
    const struct p2pl_httpd_cb *cb, struct p2pl_addr *bound, char *err,
    size_t errlen)
{
	struct p2pl_httpd *d = calloc(1, sizeof(*d));
	struct timeval one = { 1, 0 };

	if (d == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	d->base = base;
	d->cb = *cb;
	d->hls = p2pl_hls_new();
	d->lis_ev = evtimer_new(base, on_relisten, d);
	d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
	d->reap = event_new(base, -1, 0, on_reap, d);
	if (d->hls == NULL || d->lis_ev == NULL || d->tick == NULL ||
	    d->reap == NULL || event_add(d->tick, &one) == -1) {
		p2pl_seterr(err, errlen, "out of memory");
		p2pl_httpd_free(d);
		return NULL;
	}
	d->lis = p2pl_listen(base, a, on_accept, d, bound, err, errlen);
	if (d->lis == NULL) {
		p2pl_httpd_free(d);
		return NULL;
	}
	evconnlistener_set_error_cb(d->lis, on_accept_error);
	return d;
}

void
p2pl_httpd_free(struct p2pl_httpd *d)
{
	struct client *c;

	if (d == NULL)
		return;
	if (d->lis != NULL)
		evconnlistener_free(d->lis);
	while ((c = d->clients) != NULL) {
		d->clients = c->next;
		client_free(c);
	}
	if (d->lis_ev != NULL)
		event_free(d->lis_ev);
	if (d->tick != NULL)
		event_free(d->tick);
	if (d->reap != NULL)
		event_free(d->reap);
	p2pl_hls_free(d->hls);
	free(d);
}
