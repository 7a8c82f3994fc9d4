/* topview.c - p2pl-top's rows and header figures (see topview.h). */
#include "topview.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const struct p2pl_topview_col proc_cols[] = {
	{ "NAME", 14, P2PL_COL_STR, 0, 9 },
	{ "ROLE", 9, P2PL_COL_STR, 1, 8 },
	{ "PEERS", 5, P2PL_COL_INT, 0, 6 },
	{ "DOWN", 10, P2PL_COL_RATE, 1, 9 },
	{ "UP", 10, P2PL_COL_RATE, 2, 9 },
	{ "P50", 6, P2PL_COL_SEC, 3, 7 },
	{ "P99", 6, P2PL_COL_SEC, 4, 7 },
	{ "SKIP", 5, P2PL_COL_INT, 5, 5 },
	{ "PIECES", 7, P2PL_COL_INT, 6, 2 },
	{ "STREAM", 8, P2PL_COL_STR, 2, 1 },
	{ "HEALTH", 0, P2PL_COL_BAR, 0, 10 },
};

static const struct p2pl_topview_col peer_cols[] = {
	{ "PEER", 21, P2PL_COL_STR, 0, 9 },
	{ "DIR", 3, P2PL_COL_STR, 2, 6 },
	{ "ROLE", 9, P2PL_COL_STR, 1, 7 },
	{ "DOWN", 10, P2PL_COL_RATE, 1, 9 },
	{ "UP", 10, P2PL_COL_RATE, 2, 9 },
	{ "RTT", 6, P2PL_COL_SEC, 3, 5 },
	{ "BEHIND", 6, P2PL_COL_SEC, 4, 8 },
	{ "IN", 6, P2PL_COL_INT, 5, 3 },
	{ "OUT", 6, P2PL_COL_INT, 6, 3 },
	{ "HEALTH", 0, P2PL_COL_BAR, 0, 10 },
};

const struct p2pl_topview_col *
p2pl_topview_cols(int mode, int *n)
{
	if (mode == P2PL_TOPVIEW_PEERS) {
		*n = (int)(sizeof(peer_cols) / sizeof(peer_cols[0]));
		return peer_cols;
	}
	*n = (int)(sizeof(proc_cols) / sizeof(proc_cols[0]));
	return proc_cols;
}

static const char *
role_of(const char *prog)
{
	if (strcmp(prog, "p2pl-fetch") == 0)
		return "viewer";
	if (strcmp(prog, "p2pl-publish") == 0)
		return "publisher";
	if (strcmp(prog, "p2pl-relay") == 0)
		return "relay";
	return "unknown";
}

static double
clip01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One row per process. */
static void
proc_row(struct p2pl_topview *v, const struct p2pl_sl_obj *t, int line)
{
	struct p2pl_topview_row *r = &v->rows[v->nrows++];
	const char *prog = p2pl_sl_str(t, "prog");
	double lat = p2pl_sl_num(t, "latency", 1), p99;

	memset(r, 0, sizeof(*r));
	r->line = line;
	r->nb = -1;
	snprintf(r->str[0], sizeof(r->str[0]), "%s %.0f",
	    strncmp(prog, "p2pl-", 5) == 0 ? prog + 5 : prog,
	    p2pl_sl_num(t, "pid", 0));
	snprintf(r->str[1], sizeof(r->str[1]), "%s", role_of(prog));
	snprintf(r->str[2], sizeof(r->str[2]), "%.8s",
	    p2pl_sl_str(t, "stream"));
	r->num[0] = p2pl_sl_num(t, "peers", -1);
	r->num[1] = p2pl_sl_num(t, "down_rate", -1);
	r->num[2] = p2pl_sl_num(t, "up_rate", -1);
	r->num[3] = p2pl_sl_num(t, "delay_p50", -1);
	r->num[4] = p2pl_sl_num(t, "delay_p99", -1);
	r->num[5] = p2pl_sl_num(t, "skipped", -1);
	r->num[6] = p2pl_sl_num(t, "pieces", -1);
	p99 = r->num[4];
	if (strcmp(r->str[1], "viewer") != 0)
		r->health = r->num[0] > 0 ? 1 : 0;
	else if (p99 < 0 || lat <= 0)
		r->health = r->num[6] > 0 ? 1 : -1;
	else
		r->health = clip01(1 - p99 / lat);
}

/* One row per neighbour of a process. */
static void
peer_rows(struct p2pl_topview *v, const struct p2pl_statline *sl, int line)
{
	const struct p2pl_sl_obj *a, *o;
	struct p2pl_topview_row *r;
	double lat = p2pl_sl_num(&sl->top, "latency", 1), behind;
	int n, i;

	a = p2pl_sl_array(sl, "neighbours", &n);
	for (i = 0; i < n && v->nrows < P2PL_TOPVIEW_ROWS; i++) {
		o = &a[i];
		r = &v->rows[v->nrows++];
		memset(r, 0, sizeof(*r));
		r->line = line;
		r->nb = i;
		snprintf(r->str[0], sizeof(r->str[0]), "%s",
		    p2pl_sl_str(o, "addr"));
		snprintf(r->str[1], sizeof(r->str[1]), "%s",
		    p2pl_sl_str(o, "role"));
		snprintf(r->str[2], sizeof(r->str[2]), "%s",
		    p2pl_sl_str(o, "dir"));
		r->num[0] = -1;
		r->num[1] = p2pl_sl_num(o, "down_rate", -1);
		r->num[2] = p2pl_sl_num(o, "up_rate", -1);
		r->num[3] = p2pl_sl_num(o, "rtt", -1);
		r->num[4] = behind = p2pl_sl_num(o, "behind", -1);
		r->num[5] = p2pl_sl_num(o, "pieces_in", -1);
		r->num[6] = p2pl_sl_num(o, "pieces_out", -1);
		if (strcmp(r->str[1], "publisher") == 0)
			r->health = 1;
		else
			r->health = behind < 0 ? -1 : clip01(1 - behind /
			    (lat > 0 ? lat : 1));
	}
}

void
p2pl_topview_build(struct p2pl_topview *v, int mode,
    const struct p2pl_topsource_lines *l, struct p2pl_statline *sl)
{
	static double p50s[P2PL_TOPSOURCE_LINES];
	char err[P2PL_ERRLEN], streams[P2PL_TOPSOURCE_LINES][16];
	double pieces = 0, pub_up = 0, view_down = 0, b;
	int i, j, nv = 0, nb;
	const char *role;

	v->mode = mode;
	v->nrows = 0;
	v->streams = v->viewers = v->publishers = v->relays = 0;
	v->neighbours = 0;
	v->bitrate = v->up = v->down = v->skipped = pieces = 0;
	v->p50 = v->p99 = -1;
	for (i = 0; i < l->n; i++) {
		if (p2pl_statparse(l->line[i], strlen(l->line[i]), sl,
		    err, sizeof(err)) == -1)
			continue;
		role = role_of(p2pl_sl_str(&sl->top, "prog"));
		for (j = 0; j < v->streams; j++)
			if (strncmp(streams[j], p2pl_sl_str(&sl->top, "stream"),
			    15) == 0)
				break;
		if (j == v->streams)
			snprintf(streams[v->streams++], sizeof(streams[0]),
			    "%.15s", p2pl_sl_str(&sl->top, "stream"));
		if ((b = p2pl_sl_num(&sl->top, "bitrate", 0)) > v->bitrate)
			v->bitrate = b;
		v->up += p2pl_sl_num(&sl->top, "up_rate", 0);
		v->down += p2pl_sl_num(&sl->top, "down_rate", 0);
		p2pl_sl_array(sl, "neighbours", &nb);
		v->neighbours += nb;
		if (strcmp(role, "publisher") == 0) {
			v->publishers++;
			pub_up += p2pl_sl_num(&sl->top, "up_rate", 0);
		} else if (strcmp(role, "relay") == 0)
			v->relays++;
		else if (strcmp(role, "viewer") == 0) {
			v->viewers++;
			view_down += p2pl_sl_num(&sl->top, "down_rate", 0);
			pieces += p2pl_sl_num(&sl->top, "pieces", 0);
			v->skipped += p2pl_sl_num(&sl->top, "skipped", 0);
			if ((b = p2pl_sl_num(&sl->top, "delay_p50", -1)) >= 0)
				p50s[nv++] = b;
			if ((b = p2pl_sl_num(&sl->top, "delay_p99", -1)) > v->p99)
				v->p99 = b;
		}
		if (mode == P2PL_TOPVIEW_PROCS && v->nrows < P2PL_TOPVIEW_ROWS)
			proc_row(v, &sl->top, i);
		else if (mode == P2PL_TOPVIEW_PEERS)
			peer_rows(v, sl, i);
	}
	qsort(p50s, (size_t)nv, sizeof(p50s[0]), cmp_double);
	v->p50 = nv > 0 ? p50s[nv / 2] : -1;
	v->pub_ratio = v->publishers > 0 && v->bitrate > 0 ?
	    pub_up * 8 / v->bitrate : -1;
	v->offload = v->publishers > 0 && view_down > 0 ?
	    clip01(1 - pub_up / view_down) : -1;
	v->continuity = pieces + v->skipped > 0 ?
	    pieces / (pieces + v->skipped) : -1;
}

enum { BY_NUM, BY_STR, BY_HEALTH };
static int sort_slot, sort_by;

static int
cmp_rows(const void *a, const void *b)
{
	const struct p2pl_topview_row *x = a, *y = b;
	int c;

	if (sort_by == BY_STR)
		c = strcmp(x->str[sort_slot], y->str[sort_slot]);
	else if (sort_by == BY_HEALTH)	/* the worst first */
		c = x->health < y->health ? -1 : x->health > y->health;
	else
		c = x->num[sort_slot] > y->num[sort_slot] ? -1 :
		    x->num[sort_slot] < y->num[sort_slot];
	if (c == 0)	/* stable across refreshes */
		c = strcmp(x->str[0], y->str[0]);
	return c;
}

void
p2pl_topview_sort(struct p2pl_topview *v, int col)
{
	const struct p2pl_topview_col *c;
	int n;

	c = p2pl_topview_cols(v->mode, &n);
	if (col < 0 || col >= n)
		return;
	sort_slot = c[col].slot;
	sort_by = c[col].fmt == P2PL_COL_BAR ? BY_HEALTH :
	    c[col].fmt == P2PL_COL_STR ? BY_STR : BY_NUM;
	qsort(v->rows, (size_t)v->nrows, sizeof(v->rows[0]), cmp_rows);
}

void
p2pl_topview_rate(double bps, int bits, char *out, size_t len)
{
	static const char *const bu[] = { "b/s", "kb/s", "Mb/s", "Gb/s" };
	static const char *const Bu[] = { "B/s", "KiB/s", "MiB/s", "GiB/s" };
	double x = bits ? bps * 8 : bps, k = bits ? 1000 : 1024;
	int u = 0;

	if (bps < 0) {
		snprintf(out, len, "-");
		return;
	}
	while (x >= k && u < 3) {
		x /= k;
		u++;
	}
	snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", x,
	    bits ? bu[u] : Bu[u]);
}

void
p2pl_topview_secs(double s, char *out, size_t len)
{
	if (s < 0)
		snprintf(out, len, "-");
	else if (s < 10)
		snprintf(out, len, "%.3f", s);
	else
		snprintf(out, len, "%.1f", s);
}

void
p2pl_topview_cell(const struct p2pl_topview_row *r, const struct p2pl_topview_col *c,
    int bits, char *out, size_t len)
{
	double x = r->num[c->slot];

	switch (c->fmt) {
	case P2PL_COL_STR:
		snprintf(out, len, "%s", r->str[c->slot]);
		break;
	case P2PL_COL_INT:
		if (x < 0)
			snprintf(out, len, "-");
		else
			snprintf(out, len, "%.0f", x);
		break;
	case P2PL_COL_RATE:
		p2pl_topview_rate(x, bits, out, len);
		break;
	case P2PL_COL_SEC:
		p2pl_topview_secs(x, out, len);
		break;
	default:
		if (r->health < 0)
			snprintf(out, len, "-");
		else
			snprintf(out, len, "%.0f%%", r->health * 100);
	}
}

void
p2pl_topview_header(const struct p2pl_topview *v, const char *what, int bits,
    char out[3][256])
{
	char br[32], up[32], down[32], p50[16], p99[16], ratio[96] = "";

	p2pl_topview_rate(v->bitrate / 8, bits, br, sizeof(br));
	p2pl_topview_rate(v->up, bits, up, sizeof(up));
	p2pl_topview_rate(v->down, bits, down, sizeof(down));
	p2pl_topview_secs(v->p50, p50, sizeof(p50));
	p2pl_topview_secs(v->p99, p99, sizeof(p99));
	snprintf(out[0], 256, "%s: %d stream%s, %d viewer%s, %d publisher%s, "
	    "%d relay%s, %d links", what, v->streams,
	    v->streams == 1 ? "" : "s", v->viewers, v->viewers == 1 ? "" : "s",
	    v->publishers, v->publishers == 1 ? "" : "s", v->relays,
	    v->relays == 1 ? "" : "s", v->neighbours);
	if (v->pub_ratio >= 0)
		snprintf(ratio, sizeof(ratio), "  publisher %.2fx",
		    v->pub_ratio);
	if (v->offload >= 0)
		snprintf(ratio + strlen(ratio), sizeof(ratio) - strlen(ratio),
		    "  offload %.0f%%", v->offload * 100);
	snprintf(out[1], 256, "stream %s  up %s  down %s%s", br, up, down,
	    ratio);
	if (v->continuity >= 0)
		snprintf(out[2], 256, "delay p50 %s s  p99 %s s  continuity "
		    "%.2f%%  skipped %.0f", p50, p99, v->continuity * 100,
		    v->skipped);
	else
		snprintf(out[2], 256, "delay p50 %s s  p99 %s s  continuity -",
		    p50, p99);
}

void
p2pl_topview_print(FILE *f, const struct p2pl_topview *v, const char *what,
    int bits)
{
	const struct p2pl_topview_col *c;
	char head[3][256], cell[64];
	int n, i, k;

	p2pl_topview_header(v, what, bits, head);
	fprintf(f, "%s\n%s\n%s\n", head[0], head[1], head[2]);
	c = p2pl_topview_cols(v->mode, &n);
	for (k = 0; k < n; k++)
		fprintf(f, k == 0 ? "%-*s" : " %*s", c[k].width ? c[k].width : 6,
		    c[k].title);
	fprintf(f, "\n");
	for (i = 0; i < v->nrows; i++) {
		for (k = 0; k < n; k++) {
			p2pl_topview_cell(&v->rows[i], &c[k], bits, cell,
			    sizeof(cell));
			fprintf(f, k == 0 ? "%-*s" : " %*s",
			    c[k].width ? c[k].width : 6, cell);
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\n");
	fflush(f);
}
