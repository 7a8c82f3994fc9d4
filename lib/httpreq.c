/* httpreq.c - the request head parser of the viewer's HTTP server. */
#include "httpreq.h"
#include "util.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar: the characters of a method or a header name. */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* The end of the head: the offset after its empty line, or 0. */
static size_t
head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The next line of [*s, end): its start and length without CR LF. */
static const char *
next_line(const char **s, const char *end, size_t *n)
{
	const char *l = *s, *nl = memchr(l, '\n', (size_t)(end - l));

	if (nl == NULL)
		return NULL;
	*s = nl + 1;
	*n = (size_t)(nl - l);
	if (*n > 0 && l[*n - 1] == '\r')
		(*n)--;
	return l;
}

static int
bad(struct p2pl_httpreq *r, int status, char *err, size_t errlen,
    const char *what)
{
	r->status = status;
	p2pl_seterr(err, errlen, "%s", what);
	return -1;
}

/* "GET /path?query HTTP/1.1" */
static int
request_line(const char *l, size_t n, struct p2pl_httpreq *r, char *err,
    size_t errlen)
{
	size_t i = 0, m, p;

	while (i < n && tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return bad(r, 400, err, errlen, "bad request line");
	m = i;
	if (m == 3 && memcmp(l, "GET", 3) == 0)
		r->method = P2PL_HTTP_GET;
	else if (m == 4 && memcmp(l, "HEAD", 4) == 0)
		r->method = P2PL_HTTP_HEAD;
	else
		r->method = P2PL_HTTP_OTHER;
	p = ++i;
	while (i < n && l[i] != ' ') {
		if ((unsigned char)l[i] <= 0x20 || l[i] == 0x7f)
			return bad(r, 400, err, errlen, "bad request target");
		i++;
	}
	if (i == p || l[p] != '/')
		return bad(r, 400, err, errlen, "bad request target");
	/* the path: the target up to its query or fragment */
	for (m = p; m < i && l[m] != '?' && l[m] != '#'; m++)
		;
	if (m - p >= sizeof(r->path))
		return bad(r, 414, err, errlen, "request target too long");
	memcpy(r->path, l + p, m - p);
	r->path[m - p] = '\0';
	if (i >= n || n - i - 1 != 8 || memcmp(l + i + 1, "HTTP/1.", 7) != 0) {
		if (i < n && n - i - 1 >= 5 && memcmp(l + i + 1, "HTTP/", 5) == 0)
			return bad(r, 505, err, errlen, "http version not "
			    "supported");
		return bad(r, 400, err, errlen, "bad request line");
	}
	if (l[n - 1] < '0' || l[n - 1] > '9')
		return bad(r, 400, err, errlen, "bad http version");
	r->minor = l[n - 1] - '0';
	r->keepalive = r->minor >= 1;
	return 0;
}

/* Does the comma-separated list v (n bytes) hold the token t? */
static int
has_token(const char *v, size_t n, const char *t)
{
	size_t tl = strlen(t), i = 0, j;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < n && v[j] != ','; j++)
			;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (j - i == tl && strncasecmp(v + i, t, tl) == 0)
			return 1;
		while (i < n && v[i] != ',')
			i++;
	}
	return 0;
}

/* One header line; only Connection, Content-Length and T-E matter. */
static int
header(const char *l, size_t n, struct p2pl_httpreq *r, char *err,
    size_t errlen)
{
	const char *v;
	size_t i = 0, vn;

	if (n > 0 && (l[0] == ' ' || l[0] == '\t'))
		return bad(r, 400, err, errlen, "folded header line");
	while (i < n && tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ':')
		return bad(r, 400, err, errlen, "bad header line");
	v = l + i + 1;
	vn = n - i - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	for (size_t k = 0; k < vn; k++)
		if ((unsigned char)v[k] < 0x20 && v[k] != '\t')
			return bad(r, 400, err, errlen, "bad header value");
	if (i == 10 && strncasecmp(l, "connection", 10) == 0) {
		if (has_token(v, vn, "close"))
			r->keepalive = 0;
		else if (has_token(v, vn, "keep-alive"))
			r->keepalive = 1;
	} else if (i == 14 && strncasecmp(l, "content-length", 14) == 0) {
		if (vn != 1 || v[0] != '0')
			r->body = 1;
	} else if (i == 17 && strncasecmp(l, "transfer-encoding", 17) == 0)
		r->body = 1;
	return 0;
}

int
p2pl_httpreq_parse(const char *buf, size_t len, struct p2pl_httpreq *r,
    char *err, size_t errlen)
{
	const char *s = buf, *end, *l;
	size_t hlen, n;
	int nh = 0;

	memset(r, 0, sizeof(*r));
	/* empty lines before a request are allowed (RFC 9112 2.2) */
	while (s < buf + len && (*s == '\r' || *s == '\n'))
		s++;
	hlen = head_end(s, len - (size_t)(s - buf));
	if (hlen == 0) {
		if (len >= P2PL_HTTP_HEAD_MAX)
			return bad(r, 431, err, errlen, "request head too "
			    "large");
		return 0;
	}
	hlen += (size_t)(s - buf);
	if (hlen > P2PL_HTTP_HEAD_MAX)
		return bad(r, 431, err, errlen, "request head too large");
	end = buf + hlen;
	if ((l = next_line(&s, end, &n)) == NULL ||
	    request_line(l, n, r, err, errlen) == -1)
		return r->status ? -1 : bad(r, 400, err, errlen, "bad request");
	while ((l = next_line(&s, end, &n)) != NULL && n > 0) {
		if (++nh > P2PL_HTTP_HEADERS)
			return bad(r, 431, err, errlen, "too many header lines");
		if (header(l, n, r, err, errlen) == -1)
			return -1;
	}
	return (int)hlen;
}
