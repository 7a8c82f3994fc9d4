/*
 * metrics.h - a node's stats in Prometheus's text exposition format
 * (version 0.0.4), as served at GET /metrics.
 *
 * The caller fills one struct p2pl_metrics_stream per stream it serves
 * (p2pl_metrics_stream_init() does it from a node) and renders them all
 * into its own buffer with p2pl_metrics_render(): no I/O, no allocation.
 * Each metric comes once, with its "# HELP" and "# TYPE" lines, followed
 * by one sample per stream, labelled stream="<key in base32>" when a
 * stream is given a key (a program serving one stream may leave it NULL:
 * no label).  The metrics, documented in p2pl-relay(1), METRICS:
 *
 *   p2pl_info                   gauge    1, labelled prog="p2pl-relay"
 *                                        and pid="PID" (when prog is set)
 *   p2pl_peers                  gauge    connections with a handshake
 *   p2pl_bytes_in_total         counter  verified piece bytes received
 *   p2pl_bytes_out_total        counter  bytes queued to peers
 *   p2pl_down_rate_bytes_per_second gauge  received over the last second
 *   p2pl_up_rate_bytes_per_second   gauge  sent over the last second
 *   p2pl_offload_ratio          gauge    bytes out / stream bytes
 *   p2pl_bitrate_bits_per_second gauge   the stream's rate over the window
 *   p2pl_pieces_received_total  counter  verified pieces received
 *   p2pl_pieces_bad_total       counter  pieces rejected (bad signature...)
 *   p2pl_pieces_played_total    counter  pieces delivered in order
 *   p2pl_pieces_skipped_total   counter  pieces given up on (a stall)
 *   p2pl_peers_banned_total     counter  peers refused for misbehaving
 *   p2pl_delay_seconds          summary  quantiles 0.5, 0.95, 0.99, _sum
 *                                        and _count of the delay histogram
 *
 * A quantile is the upper bound of its log histogram bin (at most 5%
 * above the true value, see histogram.h); NaN when nothing was measured, as
 * is the offload ratio before any stream byte.
 */
#ifndef P2PL_METRICS_H
#define P2PL_METRICS_H

#include "node.h"
#include "histogram.h"

#include <stddef.h>

struct p2pl_metrics_stream {
	const char *key;		/* label value, or NULL for no label */
	const char *prog;		/* p2pl_info's prog label; NULL: */
	long pid;			/* no p2pl_info */
	struct p2pl_node_stats st;
	uint64_t stream_bytes;		/* the offload ratio's denominator */
	const struct p2pl_loghist *delays;	/* NULL: an empty summary */
};

/*
 * Fill m from node n: its stats, stream bytes = bytes received, delays =
 * its pieces' arrival delays (p2pl_node_delays()).  key is kept, not
 * copied.  A caller with better figures (a publisher's bytes made, a
 * viewer's delays to its stdout) sets those fields afterwards.
 */
void p2pl_metrics_stream_init(struct p2pl_metrics_stream *m, const char *key,
    const struct p2pl_node *n);

/*
 * Render n streams into buf (cap bytes, NUL-terminated).  Returns the
 * length, or -1 when it does not fit (buf then holds a cut text).
 */
long p2pl_metrics_render(const struct p2pl_metrics_stream *s, int n,
    char *buf, size_t cap);

/* The longest prog for p2pl_info (without quotes, backslashes, newlines). */
#define P2PL_METRICS_PROG 64

/* A buffer that holds the metrics of n streams. */
#define P2PL_METRICS_MAX(n) (4096 + (size_t)(n) * 3072)

#endif
