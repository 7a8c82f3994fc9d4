/* test-metrics.c - the /metrics renderer (metrics.c) and its reader
 * (promparse.c): the text format, labels, NaN, a full buffer, a round
 * trip, and pages the reader must refuse. */
#include "metrics.h"
#include "promparse.h"
#include "util.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char text[P2PL_METRICS_MAX(P2PL_PROM_STREAMS + 1)];

/* Two streams, the second with no delays and nothing received. */
static void
two(struct p2pl_metrics_stream m[2], struct p2pl_loghist *h)
{
	memset(m, 0, 2 * sizeof(*m));
	p2pl_loghist_init(h);
	p2pl_loghist_add(h, 10000);
	p2pl_loghist_add(h, 20000);
	p2pl_loghist_add(h, 500000);
	m[0].key = "aaaa";
	m[0].prog = "p2pl-relay";
	m[0].pid = 42;
	m[0].st.peers = 3;
	m[0].st.bytes_in = 1000;
	m[0].st.bytes_out = 2500;
	m[0].st.played = 7;
	m[0].st.skipped = 1;
	m[0].stream_bytes = 1000;
	m[0].delays = h;
	m[1].key = "bb\"b";
	m[1].st.bytes_out = 5;
}

static int
count(const char *s, const char *sub)
{
	int n = 0;

	for (; (s = strstr(s, sub)) != NULL; s++)
		n++;
	return n;
}

static void
render(void)
{
	struct p2pl_metrics_stream m[2];
	struct p2pl_loghist h;
	long len;

	two(m, &h);
	len = p2pl_metrics_render(m, 2, text, sizeof(text));
	ok(len > 0 && (size_t)len == strlen(text), "renders (%ld bytes)", len);
	ok(strstr(text, "# HELP p2pl_peers ") != NULL &&
	    strstr(text, "# TYPE p2pl_peers gauge\n") != NULL,
	    "HELP and TYPE lines");
	ok(count(text, "# TYPE p2pl_peers ") == 1 &&
	    count(text, "# TYPE p2pl_bytes_out_total counter\n") == 1 &&
	    count(text, "# TYPE p2pl_delay_seconds summary\n") == 1,
	    "each metric's TYPE once, for both streams");
	ok(strstr(text, "\np2pl_peers{stream=\"aaaa\"} 3\n") != NULL,
	    "a sample with its stream label");
	ok(strstr(text, "p2pl_peers{stream=\"bb\\\"b\"} 0\n") != NULL,
	    "a quote in a label value escaped");
	ok(strstr(text, "p2pl_offload_ratio{stream=\"aaaa\"} 2.5\n") != NULL,
	    "offload: bytes out / stream bytes");
	ok(strstr(text, "p2pl_offload_ratio{stream=\"bb\\\"b\"} NaN\n") != NULL,
	    "offload NaN without stream bytes");
	ok(strstr(text, "p2pl_delay_seconds{stream=\"aaaa\",quantile=\"0.5\"} "
	    "0.020") != NULL, "p50 is the bin's upper bound, 20 ms");
	ok(strstr(text, "p2pl_delay_seconds_sum{stream=\"aaaa\"} 0.53\n") !=
	    NULL && strstr(text, "p2pl_delay_seconds_count{stream=\"aaaa\"} 3\n")
	    != NULL, "summary _sum and _count");
	ok(strstr(text, "p2pl_delay_seconds{stream=\"bb\\\"b\",quantile=\"0.99\"}"
	    " NaN\n") != NULL && strstr(text,
	    "p2pl_delay_seconds_count{stream=\"bb\\\"b\"} 0\n") != NULL,
	    "an empty summary: NaN quantiles, count 0");
	ok(strstr(text, "p2pl_info{stream=\"aaaa\",prog=\"p2pl-relay\","
	    "pid=\"42\"} 1\n") != NULL && count(text, "p2pl_info{") == 1,
	    "p2pl_info only for the stream with a prog");
	ok(strstr(text, "p2pl_pieces_skipped_total{stream=\"aaaa\"} 1\n") !=
	    NULL && strstr(text, "p2pl_pieces_played_total{stream=\"aaaa\"} 7\n")
	    != NULL, "played and skipped counters");
	ok(text[len - 1] == '\n', "ends with a newline");

	m[0].key = NULL;
	len = p2pl_metrics_render(m, 1, text, sizeof(text));
	ok(len > 0 && strstr(text, "\np2pl_peers 3\n") != NULL &&
	    strstr(text, "p2pl_delay_seconds{quantile=\"0.5\"}") != NULL,
	    "no key: no stream label");
	m[0].key = "aaaa";
	len = p2pl_metrics_render(m, 2, text, 100);
	ok(len == -1 && strlen(text) == 99, "a small buffer: -1, cut, "
	    "terminated");
	ok(p2pl_metrics_render(m, 0, text, sizeof(text)) > 0,
	    "no streams: headers only");
}

static void
round_trip(void)
{
	struct p2pl_metrics_stream m[2];
	static struct p2pl_prom p;
	struct p2pl_loghist h;
	char err[P2PL_ERRLEN];
	long len;
	int rc;

	two(m, &h);
	len = p2pl_metrics_render(m, 2, text, sizeof(text));
	rc = p2pl_prom_parse(text, (size_t)len, &p, err, sizeof(err));
	ok(rc == 0 && p.n == 2, "read back: 2 streams (%s)", rc ? err : "");
	ok(strcmp(p.s[0].stream, "aaaa") == 0 &&
	    strcmp(p.s[1].stream, "bb\"b") == 0, "stream labels unescaped");
	ok(p.s[0].v[P2PL_PROM_PEERS] == 3 &&
	    p.s[0].v[P2PL_PROM_BYTES_OUT] == 2500 &&
	    p.s[0].v[P2PL_PROM_OFFLOAD] == 2.5 &&
	    p.s[0].v[P2PL_PROM_SKIPPED] == 1 &&
	    p.s[0].v[P2PL_PROM_DELAY_COUNT] == 3,
	    "values read back");
	ok(fabs(p.s[0].v[P2PL_PROM_P99] - 0.5) < 0.03 &&
	    isnan(p.s[1].v[P2PL_PROM_P50]), "quantiles read back, NaN too");
	ok(strcmp(p.s[0].prog, "p2pl-relay") == 0 &&
	    strcmp(p.s[0].pid, "42") == 0 && p.s[1].prog[0] == '\0',
	    "p2pl_info's labels");
	ok(p.s[0].have == (1UL << P2PL_PROM_NVALUES) - 1,
	    "every value of the first stream given");
}

static void
refused(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "1abc 3\n", "not a metric name" },
		{ "x{a=\"b} 1\n", "malformed labels" },
		{ "x{a=b} 1\n", "malformed labels" },
		{ "x{a=\"\\t\"} 1\n", "malformed labels" },
		{ "x{a=\"\x01\"} 1\n", "malformed labels" },
		{ "x{a=\"b\" c=\"d\"} 1\n", "malformed labels" },
		{ "x{9=\"b\"} 1\n", "malformed labels" },
		{ "x 0x10\n", "bad value" },
		{ "x inf\n", "bad value" },
		{ "x nan\n", "bad value" },
		{ "x\n", "bad value" },
		{ "x 1 2 3\n", "bad timestamp" },
		{ "x 1 1.5\n", "bad timestamp" },
		{ "# TYPE x gauges\n", "unknown type" },
		{ "# TYPE\n", "without a metric name" },
		{ "ok 1\nx 1\0\n", "line 2: a NUL byte" },
	};
	static struct p2pl_prom p;
	char err[P2PL_ERRLEN], *big;
	size_t n, len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = strlen(bad[i].text);
		if (strncmp(bad[i].text, "ok 1", 4) == 0)
			len = 11;
		err[0] = '\0';
		ok(p2pl_prom_parse(bad[i].text, len, &p, err, sizeof(err)) ==
		    -1 && strstr(err, bad[i].why) != NULL,
		    "refused: %s (%s)", bad[i].why, err);
	}
	ok(p2pl_prom_parse("# HELP x\n# any comment\n# TYPE x untyped\n"
	    "x{a=\"1\",} -2.5e-3 -17\r\n\n  \nx +Inf\n", 65, &p, err,
	    sizeof(err)) == 0, "accepted: comments, a trailing comma, a "
	    "timestamp, CRLF, blank lines (%s)", err);
	big = malloc(P2PL_PROM_LINE_MAX + 100);
	memset(big, 'x', P2PL_PROM_LINE_MAX + 10);
	memcpy(big + P2PL_PROM_LINE_MAX + 10, " 1\n", 3);
	ok(big != NULL && p2pl_prom_parse(big, P2PL_PROM_LINE_MAX + 13, &p, err,
	    sizeof(err)) == -1 && strstr(err, "longer than") != NULL,
	    "a long line refused (%s)", err);
	free(big);
	n = 0;
	for (int i = 0; i <= P2PL_PROM_LABELS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sl%d=\"v\"",
		    i ? "," : "x{", i);
	snprintf(text + n, sizeof(text) - n, "} 1\n");
	ok(p2pl_prom_parse(text, strlen(text), &p, err, sizeof(err)) == -1 &&
	    strstr(err, "labels") != NULL, "too many labels refused (%s)", err);
	n = 0;
	for (int i = 0; i <= P2PL_PROM_STREAMS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "p2pl_peers{stream=\"s%d\"} 1\n", i);
	ok(p2pl_prom_parse(text, n, &p, err, sizeof(err)) == -1 &&
	    strstr(err, "streams") != NULL, "too many streams refused (%s)",
	    err);
	ok(p2pl_prom_parse(text, (size_t)(strstr(text, "\"s10\"") - text) - 18,
	    &p, err, sizeof(err)) == 0 && p.n == 10, "fewer are kept (%d)",
	    p.n);
	ok(p2pl_prom_parse("other_metric{stream=\"z\"} 1\n", 27, &p, err,
	    sizeof(err)) == 0 && p.n == 0, "other metrics ignored");
}

int
main(void)
{
	render();
	round_trip();
	refused();
	return tap_done();
}
