/*
 * httpreq.h - parse the head of an HTTP/1.x request, from hostile bytes.
 *
 * Only what the viewer's HTTP server (httpd.h) needs is kept: the method,
 * the path without its query, the version and whether the connection is
 * to stay open.  The head is capped at P2PL_HTTP_HEAD_MAX bytes and
 * P2PL_HTTP_HEADERS header lines; the path at P2PL_HTTP_PATH_MAX - 1.
 * Bare LF line ends are taken as CRLF; folded header lines are refused.
 */
#ifndef P2PL_HTTPREQ_H
#define P2PL_HTTPREQ_H

#include <stddef.h>

#define P2PL_HTTP_HEAD_MAX 8192
#define P2PL_HTTP_HEADERS 64
#define P2PL_HTTP_PATH_MAX 256

enum { P2PL_HTTP_GET, P2PL_HTTP_HEAD, P2PL_HTTP_OTHER };

struct p2pl_httpreq {
	int method;		/* P2PL_HTTP_GET, _HEAD or _OTHER */
	int minor;		/* HTTP/1.minor */
	int keepalive;		/* the client wants the connection kept */
	int body;		/* it announced a body (Content-Length, chunked) */
	int status;		/* on error: the status code to answer */
	char path[P2PL_HTTP_PATH_MAX];
};

/*
 * Parse the request head at the start of buf (len bytes).  Returns the
 * head's length once it is complete, 0 while more bytes are needed, and
 * -1 with r->status set (400, 414, 431, 505) and an error string when
 * the request is malformed or too large.
 */
int p2pl_httpreq_parse(const char *buf, size_t len, struct p2pl_httpreq *r,
    char *err, size_t errlen);

#endif
