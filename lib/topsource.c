/* topsource.c - gather stats lines for p2pl-top (see topsource.h). */
#include "topsource.h"
#include "ctl.h"
#include "promparse.h"
#include "jsonwrite.h"
#include "statparse.h"
#include "util.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define SOURCES 16
#define STALE_S 5.0		/* "-": lines older than the newest by this */

enum { SRC_LOCAL, SRC_PID, SRC_SOCKET, SRC_HTTP, SRC_STDIN };

struct src {
	int kind;
	long pid;
	char spec[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char url[1024];
};

struct buf {
	char *p;
	size_t len, cap;
	int full;
};

struct p2pl_topsource {
	struct src src[SOURCES];
	int nsrc;
	int fd;				/* "-": 0, else -1 */
	struct buf in;			/* "-": a partial line */
	struct p2pl_topsource_lines kept;	/* "-": newest line per process */
	struct p2pl_topsource_lines out;
	struct p2pl_statline sl;
	struct p2pl_prom prom;		/* a /metrics page, read */
	CURL *curl;
	char problem[1024];
	char rproblem[1024];		/* from reading "-", for the next */
	char what[160];
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	char *q;
	size_t cap;

	if (b->len + n > P2PL_TOPSOURCE_REPLY_MAX) {
		b->full = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL) {
			b->full = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
problem(struct p2pl_topsource *w, const char *fmt, const char *a, const char *b)
{
	snprintf(w->problem, sizeof(w->problem), fmt, a, b);
}

/* Add a copy of a valid line, replacing an older one of its process. */
static void
keep(struct p2pl_topsource *w, struct p2pl_topsource_lines *l, const char *line,
    size_t len, const char *from)
{
	char err[P2PL_ERRLEN], key[sizeof(l->key[0])], *c;
	int i;

	if (len == 0)
		return;
	if (p2pl_statparse(line, len, &w->sl, err, sizeof(err)) == -1) {
		problem(w, "%s: %s", from, err);
		return;
	}
	snprintf(key, sizeof(key), "%s %.0f %s", p2pl_sl_str(&w->sl.top,
	    "prog"), p2pl_sl_num(&w->sl.top, "pid", 0),
	    p2pl_sl_str(&w->sl.top, "stream"));
	if ((c = strndup(line, len)) == NULL)
		return;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0) {
			free(l->line[i]);
			l->line[i] = c;
			return;
		}
	if (l->n == P2PL_TOPSOURCE_LINES) {
		problem(w, "%s%s: too many stats lines", from, "");
		free(c);
		return;
	}
	memcpy(l->key[l->n], key, sizeof(key));
	l->line[l->n++] = c;
}

/* Every line of b; a partial last line stays in b when partial is set. */
static void
split(struct p2pl_topsource *w, struct p2pl_topsource_lines *l, struct buf *b,
    int partial, const char *from)
{
	size_t start = 0, i;

	for (i = 0; i < b->len; i++)
		if (b->p[i] == '\n') {
			keep(w, l, b->p + start, i - start, from);
			start = i + 1;
		}
	if (!partial && start < b->len) {
		keep(w, l, b->p + start, b->len - start, from);
		start = b->len;
	}
	memmove(b->p, b->p + start, b->len - start);
	b->len -= start;
}

/* Connect to a control socket and read what it says. */
static int
read_socket(struct p2pl_topsource *w, const char *path, struct buf *b)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 1, 0 };
	char chunk[16384];
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		problem(w, "%s: %s", path, "name too long");
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		problem(w, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && !b->full)
		buf_add(b, chunk, (size_t)n);
	if (n < 0)
		problem(w, "%s: %s", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

static void
from_socket(struct p2pl_topsource *w, const char *path)
{
	struct buf b = { 0 };

	if (read_socket(w, path, &b) == 0)
		split(w, &w->out, &b, 0, path);
	free(b.p);
}

/* The pid in a socket's name, PROG.PID.sock; -1 if it is not one. */
static long
sock_pid(const char *name)
{
	const char *dot, *end;
	char *e;
	long pid;

	end = strrchr(name, '.');
	if (end == NULL || strcmp(end, ".sock") != 0 || strncmp(name, "p2pl-",
	    5) != 0)
		return -1;
	for (dot = end - 1; dot > name && *dot != '.'; dot--)
		;
	if (*dot != '.')
		return -1;
	pid = strtol(dot + 1, &e, 10);
	return e == end && pid > 0 ? pid : -1;
}

/* Ask every socket in the control directory (only pid's if pid > 0). */
static int
from_dir(struct p2pl_topsource *w, long pid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], path[sizeof(dir)];
	char err[P2PL_ERRLEN];
	struct dirent *d;
	DIR *dp;
	long p;
	int found = 0;

	if (p2pl_ctl_dir(dir, sizeof(dir), 0, err, sizeof(err)) == -1 ||
	    (dp = opendir(dir)) == NULL) {
		if (pid > 0)
			problem(w, "%s%s", err, "");
		return 0;
	}
	while ((d = readdir(dp)) != NULL) {
		if ((p = sock_pid(d->d_name)) == -1 || (pid > 0 && p != pid))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >=
		    (int)sizeof(path))
			continue;
		if (kill((pid_t)p, 0) == -1 && errno == ESRCH) {
			unlink(path);	/* its process died without a word */
			continue;
		}
		found++;
		from_socket(w, path);
	}
	closedir(dp);
	return found;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	buf_add(b, p, size * n);
	return b->full ? 0 : size * n;
}

/* A value of a /metrics page into a stats line field, when it was given. */
static void
prom_field(struct p2pl_json *j, const struct p2pl_prom_stream *st, int i,
    const char *key)
{
	if ((st->have & (1UL << i)) && isfinite(st->v[i]) && st->v[i] >= 0)
		p2pl_json_num(j, key, st->v[i]);
}

/*
 * A /metrics page (Prometheus's text format, from p2pl-relay): each
 * stream's samples become a stats line, as if the relay's /stats said it.
 */
static void
from_metrics(struct p2pl_topsource *w, const char *url, const struct buf *b)
{
	static char line[4096];
	const struct p2pl_prom_stream *st;
	char err[P2PL_ERRLEN];
	struct p2pl_json j;
	struct timeval tv;
	long len;
	int played;

	if (p2pl_prom_parse(b->p ? b->p : "", b->len, &w->prom, err,
	    sizeof(err)) == -1) {
		problem(w, "%s: %s", url, err);
		return;
	}
	gettimeofday(&tv, NULL);
	for (int i = 0; i < w->prom.n; i++) {
		st = &w->prom.s[i];
		played = strstr(st->prog, "fetch") != NULL;
		p2pl_json_open(&j, line, sizeof(line));
		p2pl_json_num(&j, "time", (double)tv.tv_sec + tv.tv_usec / 1e6);
		p2pl_json_str(&j, "prog", st->prog[0] ? st->prog : "metrics");
		p2pl_json_u64(&j, "pid", strtoul(st->pid, NULL, 10));
		p2pl_json_str(&j, "stream", st->stream);
		prom_field(&j, st, P2PL_PROM_PEERS, "peers");
		prom_field(&j, st, P2PL_PROM_BITRATE, "bitrate");
		prom_field(&j, st, P2PL_PROM_BYTES_IN, "down_bytes");
		prom_field(&j, st, P2PL_PROM_BYTES_OUT, "up_bytes");
		prom_field(&j, st, P2PL_PROM_RATE_IN, "down_rate");
		prom_field(&j, st, P2PL_PROM_RATE_OUT, "up_rate");
		prom_field(&j, st, played ? P2PL_PROM_PLAYED :
		    P2PL_PROM_RECEIVED, "pieces");
		prom_field(&j, st, P2PL_PROM_SKIPPED, "skipped");
		prom_field(&j, st, P2PL_PROM_BAD, "bad");
		prom_field(&j, st, P2PL_PROM_BANNED, "banned");
		prom_field(&j, st, P2PL_PROM_P50, "delay_p50");
		prom_field(&j, st, P2PL_PROM_P99, "delay_p99");
		if ((len = p2pl_json_close(&j)) > 0)
			keep(w, &w->out, line, (size_t)len, url);
	}
}

/* Whether an HTTP reply is a /metrics page rather than stats lines. */
static int
is_metrics(const char *url, const char *type)
{
	const char *path = strstr(url, "://"), *q;
	size_t n;

	if (type != NULL && strncmp(type, "text/plain", 10) == 0)
		return 1;
	path = path != NULL ? strchr(path + 3, '/') : NULL;
	if (path == NULL)
		return 0;
	n = (q = strpbrk(path, "?#")) != NULL ? (size_t)(q - path) :
	    strlen(path);
	return n >= 8 && memcmp(path + n - 8, "/metrics", 8) == 0;
}

int
p2pl_topsource_metrics_url(const char *spec)
{
	return (strncmp(spec, "http://", 7) == 0 ||
	    strncmp(spec, "https://", 8) == 0) && is_metrics(spec, NULL);
}

static void
from_http(struct p2pl_topsource *w, const char *url)
{
	char *type = NULL;
	struct buf b = { 0 };
	long code = 0;
	CURLcode rc;

	if (w->curl == NULL && (w->curl = curl_easy_init()) == NULL) {
		problem(w, "%s: %s", url, "cannot start libcurl");
		return;
	}
	curl_easy_reset(w->curl);
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "p2pl-top");
	rc = curl_easy_perform(w->curl);
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(w->curl, CURLINFO_CONTENT_TYPE, &type);
	if (b.full)
		problem(w, "%s: %s", url, "reply too large");
	else if (rc != CURLE_OK)
		problem(w, "%s: %s", url, curl_easy_strerror(rc));
	else if (code != 200)
		problem(w, "%s: %s", url, "HTTP status not 200");
	else if (is_metrics(url, type))
		from_metrics(w, url, &b);
	else
		split(w, &w->out, &b, 0, url);
	free(b.p);
}

struct p2pl_topsource *
p2pl_topsource_new(void)
{
	struct p2pl_topsource *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->fd = -1;
	return w;
}

int
p2pl_topsource_add(struct p2pl_topsource *w, const char *spec, char *err,
    size_t errlen)
{
	struct src *s;
	char *e;
	long pid;

	if (w->nsrc == SOURCES) {
		p2pl_seterr(err, errlen, "too many sources (at most %d)",
		    SOURCES);
		return -1;
	}
	s = &w->src[w->nsrc];
	memset(s, 0, sizeof(*s));
	pid = strtol(spec, &e, 10);
	if (spec[0] == '\0')
		s->kind = SRC_LOCAL;
	else if (strcmp(spec, "-") == 0) {
		if (w->fd != -1) {
			p2pl_seterr(err, errlen, "- given twice");
			return -1;
		}
		s->kind = SRC_STDIN;
		w->fd = 0;
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	} else if (*e == '\0' && pid > 0) {
		s->kind = SRC_PID;
		s->pid = pid;
		if (from_dir(w, pid) == 0) {
			p2pl_seterr(err, errlen, "no p2pl process %ld has a "
			    "control socket", pid);
			return -1;
		}
	} else if (strncmp(spec, "http://", 7) == 0 ||
	    strncmp(spec, "https://", 8) == 0) {
		if (strlen(spec) >= sizeof(s->url)) {
			p2pl_seterr(err, errlen, "URL too long");
			return -1;
		}
		s->kind = SRC_HTTP;
		strcpy(s->url, spec);
	} else if (strlen(spec) < sizeof(s->spec) && access(spec, F_OK) == 0) {
		s->kind = SRC_SOCKET;
		strcpy(s->spec, spec);
	} else {
		p2pl_seterr(err, errlen, "%s: not a process id, socket, URL "
		    "or -", spec);
		return -1;
	}
	w->nsrc++;
	if (w->nsrc > 1)
		snprintf(w->what, sizeof(w->what), "%d sources", w->nsrc);
	else if (s->kind == SRC_LOCAL)
		snprintf(w->what, sizeof(w->what), "local");
	else if (s->kind == SRC_STDIN)
		snprintf(w->what, sizeof(w->what), "standard input");
	else if (s->kind == SRC_PID)
		snprintf(w->what, sizeof(w->what), "process %ld", pid);
	else
		snprintf(w->what, sizeof(w->what), "%.150s",
		    s->kind == SRC_HTTP ? s->url : s->spec);
	return 0;
}

static void
clear(struct p2pl_topsource_lines *l)
{
	while (l->n > 0)
		free(l->line[--l->n]);
}

void
p2pl_topsource_free(struct p2pl_topsource *w)
{
	if (w == NULL)
		return;
	clear(&w->out);
	clear(&w->kept);
	free(w->in.p);
	if (w->curl != NULL)
		curl_easy_cleanup(w->curl);
	free(w);
}

int
p2pl_topsource_fd(const struct p2pl_topsource *w)
{
	return w->fd;
}

/* Drop kept lines much older than the newest: their process is gone. */
static void
expire(struct p2pl_topsource *w)
{
	struct p2pl_topsource_lines *l = &w->kept;
	char err[P2PL_ERRLEN];
	double newest = 0, t;
	int i, j;

	for (i = 0; i < l->n; i++)
		if (p2pl_statparse(l->line[i], strlen(l->line[i]), &w->sl,
		    err, sizeof(err)) == 0 &&
		    (t = p2pl_sl_num(&w->sl.top, "time", 0)) > newest)
			newest = t;
	for (i = j = 0; i < l->n; i++) {
		p2pl_statparse(l->line[i], strlen(l->line[i]), &w->sl,
		    err, sizeof(err));
		if (p2pl_sl_num(&w->sl.top, "time", 0) < newest - STALE_S)
			free(l->line[i]);
		else {
			memcpy(l->key[j], l->key[i], sizeof(l->key[j]));
			l->line[j++] = l->line[i];
		}
	}
	l->n = j;
}

int
p2pl_topsource_read(struct p2pl_topsource *w)
{
	char chunk[65536];
	ssize_t n;
	int more = 1;

	if (w->fd == -1)
		return 0;
	while ((n = read(w->fd, chunk, sizeof(chunk))) > 0)
		buf_add(&w->in, chunk, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		more = 0;
	if (w->in.full) {	/* a line with no end: drop it */
		problem(w, "%s%s: line too long", "stdin", "");
		w->in.len = 0;
		w->in.full = 0;
	}
	split(w, &w->kept, &w->in, more, "stdin");
	if (w->problem[0] != '\0')
		memcpy(w->rproblem, w->problem, sizeof(w->rproblem));
	expire(w);
	if (!more)
		w->fd = -1;
	return more;
}

const struct p2pl_topsource_lines *
p2pl_topsource_collect(struct p2pl_topsource *w)
{
	struct src *s;
	int i;

	clear(&w->out);
	memcpy(w->problem, w->rproblem, sizeof(w->problem));
	w->rproblem[0] = '\0';
	for (i = 0; i < w->nsrc; i++) {
		s = &w->src[i];
		switch (s->kind) {
		case SRC_LOCAL:
			from_dir(w, 0);
			break;
		case SRC_PID:
			if (from_dir(w, s->pid) == 0)
				snprintf(w->problem, sizeof(w->problem),
				    "process %ld is gone", s->pid);
			break;
		case SRC_SOCKET:
			from_socket(w, s->spec);
			break;
		case SRC_HTTP:
			from_http(w, s->url);
			break;
		case SRC_STDIN:
			for (int j = 0; j < w->kept.n; j++)
				keep(w, &w->out, w->kept.line[j],
				    strlen(w->kept.line[j]), "stdin");
			break;
		}
	}
	return &w->out;
}

const char *
p2pl_topsource_problem(const struct p2pl_topsource *w)
{
	return w->problem;
}

const char *
p2pl_topsource_what(const struct p2pl_topsource *w)
{
	return w->what;
}
