/*
 * tracker-int.h - the insides of the tracker client, shared by tracker.c
 * (announce URLs, replies, timing), trackhttp.c (plain http on libevent's
 * evhttp) and trackcurl.c (https through libcurl, loaded only when a
 * tracker URL or a redirect asks for it).  Not an API.
 *
 * A transfer is one announce: its reply body goes to p2pl__tracker_take()
 * as it comes, and its end to p2pl__tracker_end().  At most one is in
 * flight per tracker.
 */
#ifndef P2PL_TRACKER_INT_H
#define P2PL_TRACKER_INT_H

#include "tracker.h"

#define P2PL_TRACKER_REDIRECTS 3	/* followed per announce, at most */
#define P2PL_TRACKER_IDLE 10		/* seconds of silence end a transfer */
#define P2PL_TRACKER_TOTAL 20		/* seconds a transfer gets in all */

struct trackhttp;
struct trackcurl;

struct p2pl_tracker {
	struct event_base *base;
	struct evdns_base *dns;		/* the caller's, or NULL */
	struct event *announce_timer;	/* the next announce */
	struct p2pl_tracker_cb cb;
	char *url;
	uint8_t info_hash[20], peer_id[20];
	uint16_t port;
	uint64_t uploaded, downloaded;
	int started;			/* event=started was accepted */
	int backoff;			/* seconds before the next retry */
	uint8_t *reply;
	size_t replylen, replycap;
	int toolarge, nomem;
	struct p2pl_addr *peers;
	int incb, dead;			/* in a callback; freed in one */
	struct trackhttp *http;		/* trackhttp.c's, made on first use */
	struct trackcurl *curl;		/* trackcurl.c's, made on first use */
};

/* Keep n more reply bytes; -1 (toolarge or nomem set) to stop. */
int p2pl__tracker_take(struct p2pl_tracker *t, const void *d, size_t n);
/*
 * The transfer ended: with HTTP status code and the body taken, or, when
 * why is not NULL, failed for that reason.  Returns 1 if a callback freed
 * t, which is then gone.
 */
int p2pl__tracker_end(struct p2pl_tracker *t, long code, const char *why);

/*
 * The absolute URL a redirect from base (an http:// or https:// URL) to
 * loc (a Location header: hostile) names, malloc'd; NULL with why set for
 * one to another scheme, or out of memory.
 */
char *p2pl__tracker_redirect(const char *base, const char *loc, char *why,
    size_t whylen);

/* Start a GET of an http:// url, following at most redirects redirects;
 * 0, or -1 with why set. */
int p2pl__http_get(struct p2pl_tracker *t, const char *url, int redirects,
    char *why, size_t whylen);
int p2pl__http_busy(const struct p2pl_tracker *t);
void p2pl__http_free(struct p2pl_tracker *t);	/* aborts one in flight */

/* The same through libcurl, for https (and http after it). */
int p2pl__curl_get(struct p2pl_tracker *t, const char *url, int redirects,
    char *why, size_t whylen);
int p2pl__curl_busy(const struct p2pl_tracker *t);
void p2pl__curl_free(struct p2pl_tracker *t);

#endif
