/*
 * histogram.h - delay histograms.
 *
 * A histogram counts delays in 1 ms bins up to 30 s (larger ones land in
 * the last bin) and answers quantiles.  A log histogram counts them in
 * bins whose upper bounds grow by 5% from 1 ms to 61.4 s, so that those
 * of many programs can be added up (the stats line's delay_hist).  No
 * allocation, no I/O.
 */
#ifndef P2PL_HISTOGRAM_H
#define P2PL_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_HIST_BINS 30001

struct p2pl_hist {
	uint64_t n;
	uint32_t bins[P2PL_HIST_BINS];
};

void p2pl_hist_add(struct p2pl_hist *h, int64_t us);
/* Quantile q (0..1) in seconds; -1 when empty. */
double p2pl_hist_quantile(const struct p2pl_hist *h, double q);
void p2pl_hist_reset(struct p2pl_hist *h);

/*
 * Bin 0 counts delays up to 1 ms, bin i up to 1000 * 1.05^i µs (rounded
 * to the µs) and above bin i-1's bound; the last bin (61.4 s) also
 * counts the larger ones.  max is the largest delay added, exactly.
 */
#define P2PL_LOGHIST_BINS 227

struct p2pl_loghist {
	uint64_t n;
	int64_t max;			/* µs; -1 when empty */
	uint64_t sum;			/* µs, of every delay added */
	uint32_t bins[P2PL_LOGHIST_BINS];
};

void p2pl_loghist_init(struct p2pl_loghist *h);
void p2pl_loghist_add(struct p2pl_loghist *h, int64_t us);
/* Bin i's upper bound in µs. */
int64_t p2pl_loghist_bound(int i);
/* Quantile q (0..1) in seconds, the upper bound of its bin (at most 5%
 * above the true value); -1 when empty. */
double p2pl_loghist_quantile(const struct p2pl_loghist *h, double q);

#endif
