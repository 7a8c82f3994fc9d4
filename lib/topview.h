/*
 * topview.h - what p2pl-top shows, apart from how: the table rows and the
 * header figures built from a collection of stats lines, their sorting,
 * and their text.  The curses screen and the batch mode (-n) both use it.
 *
 * Two kinds of table: one row per process (P2PL_TOPVIEW_PROCS) or one row per
 * neighbour of the processes watched (P2PL_TOPVIEW_PEERS).
 */
#ifndef P2PL_TOPVIEW_H
#define P2PL_TOPVIEW_H

#include "statparse.h"
#include "topsource.h"

#include <stdio.h>

#define P2PL_TOPVIEW_ROWS 4096

enum { P2PL_TOPVIEW_PROCS, P2PL_TOPVIEW_PEERS };
enum { P2PL_COL_STR, P2PL_COL_INT, P2PL_COL_RATE, P2PL_COL_SEC,
    P2PL_COL_BAR };

struct p2pl_topview_col {
	const char *title;
	int width;		/* 0: the rest of the line (the bar) */
	int fmt;		/* P2PL_COL_* */
	int slot;		/* str[] or num[] index */
	int prio;		/* the lowest are left out first when narrow */
};

struct p2pl_topview_row {
	char str[3][48];
	double num[7];		/* < 0: unknown */
	double health;		/* 0 to 1; < 0: unknown */
	int line;		/* the stats line it comes from */
	int nb;			/* its neighbour there, or -1 */
};

struct p2pl_topview {
	int mode;
	struct p2pl_topview_row rows[P2PL_TOPVIEW_ROWS];
	int nrows;
	int streams, viewers, publishers, relays, neighbours;
	double bitrate;			/* bits/s, the highest stream's */
	double up, down;		/* bytes/s, every process summed */
	double pub_ratio;		/* publishers' upload ÷ stream; < 0 */
	double offload;			/* share of viewers' download not
					 * from a publisher; < 0 unknown */
	double p50, p99;		/* viewers' median p50, worst p99 */
	double continuity;		/* pieces ÷ (pieces + skipped) */
	double skipped;
};

/* Build v from the lines (scratch: a parse buffer). */
void p2pl_topview_build(struct p2pl_topview *v, int mode,
    const struct p2pl_topsource_lines *l, struct p2pl_statline *scratch);
/* The columns of mode; their number in *n. */
const struct p2pl_topview_col *p2pl_topview_cols(int mode, int *n);
/* Sort by column col of mode (numbers high first, names A to Z). */
void p2pl_topview_sort(struct p2pl_topview *v, int col);
/* Format a rate (bytes/s) as bits or bytes; a time in seconds. */
void p2pl_topview_rate(double bps, int bits, char *out, size_t len);
void p2pl_topview_secs(double s, char *out, size_t len);
/* Cell c of row r, without the bar; width not applied. */
void p2pl_topview_cell(const struct p2pl_topview_row *r,
    const struct p2pl_topview_col *c, int bits, char *out, size_t len);
/* The three header lines. */
void p2pl_topview_header(const struct p2pl_topview *v, const char *what, int bits,
    char out[3][256]);
/* A plain-text snapshot: header, column titles, every row. */
void p2pl_topview_print(FILE *f, const struct p2pl_topview *v, const char *what,
    int bits);

#endif
