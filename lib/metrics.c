/* metrics.c - stats in Prometheus's text exposition format (metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The buffer being written; len past cap means it did not fit. */
struct out {
	char *buf;
	size_t len, cap;
};

enum kind { GAUGE, COUNTER };

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(o->buf + (o->len < o->cap ? o->len : o->cap),
	    o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	o->len += r < 0 ? o->cap : (size_t)r;
}

/* A float as Prometheus reads it: NaN, +Inf, or a plain number. */
static void
put_float(struct out *o, double v)
{
	if (isnan(v))
		put(o, "NaN");
	else if (isinf(v))
		put(o, v > 0 ? "+Inf" : "-Inf");
	else
		put(o, "%.9g", v);
}

/* The label set of stream s, with extra (e.g. quantile="0.5") added. */
static void
put_labels(struct out *o, const struct p2pl_metrics_stream *s,
    const char *extra)
{
	const char *c;

	if (s->key == NULL && extra == NULL)
		return;
	put(o, "{");
	if (s->key != NULL) {
		put(o, "stream=\"");
		for (c = s->key; *c != '\0'; c++) {
			if (*c == '\\' || *c == '"')
				put(o, "\\%c", *c);
			else if (*c == '\n')
				put(o, "\\n");
			else
				put(o, "%c", *c);
		}
		put(o, "\"%s", extra ? "," : "");
	}
	if (extra != NULL)
		put(o, "%s", extra);
	put(o, "}");
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric with a whole number per stream, taken at offset off. */
static void
metric_u64(struct out *o, const struct p2pl_metrics_stream *s, int n,
    const char *name, enum kind k, const char *help, size_t off)
{
	uint64_t v;

	head(o, name, k == GAUGE ? "gauge" : "counter", help);
	for (int i = 0; i < n; i++) {
		memcpy(&v, (const char *)&s[i].st + off, sizeof(v));
		put(o, "%s", name);
		put_labels(o, &s[i], NULL);
		put(o, " %llu\n", (unsigned long long)v);
	}
}

/* p2pl_info: which program serves each stream (those with a prog). */
static void
info(struct out *o, const struct p2pl_metrics_stream *s, int n)
{
	char extra[P2PL_METRICS_PROG + 40];
	int any = 0;

	for (int i = 0; i < n; i++) {
		if (s[i].prog == NULL || strlen(s[i].prog) >= P2PL_METRICS_PROG ||
		    strpbrk(s[i].prog, "\\\"\n") != NULL)
			continue;
		if (!any++)
			head(o, "p2pl_info", "gauge", "The program serving the "
			    "stream, in its labels; always 1.");
		snprintf(extra, sizeof(extra), "prog=\"%s\",pid=\"%ld\"",
		    s[i].prog, s[i].pid);
		put(o, "p2pl_info");
		put_labels(o, &s[i], extra);
		put(o, " 1\n");
	}
}

static void
offload(struct out *o, const struct p2pl_metrics_stream *s, int n)
{
	head(o, "p2pl_offload_ratio", "gauge",
	    "Bytes sent to peers divided by the stream's bytes.");
	for (int i = 0; i < n; i++) {
		put(o, "p2pl_offload_ratio");
		put_labels(o, &s[i], NULL);
		put(o, " ");
		put_float(o, s[i].stream_bytes == 0 ? NAN :
		    (double)s[i].st.bytes_out / (double)s[i].stream_bytes);
		put(o, "\n");
	}
}

static void
delays(struct out *o, const struct p2pl_metrics_stream *s, int n)
{
	static const char *const qs[] = { "0.5", "0.95", "0.99" };
	static const double qv[] = { .5, .95, .99 };
	const struct p2pl_loghist *h;
	char q[32];

	head(o, "p2pl_delay_seconds", "summary",
	    "Delay from the publisher's stamp on a piece to its arrival "
	    "(a viewer: to its output).");
	for (int i = 0; i < n; i++) {
		h = s[i].delays;
		for (int k = 0; k < 3; k++) {
			snprintf(q, sizeof(q), "quantile=\"%s\"", qs[k]);
			put(o, "p2pl_delay_seconds");
			put_labels(o, &s[i], q);
			put(o, " ");
			put_float(o, h == NULL || h->n == 0 ? NAN :
			    p2pl_loghist_quantile(h, qv[k]));
			put(o, "\n");
		}
		put(o, "p2pl_delay_seconds_sum");
		put_labels(o, &s[i], NULL);
		put(o, " ");
		put_float(o, h == NULL ? 0 : (double)h->sum / 1e6);
		put(o, "\np2pl_delay_seconds_count");
		put_labels(o, &s[i], NULL);
		put(o, " %llu\n", (unsigned long long)(h == NULL ? 0 : h->n));
	}
}

#define ST(f) offsetof(struct p2pl_node_stats, f)

long
p2pl_metrics_render(const struct p2pl_metrics_stream *s, int n, char *buf,
    size_t cap)
{
	struct out o = { buf, 0, cap };
	uint64_t peers;
	int i;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	info(&o, s, n);
	head(&o, "p2pl_peers", "gauge", "Peer connections with a handshake.");
	for (i = 0; i < n; i++) {
		peers = s[i].st.peers > 0 ? (uint64_t)s[i].st.peers : 0;
		put(&o, "p2pl_peers");
		put_labels(&o, &s[i], NULL);
		put(&o, " %llu\n", (unsigned long long)peers);
	}
	metric_u64(&o, s, n, "p2pl_bytes_in_total", COUNTER,
	    "Bytes of verified pieces received from peers.", ST(bytes_in));
	metric_u64(&o, s, n, "p2pl_bytes_out_total", COUNTER,
	    "Bytes queued to peers.", ST(bytes_out));
	metric_u64(&o, s, n, "p2pl_down_rate_bytes_per_second", GAUGE,
	    "Bytes received over the last second.", ST(rate_in));
	metric_u64(&o, s, n, "p2pl_up_rate_bytes_per_second", GAUGE,
	    "Bytes sent over the last second.", ST(rate_out));
	offload(&o, s, n);
	metric_u64(&o, s, n, "p2pl_bitrate_bits_per_second", GAUGE,
	    "The stream's bit rate over the window.", ST(bitrate));
	metric_u64(&o, s, n, "p2pl_pieces_received_total", COUNTER,
	    "Verified pieces received from peers.", ST(pieces_in));
	metric_u64(&o, s, n, "p2pl_pieces_bad_total", COUNTER,
	    "Pieces rejected: bad signature or malformed.", ST(bad));
	metric_u64(&o, s, n, "p2pl_pieces_played_total", COUNTER,
	    "Pieces delivered in order to the player.", ST(played));
	metric_u64(&o, s, n, "p2pl_pieces_skipped_total", COUNTER,
	    "Pieces given up on at their playout deadline (stalls).",
	    ST(skipped));
	metric_u64(&o, s, n, "p2pl_peers_banned_total", COUNTER,
	    "Peers refused for misbehaving.", ST(banned));
	delays(&o, s, n);
	if (o.len >= cap) {
		buf[cap - 1] = '\0';
		return -1;
	}
	return (long)o.len;
}

void
p2pl_metrics_stream_init(struct p2pl_metrics_stream *m, const char *key,
    const struct p2pl_node *n)
{
	memset(m, 0, sizeof(*m));
	m->key = key;
	p2pl_node_stats(n, &m->st);
	m->stream_bytes = m->st.bytes_in;
	m->delays = p2pl_node_delays(n);
}
