/*
 * trackhttp.c - tracker announces over plain http on libevent's evhttp:
 * one GET per announce on a fresh connection, names resolved by evdns,
 * redirects followed (an https one hands the announce to trackcurl.c),
 * the body taken as it comes and cut at P2PL_TRACKER_REPLY_MAX, the
 * transfer ended by P2PL_TRACKER_IDLE seconds of silence or
 * P2PL_TRACKER_TOTAL in all (its redirects included).
 *
 * evhttp's callbacks only note what happened and wake on_done, which
 * frees the connection and goes on (another hop, or the end): nothing is
 * freed under libevent's feet.
 */
#include "tracker-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define HEADERS_MAX (16 * 1024)

struct trackhttp {
	struct evdns_base *dns;		/* t's, or one of our own */
	int own_dns;
	struct evhttp_connection *conn;	/* the transfer in flight, or NULL */
	struct event *done_ev;		/* wakes on_done */
	struct event *limit_ev;		/* P2PL_TRACKER_TOTAL */
	char *url;			/* of this hop */
	char *location;			/* where a redirect points, or NULL */
	int redirects;			/* still allowed */
	int over;			/* the hop's end is noted */
	long code;
	char why[P2PL_ERRLEN];		/* the failure, or "" */
};

/* Note the hop's end (the first one noted counts) and wake on_done. */
static void
over(struct trackhttp *h, const char *why)
{
	if (h->over)
		return;
	h->over = 1;
	if (why != NULL)
		p2pl_seterr(h->why, sizeof(h->why), "%s", why);
	event_active(h->done_ev, EV_TIMEOUT, 0);
}

/*
 * Why the connection failed, as far as can be told: the resolver's
 * answer, or what (errno is stale by the time evhttp tells us).
 */
static void
conn_why(struct trackhttp *h, const char *what, char *why, size_t whylen)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(h->conn);
	int dns = bev != NULL ? bufferevent_socket_get_dns_error(bev) : 0;

	if (dns != 0)
		p2pl_seterr(why, whylen, "cannot resolve the name: %s",
		    evutil_gai_strerror(dns));
	else
		p2pl_seterr(why, whylen, "%s", what);
}

/* evhttp calls it with the request's argument, t, as it fails */
static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct p2pl_tracker *t = arg;
	struct trackhttp *h = t->http;
	char why[P2PL_ERRLEN];

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		p2pl_seterr(why, sizeof(why), "no answer in %d s",
		    P2PL_TRACKER_IDLE);
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		p2pl_seterr(why, sizeof(why), "bad http reply");
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		p2pl_seterr(why, sizeof(why), "reply over %d bytes",
		    P2PL_TRACKER_REPLY_MAX);
		break;
	default:
		conn_why(h, "connection closed", why, sizeof(why));
		break;
	}
	over(h, why);
}

/* Body bytes as they come. */
static void
on_chunk(struct evhttp_request *req, void *arg)
{
	struct p2pl_tracker *t = arg;
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(b);

	if (!t->http->over && p2pl__tracker_take(t, evbuffer_pullup(b, -1),
	    n) == -1)
		over(t->http, NULL);
	evbuffer_drain(b, n);
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct p2pl_tracker *t = arg;
	struct trackhttp *h = t->http;
	char why[P2PL_ERRLEN];
	const char *loc;

	if (req == NULL || h->over) {
		over(h, "connection closed");
		return;
	}
	/* a connection that never came up ends its request with no status */
	if ((h->code = evhttp_request_get_response_code(req)) == 0) {
		conn_why(h, "cannot connect", why, sizeof(why));
		over(h, why);
		return;
	}
	loc = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Location");
	if (loc != NULL && (h->code == 301 || h->code == 302 ||
	    h->code == 303 || h->code == 307 || h->code == 308) &&
	    (h->location = strdup(loc)) == NULL)
		t->nomem = 1;
	over(h, NULL);
}

static void
on_limit(evutil_socket_t fd, short what, void *arg)
{
	struct trackhttp *h = arg;
	char why[P2PL_ERRLEN];

	(void)fd;
	(void)what;
	p2pl_seterr(why, sizeof(why), "no reply in %d s", P2PL_TRACKER_TOTAL);
	over(h, why);
}

char *
p2pl__tracker_redirect(const char *base, const char *loc, char *why,
    size_t whylen)
{
	const char *auth = strstr(base, "://") + 3, *slash;
	size_t keep, pathend;
	char *u;

	if (strncasecmp(loc, "http://", 7) == 0 ||
	    strncasecmp(loc, "https://", 8) == 0) {
		if ((u = strdup(loc)) == NULL)
			p2pl_seterr(why, whylen, "out of memory");
		return u;
	}
	if (strstr(loc, "://") != NULL && strstr(loc, "://") <
	    loc + strcspn(loc, "/?")) {
		p2pl_seterr(why, whylen, "redirect to %.100s: not http(s)",
		    loc);
		return NULL;
	}
	pathend = (size_t)(auth - base) + strcspn(auth, "?");
	if (*loc == '/')	/* the same host, this path */
		keep = (size_t)(auth - base) + strcspn(auth, "/?");
	else if ((slash = memrchr(auth, '/', pathend - (size_t)(auth -
	    base))) != NULL)	/* beside the base's last path segment */
		keep = (size_t)(slash + 1 - base);
	else
		keep = pathend;
	if ((u = malloc(keep + strlen(loc) + 2)) == NULL) {
		p2pl_seterr(why, whylen, "out of memory");
		return NULL;
	}
	sprintf(u, "%.*s%s%s", (int)keep, base, *loc != '/' &&
	    base[keep - 1] != '/' ? "/" : "", loc);
	return u;
}

/* The next hop of a redirect to loc; 0, or -1 with why set. */
static int
redirect(struct p2pl_tracker *t, const char *loc, char *why, size_t whylen)
{
	struct trackhttp *h = t->http;
	char *next;
	int rc = -1;

	t->replylen = 0;
	if ((next = p2pl__tracker_redirect(h->url, loc, why, whylen)) == NULL)
		return -1;
	if (h->redirects == 0)
		p2pl_seterr(why, whylen, "more than %d redirects",
		    P2PL_TRACKER_REDIRECTS);
	else if (strncasecmp(next, "https://", 8) != 0)
		rc = p2pl__http_get(t, next, h->redirects - 1, why, whylen);
	else {
		evtimer_del(h->limit_ev);	/* libcurl keeps its own */
		rc = p2pl__curl_get(t, next, h->redirects - 1, why, whylen);
	}
	free(next);
	return rc;
}

/* The hop is over: free its connection and go on. */
static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct p2pl_tracker *t = arg;
	struct trackhttp *h = t->http;
	char why[P2PL_ERRLEN], *loc = h->location;
	const char *end = h->why[0] != '\0' ? h->why : NULL;
	long code = h->code;

	(void)fd;
	(void)what;
	if (h->conn == NULL)
		return;
	evhttp_connection_free(h->conn);
	h->conn = NULL;
	h->location = NULL;
	if (loc != NULL && end == NULL && !t->toolarge && !t->nomem) {
		if (redirect(t, loc, why, sizeof(why)) == 0) {
			free(loc);
			return;		/* the next hop is on its way */
		}
		end = why;
		code = 0;
	}
	free(loc);
	evtimer_del(h->limit_ev);
	p2pl__tracker_end(t, code, end);
}

/* t's evhttp state, made on first use; NULL with why set. */
static struct trackhttp *
state(struct p2pl_tracker *t, char *why, size_t whylen)
{
	struct trackhttp *h;

	if (t->http != NULL)
		return t->http;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto fail;
	h->dns = t->dns;
	if (h->dns == NULL) {
		h->own_dns = 1;
		h->dns = evdns_base_new(t->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	}
	h->done_ev = event_new(t->base, -1, 0, on_done, t);
	h->limit_ev = evtimer_new(t->base, on_limit, h);
	if (h->dns == NULL || h->done_ev == NULL || h->limit_ev == NULL)
		goto fail;
	return t->http = h;
fail:
	if (h != NULL) {
		if (h->own_dns && h->dns != NULL)
			evdns_base_free(h->dns, 0);
		if (h->done_ev != NULL)
			event_free(h->done_ev);
		if (h->limit_ev != NULL)
			event_free(h->limit_ev);
		free(h);
	}
	p2pl_seterr(why, whylen, "cannot start an http transfer");
	return NULL;
}

int
p2pl__http_get(struct p2pl_tracker *t, const char *url, int redirects,
    char *why, size_t whylen)
{
	struct trackhttp *h;
	struct evhttp_uri *u;
	struct evhttp_request *req = NULL;
	struct timeval tv = { P2PL_TRACKER_TOTAL, 0 };
	const char *host, *path, *query;
	char name[256], hosthdr[300], *target = NULL;
	size_t hl;
	int port;

	if ((h = state(t, why, whylen)) == NULL)
		return -1;
	if ((u = evhttp_uri_parse_with_flags(url,
	    EVHTTP_URI_NONCONFORMANT)) == NULL ||
	    (host = evhttp_uri_get_host(u)) == NULL || *host == '\0' ||
	    (hl = strlen(host)) >= sizeof(name)) {
		p2pl_seterr(why, whylen, "bad url: %.200s", url);
		goto fail;
	}
	/* evhttp keeps an IPv6 literal's brackets; the resolver wants none */
	if (host[0] == '[' && hl > 2) {
		memcpy(name, host + 1, hl - 2);
		name[hl - 2] = '\0';
	} else
		snprintf(name, sizeof(name), "%s", host);
	port = evhttp_uri_get_port(u);
	if (port == -1)
		port = 80;
	snprintf(hosthdr, sizeof(hosthdr), port == 80 ? "%s" : "%s:%d", host,
	    port);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || *path == '\0')
		path = "/";
	free(h->url);
	if ((h->url = strdup(url)) == NULL || (target = malloc(strlen(path) +
	    (query != NULL ? strlen(query) : 0) + 2)) == NULL)
		goto nomem;
	sprintf(target, "%s%s%s", path, query != NULL ? "?" : "",
	    query != NULL ? query : "");
	h->conn = evhttp_connection_base_new(t->base, h->dns, name,
	    (uint16_t)port);
	if (h->conn == NULL || (req = evhttp_request_new(on_reply, t)) ==
	    NULL)
		goto nomem;
	evhttp_connection_set_timeout(h->conn, P2PL_TRACKER_IDLE);
	evhttp_connection_set_max_headers_size(h->conn, HEADERS_MAX);
	evhttp_connection_set_max_body_size(h->conn, P2PL_TRACKER_REPLY_MAX);
	evhttp_request_set_chunked_cb(req, on_chunk);
	evhttp_request_set_error_cb(req, on_error);
	if (evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    hosthdr) == -1 || evhttp_add_header(
	    evhttp_request_get_output_headers(req), "User-Agent", "p2pl") ==
	    -1)
		goto nomem;
	h->redirects = redirects;
	h->over = 0;
	h->code = 0;
	h->why[0] = '\0';
	/* evhttp_make_request frees req when it fails */
	if (evhttp_make_request(h->conn, req, EVHTTP_REQ_GET, target) == -1) {
		req = NULL;
		p2pl_seterr(why, whylen, "cannot start a transfer");
		goto fail;
	}
	if (!evtimer_pending(h->limit_ev, NULL))	/* for all the hops */
		evtimer_add(h->limit_ev, &tv);
	free(target);
	evhttp_uri_free(u);
	return 0;
nomem:
	p2pl_seterr(why, whylen, "out of memory");
fail:
	if (req != NULL)
		evhttp_request_free(req);
	event_del(h->done_ev);		/* evhttp may have said it failed */
	h->over = 0;
	if (h->conn != NULL)
		evhttp_connection_free(h->conn);
	h->conn = NULL;
	free(target);
	if (u != NULL)
		evhttp_uri_free(u);
	return -1;
}

int
p2pl__http_busy(const struct p2pl_tracker *t)
{
	return t->http != NULL && t->http->conn != NULL;
}

void
p2pl__http_free(struct p2pl_tracker *t)
{
	struct trackhttp *h = t->http;

	if (h == NULL)
		return;
	if (h->conn != NULL)
		evhttp_connection_free(h->conn);
	event_free(h->done_ev);
	event_free(h->limit_ev);
	if (h->own_dns)
		evdns_base_free(h->dns, 0);
	free(h->location);
	free(h->url);
	free(h);
	t->http = NULL;
}
