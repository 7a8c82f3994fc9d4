/*
 * top.h - what p2pl-top's two files share: p2pl-top.c (options, sources,
 * keys, the main loop) and top-draw.c (the curses screens).  Not an API.
 */
#ifndef P2PL_TOP_H
#define P2PL_TOP_H

#include "statparse.h"
#include "topview.h"
#include "topsource.h"

#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2
#define HIST 512
#define TOP 5			/* screen lines above the table */

struct top {
	struct p2pl_topsource *w;
	struct p2pl_topview view;
	struct p2pl_statline sl;
	const struct p2pl_topsource_lines *lines;
	int mode, sort, bits, paused;
	int sel, scroll;	/* selected row, first row shown */
	char selname[48];	/* the selected row's name, kept across data */
	int screen;		/* SCR_* */
	double hist[HIST];	/* total upload, bytes/s, newest last */
	int nhist;
	uint64_t interval;	/* µs */
	int curses, color, utf8;
	FILE *tty;
};

enum { SCR_TABLE, SCR_DETAIL, SCR_HELP };

/* top-draw.c: draw the current screen (table, detail or help) of t. */
void p2pl_top_draw(struct top *t);

#endif
