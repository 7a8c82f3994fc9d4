/* promparse.c - read Prometheus's text format (see promparse.h). */
#include "promparse.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metrics kept, by value index; a quantile picks a summary's value. */
static const struct {
	const char *name;
	const char *quantile;	/* NULL: a plain sample */
} known[P2PL_PROM_NVALUES] = {
	[P2PL_PROM_PEERS] = { "p2pl_peers", NULL },
	[P2PL_PROM_BYTES_IN] = { "p2pl_bytes_in_total", NULL },
	[P2PL_PROM_BYTES_OUT] = { "p2pl_bytes_out_total", NULL },
	[P2PL_PROM_RATE_IN] = { "p2pl_down_rate_bytes_per_second", NULL },
	[P2PL_PROM_RATE_OUT] = { "p2pl_up_rate_bytes_per_second", NULL },
	[P2PL_PROM_OFFLOAD] = { "p2pl_offload_ratio", NULL },
	[P2PL_PROM_BITRATE] = { "p2pl_bitrate_bits_per_second", NULL },
	[P2PL_PROM_RECEIVED] = { "p2pl_pieces_received_total", NULL },
	[P2PL_PROM_BAD] = { "p2pl_pieces_bad_total", NULL },
	[P2PL_PROM_PLAYED] = { "p2pl_pieces_played_total", NULL },
	[P2PL_PROM_SKIPPED] = { "p2pl_pieces_skipped_total", NULL },
	[P2PL_PROM_BANNED] = { "p2pl_peers_banned_total", NULL },
	[P2PL_PROM_P50] = { "p2pl_delay_seconds", "0.5" },
	[P2PL_PROM_P95] = { "p2pl_delay_seconds", "0.95" },
	[P2PL_PROM_P99] = { "p2pl_delay_seconds", "0.99" },
	[P2PL_PROM_DELAY_SUM] = { "p2pl_delay_seconds_sum", NULL },
	[P2PL_PROM_DELAY_COUNT] = { "p2pl_delay_seconds_count", NULL },
	[P2PL_PROM_INFO] = { "p2pl_info", NULL },
};

/* One sample line, as read. */
struct sample {
	char name[P2PL_PROM_STR];
	char lname[P2PL_PROM_LABELS][P2PL_PROM_STR];
	char lval[P2PL_PROM_LABELS][P2PL_PROM_STR];
	int nlabels;
	double value;
};

const char *
p2pl_prom_name(int i)
{
	return i >= 0 && i < P2PL_PROM_NVALUES ? known[i].name : "";
}

/* Copy at most size - 1 bytes of s[0..n) into d. */
static void
copy_cut(char *d, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(d, s, n);
	d[n] = '\0';
}

/* A name at *p (label: no colons); its length, 0 if there is none. */
static size_t
name_len(const char *p, const char *end, int label)
{
	size_t n = 0;

	while (p + n < end && (isalpha((unsigned char)p[n]) || p[n] == '_' ||
	    (!label && p[n] == ':') || (n > 0 && isdigit((unsigned char)p[n]))))
		n++;
	return n;
}

static void
skip_blanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* A label value "..." at *p into v (cut); -1 when malformed. */
static int
label_value(const char **p, const char *end, char *v, size_t size)
{
	const char *q = *p;
	size_t n = 0;
	char c;

	if (q >= end || *q++ != '"')
		return -1;
	for (; q < end && *q != '"'; q++) {
		c = *q;
		if (c == '\\') {
			if (++q >= end)
				return -1;
			if (*q == 'n')
				c = '\n';
			else if (*q == '\\' || *q == '"')
				c = *q;
			else
				return -1;
		} else if ((unsigned char)c < 0x20 || c == 0x7f)
			return -1;
		if (n + 1 < size)
			v[n++] = c;
	}
	if (q >= end)
		return -1;
	v[n] = '\0';
	*p = q + 1;
	return 0;
}

/* {a="x",b="y"} at *p (optional trailing comma); -1 when malformed. */
static int
labels(const char **p, const char *end, struct sample *s, char *err,
    size_t errlen)
{
	const char *q = *p + 1;
	size_t n;

	for (;;) {
		skip_blanks(&q, end);
		if (q < end && *q == '}')
			break;
		if (s->nlabels == P2PL_PROM_LABELS) {
			p2pl_seterr(err, errlen, "more than %d labels",
			    P2PL_PROM_LABELS);
			return -1;
		}
		if ((n = name_len(q, end, 1)) == 0)
			goto bad;
		copy_cut(s->lname[s->nlabels], P2PL_PROM_STR, q, n);
		q += n;
		skip_blanks(&q, end);
		if (q >= end || *q++ != '=')
			goto bad;
		skip_blanks(&q, end);
		if (label_value(&q, end, s->lval[s->nlabels], P2PL_PROM_STR)
		    == -1)
			goto bad;
		s->nlabels++;
		skip_blanks(&q, end);
		if (q < end && *q == ',') {
			q++;
			continue;
		}
		if (q < end && *q == '}')
			break;
		goto bad;
	}
	*p = q + 1;
	return 0;
bad:
	p2pl_seterr(err, errlen, "malformed labels");
	return -1;
}

/* A float as the format writes it: -1 when it is not one. */
static int
number(const char *s, size_t n, double *v)
{
	char buf[64], *e;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "NaN") == 0) {
		*v = NAN;
		return 0;
	}
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0) {
		*v = buf[0] == '+' ? INFINITY : -INFINITY;
		return 0;
	}
	/* strtod takes "inf", "nan(...)", hex and blanks: only digits here */
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)buf[i]) && !strchr("+-.eE", buf[i]))
			return -1;
	errno = 0;
	*v = strtod(buf, &e);
	return *e != '\0' || e == buf ? -1 : 0;
}

static int
sample(const char *p, const char *end, struct sample *s, char *err,
    size_t errlen)
{
	const char *v;
	size_t n;
	double ts;

	memset(s, 0, sizeof(*s));
	if ((n = name_len(p, end, 0)) == 0) {
		p2pl_seterr(err, errlen, "not a metric name");
		return -1;
	}
	copy_cut(s->name, sizeof(s->name), p, n);
	p += n;
	skip_blanks(&p, end);
	if (p < end && *p == '{' && labels(&p, end, s, err, errlen) == -1)
		return -1;
	skip_blanks(&p, end);
	for (v = p; p < end && *p != ' ' && *p != '\t'; p++)
		;
	if (number(v, (size_t)(p - v), &s->value) == -1) {
		p2pl_seterr(err, errlen, "bad value");
		return -1;
	}
	skip_blanks(&p, end);
	if (p == end)
		return 0;
	for (v = p; p < end && *p != ' ' && *p != '\t'; p++)
		if (!isdigit((unsigned char)*p) && !(p == v && *p == '-'))
			break;
	skip_blanks(&p, end);
	if (p != end || number(v, (size_t)(p - v), &ts) == -1) {
		p2pl_seterr(err, errlen, "bad timestamp");
		return -1;
	}
	return 0;
}

/* "# HELP name ..." and "# TYPE name type": -1 when malformed. */
static int
comment(const char *p, const char *end, char *err, size_t errlen)
{
	static const char *const types[] = { "counter", "gauge", "summary",
	    "histogram", "untyped" };
	int help, type;
	size_t n;

	p++;
	skip_blanks(&p, end);
	help = end - p >= 4 && memcmp(p, "HELP", 4) == 0;
	type = end - p >= 4 && memcmp(p, "TYPE", 4) == 0;
	if (!help && !type)
		return 0;	/* any other comment */
	p += 4;
	if (p < end && *p != ' ' && *p != '\t')
		return 0;	/* "# HELPFUL": a comment */
	skip_blanks(&p, end);
	if ((n = name_len(p, end, 0)) == 0) {
		p2pl_seterr(err, errlen, "# %s without a metric name",
		    help ? "HELP" : "TYPE");
		return -1;
	}
	p += n;
	if (help)
		return 0;
	skip_blanks(&p, end);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i]);
		if ((size_t)(end - p) >= n && memcmp(p, types[i], n) == 0) {
			p += n;
			skip_blanks(&p, end);
			if (p == end)
				return 0;
		}
	}
	p2pl_seterr(err, errlen, "# TYPE: unknown type");
	return -1;
}

/* The stream a sample is about; NULL when there are too many. */
static struct p2pl_prom_stream *
stream_of(struct p2pl_prom *pr, const struct sample *s)
{
	const char *key = "";
	struct p2pl_prom_stream *st;

	for (int i = 0; i < s->nlabels; i++)
		if (strcmp(s->lname[i], "stream") == 0)
			key = s->lval[i];
	for (int i = 0; i < pr->n; i++)
		if (strcmp(pr->s[i].stream, key) == 0)
			return &pr->s[i];
	if (pr->n == P2PL_PROM_STREAMS)
		return NULL;
	st = &pr->s[pr->n++];
	memset(st, 0, sizeof(*st));
	snprintf(st->stream, sizeof(st->stream), "%s", key);
	return st;
}

static const char *
label(const struct sample *s, const char *name)
{
	for (int i = 0; i < s->nlabels; i++)
		if (strcmp(s->lname[i], name) == 0)
			return s->lval[i];
	return NULL;
}

/* Keep the sample if it is one of ours; -1 when there are too many streams. */
static int
keep(struct p2pl_prom *pr, const struct sample *s, char *err, size_t errlen)
{
	struct p2pl_prom_stream *st;
	const char *q, *v;
	int i;

	for (i = 0; i < P2PL_PROM_NVALUES; i++) {
		if (strcmp(s->name, known[i].name) != 0)
			continue;
		q = label(s, "quantile");
		if ((q == NULL) != (known[i].quantile == NULL) ||
		    (q != NULL && strcmp(q, known[i].quantile) != 0))
			continue;
		break;
	}
	if (i == P2PL_PROM_NVALUES)
		return 0;
	if ((st = stream_of(pr, s)) == NULL) {
		p2pl_seterr(err, errlen, "more than %d streams",
		    P2PL_PROM_STREAMS);
		return -1;
	}
	st->v[i] = s->value;
	st->have |= 1UL << i;
	if (i == P2PL_PROM_INFO) {
		if ((v = label(s, "prog")) != NULL)
			snprintf(st->prog, sizeof(st->prog), "%s", v);
		if ((v = label(s, "pid")) != NULL)
			snprintf(st->pid, sizeof(st->pid), "%s", v);
	}
	return 0;
}

int
p2pl_prom_parse(const char *text, size_t len, struct p2pl_prom *p,
    char *err, size_t errlen)
{
	struct sample s;
	const char *line = text, *end = text + len, *nl, *e;
	char why[P2PL_ERRLEN];
	unsigned lineno = 0;
	int rc;

	p->n = 0;
	while (line < end) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(end - line));
		e = nl != NULL ? nl : end;
		if (e - line > P2PL_PROM_LINE_MAX) {
			p2pl_seterr(err, errlen, "line %u: longer than %d bytes",
			    lineno, P2PL_PROM_LINE_MAX);
			return -1;
		}
		if (memchr(line, '\0', (size_t)(e - line)) != NULL) {
			p2pl_seterr(err, errlen, "line %u: a NUL byte", lineno);
			return -1;
		}
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			e--;
		skip_blanks(&line, e);
		if (line == e)
			rc = 0;
		else if (*line == '#')
			rc = comment(line, e, why, sizeof(why));
		else
			rc = sample(line, e, &s, why, sizeof(why)) == -1 ? -1 :
			    keep(p, &s, why, sizeof(why));
		if (rc == -1) {
			p2pl_seterr(err, errlen, "line %u: %s", lineno, why);
			return -1;
		}
		line = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
