/* histogram.c - delay histograms: 1 ms bins, and log bins 5% wide. */
#include "histogram.h"

#include <string.h>

void
p2pl_hist_add(struct p2pl_hist *h, int64_t us)
{
	int64_t b = us < 0 ? 0 : us / 1000;

	if (b >= P2PL_HIST_BINS)
		b = P2PL_HIST_BINS - 1;
	h->bins[b]++;
	h->n++;
}

/* The bin in which the quantile q of n counts falls. */
static int
quantile_bin(const uint32_t *bins, int nbins, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)n), seen = 0;
	int i;

	if (want >= n)
		want = n - 1;
	for (i = 0; i < nbins - 1; i++) {
		seen += bins[i];
		if (seen > want)
			break;
	}
	return i;
}

double
p2pl_hist_quantile(const struct p2pl_hist *h, double q)
{
	if (h->n == 0)
		return -1;
	/* the bin's upper edge: a delay is never reported below itself */
	return (quantile_bin(h->bins, P2PL_HIST_BINS, h->n, q) + 1) / 1000.0;
}

void
p2pl_hist_reset(struct p2pl_hist *h)
{
	memset(h, 0, sizeof(*h));
}

int64_t
p2pl_loghist_bound(int i)
{
	static int64_t bounds[P2PL_LOGHIST_BINS];
	double b = 1000;

	if (bounds[0] == 0) {
		for (int k = 0; k < P2PL_LOGHIST_BINS; k++, b *= 1.05)
			bounds[k] = (int64_t)(b + 0.5);
	}
	if (i < 0)
		i = 0;
	if (i >= P2PL_LOGHIST_BINS)
		i = P2PL_LOGHIST_BINS - 1;
	return bounds[i];
}

void
p2pl_loghist_init(struct p2pl_loghist *h)
{
	memset(h, 0, sizeof(*h));
	h->max = -1;
}

void
p2pl_loghist_add(struct p2pl_loghist *h, int64_t us)
{
	int lo = 0, hi = P2PL_LOGHIST_BINS - 1, mid;

	if (us < 0)
		us = 0;
	/* the first bin whose bound is not below us */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (p2pl_loghist_bound(mid) < us)
			lo = mid + 1;
		else
			hi = mid;
	}
	h->bins[lo]++;
	h->n++;
	h->sum += (uint64_t)us;
	if (us > h->max)
		h->max = us;
}

double
p2pl_loghist_quantile(const struct p2pl_loghist *h, double q)
{
	if (h->n == 0)
		return -1;
	return (double)p2pl_loghist_bound(quantile_bin(h->bins,
	    P2PL_LOGHIST_BINS, h->n, q)) / 1e6;
}
