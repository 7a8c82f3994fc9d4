/*
 * promparse.h - read Prometheus's text exposition format (0.0.4) back,
 * as p2pl-top does from a relay's GET /metrics (metrics.h writes it).
 *
 * The input is untrusted.  Every line must be empty, a comment ("#",
 * with "# HELP NAME text" and "# TYPE NAME counter|gauge|summary|
 * histogram|untyped" checked for a valid name and type), or a sample:
 * NAME, optionally {LABEL="VALUE",...} (an optional trailing comma),
 * a value (a number, NaN, +Inf or -Inf) and an optional timestamp (an
 * integer), separated by blanks.  A name is [a-zA-Z_:][a-zA-Z0-9_:]*,
 * a label name [a-zA-Z_][a-zA-Z0-9_]*; label values take the escapes
 * \\, \" and \n and no other control characters.  Anything else, a
 * line over P2PL_PROM_LINE_MAX bytes or a sample with more than
 * P2PL_PROM_LABELS labels, makes the whole text refused, with the line
 * number in the error.
 *
 * Of the samples, the p2pl_* metrics of metrics.h are kept per value of
 * their "stream" label (one stream with an empty key if they have
 * none), for at most P2PL_PROM_STREAMS streams (more are refused);
 * other metrics are checked and ignored.  Label values longer than
 * P2PL_PROM_STR - 1 bytes are cut.
 */
#ifndef P2PL_PROMPARSE_H
#define P2PL_PROMPARSE_H

#include <stddef.h>

#define P2PL_PROM_LINE_MAX 4096
#define P2PL_PROM_LABELS 16
#define P2PL_PROM_STREAMS 64
#define P2PL_PROM_STR 64

/* The values kept, index into p2pl_prom_stream.v. */
enum {
	P2PL_PROM_PEERS, P2PL_PROM_BYTES_IN, P2PL_PROM_BYTES_OUT,
	P2PL_PROM_RATE_IN, P2PL_PROM_RATE_OUT, P2PL_PROM_OFFLOAD,
	P2PL_PROM_BITRATE, P2PL_PROM_RECEIVED, P2PL_PROM_BAD,
	P2PL_PROM_PLAYED, P2PL_PROM_SKIPPED, P2PL_PROM_BANNED,
	P2PL_PROM_P50, P2PL_PROM_P95, P2PL_PROM_P99, P2PL_PROM_DELAY_SUM,
	P2PL_PROM_DELAY_COUNT, P2PL_PROM_INFO,
	P2PL_PROM_NVALUES
};

struct p2pl_prom_stream {
	char stream[P2PL_PROM_STR];	/* its "stream" label, or "" */
	char prog[P2PL_PROM_STR];	/* p2pl_info's labels, or "" */
	char pid[P2PL_PROM_STR];
	double v[P2PL_PROM_NVALUES];
	unsigned long have;		/* bit i: v[i] was given */
};

struct p2pl_prom {
	struct p2pl_prom_stream s[P2PL_PROM_STREAMS];
	int n;
};

/* The metric name of value i ("p2pl_peers"), for messages and tests. */
const char *p2pl_prom_name(int i);

/* Parse len bytes of text into p; -1 with err set when refused. */
int p2pl_prom_parse(const char *text, size_t len, struct p2pl_prom *p,
    char *err, size_t errlen);

#endif
