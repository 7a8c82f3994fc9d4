/*
 * trackcurl.c - tracker announces over https, through libcurl's multi
 * interface driven by libevent socket and timer events.  libcurl and the
 * two dozen libraries it pulls in (TLS, Kerberos, LDAP, ...) are loaded
 * with dlopen on the first https announce, so a process whose trackers
 * speak plain http never maps them.
 */
#include "tracker-int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define CURL_SONAME "libcurl.so.4"

/* The libcurl functions used, looked up once. */
static struct {
	int tried, ok;
	char err[P2PL_ERRLEN];
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
} C;

/* One socket libcurl asked us to watch. */
struct sock {
	struct p2pl_tracker *t;
	curl_socket_t fd;
	struct event *ev;
	struct sock *next;
};

struct trackcurl {
	CURLM *multi;
	CURL *easy;			/* the announce in flight, or NULL */
	struct event *timer;		/* libcurl's timeout */
	struct sock *socks;
	char err[CURL_ERROR_SIZE];
};

#define SYM(name, field) \
	(*(void **)&C.field = dlsym(h, name)) == NULL

/* Load libcurl once; 0, or -1 with why set. */
static int
load(char *why, size_t whylen)
{
	void *h;

	if (!C.tried) {
		C.tried = 1;
		if ((h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
			p2pl_seterr(C.err, sizeof(C.err), "https needs %s: %s",
			    CURL_SONAME, dlerror());
		else if (SYM("curl_global_init", global_init) ||
		    SYM("curl_easy_init", easy_init) ||
		    SYM("curl_easy_setopt", easy_setopt) ||
		    SYM("curl_easy_getinfo", easy_getinfo) ||
		    SYM("curl_easy_cleanup", easy_cleanup) ||
		    SYM("curl_easy_strerror", easy_strerror) ||
		    SYM("curl_multi_init", multi_init) ||
		    SYM("curl_multi_setopt", multi_setopt) ||
		    SYM("curl_multi_add_handle", multi_add_handle) ||
		    SYM("curl_multi_remove_handle", multi_remove_handle) ||
		    SYM("curl_multi_cleanup", multi_cleanup) ||
		    SYM("curl_multi_socket_action", multi_socket_action) ||
		    SYM("curl_multi_info_read", multi_info_read) ||
		    SYM("curl_multi_assign", multi_assign))
			p2pl_seterr(C.err, sizeof(C.err), "%s: %s",
			    CURL_SONAME, dlerror());
		else if (C.global_init(CURL_GLOBAL_DEFAULT) != 0)
			p2pl_seterr(C.err, sizeof(C.err),
			    "cannot initialise libcurl");
		else
			C.ok = 1;
	}
	if (!C.ok)
		p2pl_seterr(why, whylen, "%s", C.err);
	return C.ok ? 0 : -1;
}

static size_t
on_write(char *d, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;

	return p2pl__tracker_take(arg, d, n) == 0 ? n : 0;
}

/* The transfer in flight ended with rc; 1 if a callback freed t. */
static int
finish(struct p2pl_tracker *t, CURLcode rc)
{
	struct trackcurl *k = t->curl;
	char why[P2PL_ERRLEN];
	long code = 0;

	C.easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &code);
	C.multi_remove_handle(k->multi, k->easy);
	C.easy_cleanup(k->easy);
	k->easy = NULL;
	if (rc == CURLE_OK || t->toolarge || t->nomem)
		return p2pl__tracker_end(t, code, NULL);
	p2pl_seterr(why, sizeof(why), "%s", k->err[0] != '\0' ? k->err :
	    C.easy_strerror(rc));
	return p2pl__tracker_end(t, code, why);
}

/* Let libcurl act on fd (or its timeout); 1 if a callback freed t. */
static int
drive(struct p2pl_tracker *t, curl_socket_t fd, int flags)
{
	struct trackcurl *k = t->curl;
	CURLMsg *msg;
	int running, left;

	C.multi_socket_action(k->multi, fd, flags, &running);
	while ((msg = C.multi_info_read(k->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == k->easy)
			return finish(t, msg->data.result);
	return 0;
}

static void
on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct sock *s = arg;
	int flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* s may be freed by now: only t and fd from here */
	drive(s->t, fd, flags);
}

static void
on_curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* libcurl's CURLMOPT_TIMERFUNCTION: arm or disarm our one timer. */
static int
on_curl_timer(CURLM *multi, long ms, void *arg)
{
	struct p2pl_tracker *t = arg;
	struct timeval tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(t->curl->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(t->curl->timer, &tv);
}

static void
sock_remove(struct trackcurl *k, struct sock *s)
{
	struct sock **pp;

	for (pp = &k->socks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->ev != NULL)
		event_free(s->ev);
	free(s);
}

/* libcurl's CURLMOPT_SOCKETFUNCTION: watch fd for what it asks. */
static int
on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct p2pl_tracker *t = arg;
	struct trackcurl *k = t->curl;
	struct sock *s = sockp;
	short kind = EV_PERSIST;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sock_remove(k, s);
		return 0;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->t = t;
		s->fd = fd;
		s->next = k->socks;
		k->socks = s;
		C.multi_assign(k->multi, fd, s);
	} else if (s->ev != NULL) {
		event_free(s->ev);
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	s->ev = event_new(t->base, fd, kind, on_sock_event, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		return -1;
	return 0;
}

/* Options for one announce on e; 0 or a CURLcode. */
static CURLcode
setup(struct p2pl_tracker *t, CURL *e, const char *url, int redirects)
{
	CURLcode rc = CURLE_OK;

	rc |= C.easy_setopt(e, CURLOPT_URL, url);
	rc |= C.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	rc |= C.easy_setopt(e, CURLOPT_WRITEDATA, t);
	rc |= C.easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl->err);
	rc |= C.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= C.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	rc |= C.easy_setopt(e, CURLOPT_MAXREDIRS, (long)redirects);
	rc |= C.easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    (long)P2PL_TRACKER_IDLE);
	rc |= C.easy_setopt(e, CURLOPT_TIMEOUT, (long)P2PL_TRACKER_TOTAL);
	rc |= C.easy_setopt(e, CURLOPT_USERAGENT, "p2pl");
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= C.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= C.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	rc |= C.easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	rc |= C.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	return rc;
}

/* t's libcurl state, made on first use; NULL with why set. */
static struct trackcurl *
state(struct p2pl_tracker *t, char *why, size_t whylen)
{
	struct trackcurl *k;

	if (t->curl != NULL)
		return t->curl;
	if (load(why, whylen) == -1)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->timer = evtimer_new(t->base, on_curl_timeout, t)) == NULL ||
	    (k->multi = C.multi_init()) == NULL) {
		if (k != NULL && k->timer != NULL)
			event_free(k->timer);
		free(k);
		p2pl_seterr(why, whylen, "cannot start libcurl");
		return NULL;
	}
	C.multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	C.multi_setopt(k->multi, CURLMOPT_SOCKETDATA, t);
	C.multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	C.multi_setopt(k->multi, CURLMOPT_TIMERDATA, t);
	return t->curl = k;
}

int
p2pl__curl_get(struct p2pl_tracker *t, const char *url, int redirects,
    char *why, size_t whylen)
{
	struct trackcurl *k;
	CURL *e;

	if ((k = state(t, why, whylen)) == NULL)
		return -1;
	k->err[0] = '\0';
	if ((e = C.easy_init()) == NULL || setup(t, e, url, redirects) !=
	    CURLE_OK || C.multi_add_handle(k->multi, e) != CURLM_OK) {
		if (e != NULL)
			C.easy_cleanup(e);
		p2pl_seterr(why, whylen, "cannot start a transfer");
		return -1;
	}
	k->easy = e;
	return 0;
}

int
p2pl__curl_busy(const struct p2pl_tracker *t)
{
	return t->curl != NULL && t->curl->easy != NULL;
}

void
p2pl__curl_free(struct p2pl_tracker *t)
{
	struct trackcurl *k = t->curl;
	struct sock *s;

	if (k == NULL)
		return;
	if (k->easy != NULL) {
		C.multi_remove_handle(k->multi, k->easy);
		C.easy_cleanup(k->easy);
	}
	C.multi_cleanup(k->multi);
	while ((s = k->socks) != NULL) {
		k->socks = s->next;
		if (s->ev != NULL)
			event_free(s->ev);
		free(s);
	}
	event_free(k->timer);
	free(k);
	t->curl = NULL;
}
