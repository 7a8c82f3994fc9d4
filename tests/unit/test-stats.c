/* test-stats.c - the log histogram of delays (delay_hist) and its way
 * through a stats line and the stats line reader. */
#include "jsonwrite.h"
#include "statparse.h"
#include "util.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static void
bounds(void)
{
	int64_t prev = p2pl_loghist_bound(0);
	int wide = 0, flat = 0;

	ok(prev == 1000, "bin 0 ends at 1 ms (%lld µs)", (long long)prev);
	for (int i = 1; i < P2PL_LOGHIST_BINS; i++) {
		int64_t b = p2pl_loghist_bound(i);

		if ((double)b > (double)prev * 1.05 + 1)	/* µs rounding */
			wide++;
		if (b <= prev)
			flat++;
		prev = b;
	}
	ok(wide == 0, "every bin at most 5%% (and a µs) wider than its lower "
	    "bound");
	ok(flat == 0, "bounds increase");
	ok(prev >= 60000000, "the last bin reaches 60 s (%lld µs)",
	    (long long)prev);
	ok(p2pl_loghist_bound(-1) == 1000 &&
	    p2pl_loghist_bound(P2PL_LOGHIST_BINS) == prev,
	    "bounds outside the bins are clamped");
}

static void
quantiles(void)
{
	struct p2pl_loghist h;
	int bad = 0;

	p2pl_loghist_init(&h);
	ok(h.n == 0 && h.max == -1 && p2pl_loghist_quantile(&h, .5) == -1,
	    "empty: no quantile, no max");
	/* 1..1000 ms, one each: the quantiles within 5% above */
	for (int ms = 1; ms <= 1000; ms++)
		p2pl_loghist_add(&h, (int64_t)ms * 1000);
	ok(h.n == 1000 && h.max == 1000000, "n %llu, max %lld µs",
	    (unsigned long long)h.n, (long long)h.max);
	for (int k = 1; k <= 99; k++) {
		double q = p2pl_loghist_quantile(&h, k / 100.0);
		double want = (k * 10 + 1) / 1000.0;	/* the (k*10+1)th */

		if (q < want || q > want * 1.0501)
			bad++;
	}
	ok(bad == 0, "p1..p99 of 1..1000 ms within 5%% above (%d off)", bad);
	ok(p2pl_loghist_quantile(&h, 1) >= 1.0 &&
	    p2pl_loghist_quantile(&h, 1) <= 1.0501, "p100: the largest bin");
	/* the edges: at a bound, past it, below 0, past the last bin */
	p2pl_loghist_init(&h);
	p2pl_loghist_add(&h, 1000);
	p2pl_loghist_add(&h, 1001);
	p2pl_loghist_add(&h, -5);
	p2pl_loghist_add(&h, 3600000000LL);
	ok(h.bins[0] == 2 && h.bins[1] == 1 &&
	    h.bins[P2PL_LOGHIST_BINS - 1] == 1, "edges: bins %u %u %u",
	    h.bins[0], h.bins[1], h.bins[P2PL_LOGHIST_BINS - 1]);
	ok(h.max == 3600000000LL, "max is exact past the last bin");
}

static void
json(void)
{
	static struct p2pl_statline sl;
	struct p2pl_loghist h;
	struct p2pl_json j;
	char line[8192], err[P2PL_ERRLEN];
	long len;
	int n;

	p2pl_loghist_init(&h);
	p2pl_json_open(&j, line, sizeof(line));
	p2pl_json_loghist(&j, "delay_hist", &h);
	len = p2pl_json_close(&j);
	ok(len > 0 && strcmp(line, "{\"delay_hist\":[]}") == 0, "empty: %s",
	    line);
	p2pl_loghist_add(&h, 500);
	p2pl_loghist_add(&h, 1050);
	p2pl_loghist_add(&h, 1050);
	p2pl_loghist_add(&h, 250000);
	p2pl_json_open(&j, line, sizeof(line));
	p2pl_json_u64(&j, "pieces", 4);
	p2pl_json_loghist(&j, "delay_hist", &h);
	p2pl_json_str(&j, "after", "x");
	len = p2pl_json_close(&j);
	ok(len > 0 && strcmp(line, "{\"pieces\":4,\"delay_hist\":[[1.000,1],"
	    "[1.050,2],[260.363,1]],\"after\":\"x\"}") == 0, "sparse pairs: %s",
	    line);
	ok(p2pl_statparse(line, (size_t)len, &sl, err,
	    sizeof(err)) == 0, "the reader takes it: %s", err);
	ok(p2pl_sl_num(&sl.top, "pieces", -1) == 4 &&
	    strcmp(p2pl_sl_str(&sl.top, "after"), "x") == 0,
	    "fields around it are read");
	ok(p2pl_sl_array(&sl, "delay_hist", &n) == NULL && n == 0,
	    "it is no array of objects");
	ok(sl.top.n == 3 && sl.top.f[1].type == P2PL_SL_NUMS &&
	    sl.top.f[1].n == 6, "its numbers counted (%d)", sl.top.f[1].n);
	/* a full one fits a stats line */
	for (int i = 0; i < P2PL_LOGHIST_BINS; i++)
		h.bins[i] = 4000000000u;
	p2pl_json_open(&j, line, sizeof(line));
	p2pl_json_loghist(&j, "delay_hist", &h);
	len = p2pl_json_close(&j);
	ok(len > 0 && len < 5000, "every bin full: %ld bytes", len);
	ok(p2pl_statparse(line, (size_t)len, &sl, err,
	    sizeof(err)) == 0 && sl.top.f[0].n == 2 * P2PL_LOGHIST_BINS,
	    "and is read back");
}

static void
refused(void)
{
	static struct p2pl_statline sl;
	static const char *const bad[] = {
		"{\"a\":[1,{\"b\":2}]}", "{\"a\":[{\"b\":2},1]}",
		"{\"a\":[[1,2],3]}", "{\"a\":[1,[2]]}", "{\"a\":[[1,[2]]]}",
		"{\"a\":[[1,\"x\"]]}", "{\"a\":[1,]}", "{\"a\":[[1,2]",
		"{\"n\":[{\"a\":[1]}]}",
	};
	const char *good = "{\"a\":[[]],\"b\":[1,2.5e3]}";
	char err[P2PL_ERRLEN];
	int refused = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused += p2pl_statparse(bad[i], strlen(bad[i]), &sl, err,
		    sizeof(err)) == -1;
	ok(refused == (int)(sizeof(bad) / sizeof(bad[0])),
	    "mixed, deeper or broken arrays refused (%d)", refused);
	err[0] = '\0';
	ok(p2pl_statparse(good, strlen(good), &sl, err,
	    sizeof(err)) == 0, "[[]] and [numbers] taken: %s", err);
}

int
main(void)
{
	bounds();
	quantiles();
	json();
	refused();
	return tap_done();
}
