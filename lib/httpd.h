/*
 * httpd.h - the viewer's HTTP server: the live stream for any number of
 * players, as one MPEG-TS stream and as HLS.
 *
 *   GET /, GET /stream.ts   200, video/mp2t, the body ends when the
 *                           connection closes: the stream from the next
 *                           join point on, piece by piece
 *   GET /index.m3u8         the live HLS playlist (hls.h); 503 before
 *                           the first segment is complete
 *   GET /seg-N.ts           segment N while it is kept, else 404
 *   GET /metrics            the caller's Prometheus page (metrics.h),
 *                           when it gives one
 *   anything else           404; methods other than GET and HEAD: 405
 *
 * Every answer has Access-Control-Allow-Origin: *, so a page served
 * elsewhere can play the HLS.  Each /stream.ts client has a writer of its
 * own (mediaout.h) fed the pieces the viewer plays: a client that does not
 * keep up is skipped forward to a join point when more than 2 MiB or 4 s
 * of stream wait for it, and dropped when it takes no byte for 30 s; it
 * never holds up another client or the caller.  Limits: P2PL_HTTPD_MAX
 * connections (more are answered 503 and closed), a request head of 8 KiB
 * (httpreq.h) that must come within 10 s of the connection or the last
 * answer, an answer that takes no byte for 30 s or is not sent within
 * 60 s drops the connection.  Nothing is printed: messages go to the log
 * callback.
 */
#ifndef P2PL_HTTPD_H
#define P2PL_HTTPD_H

#include "piece.h"
#include "jsonwrite.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdint.h>

#define P2PL_HTTPD_MAX 64

struct p2pl_httpd_cb {
	void *arg;
	void (*log)(void *arg, int level, const char *msg);
	/* GET /metrics (NULL: 404): add the page to b, return its length
	 * or -1 */
	long (*metrics)(void *arg, struct evbuffer *b);
};

struct p2pl_httpd_stats {
	uint64_t requests;	/* request heads parsed */
	uint64_t refused;	/* connections over the limit */
	uint64_t dropped;	/* stream clients dropped for taking nothing */
	uint64_t skipped;	/* pieces skipped for slow stream clients */
	int clients;		/* connections open now */
	int streams;		/* of those, /stream.ts */
};

struct p2pl_httpd;

/* Listen on a (port 0: a free one; its address to *bound). */
struct p2pl_httpd *p2pl_httpd_new(struct event_base *base,
    const struct p2pl_addr *a, const struct p2pl_httpd_cb *cb,
    struct p2pl_addr *bound, char *err, size_t errlen);
void p2pl_httpd_free(struct p2pl_httpd *d);
/* The next verified piece in playout order (opened if it was SECRET). */
void p2pl_httpd_piece(struct p2pl_httpd *d, struct p2pl_piece *p);
/* The stats line's fields: http_clients ... hls_segments (p2pl-fetch(1)). */
void p2pl_httpd_json(struct p2pl_httpd *d, struct p2pl_json *j);

#endif
