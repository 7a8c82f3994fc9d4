/*
 * top-draw.c - p2pl-top's curses screens: the table of processes or
 * neighbours fitted to the width (columns dropped from the right, a bar
 * taking what is left), the upload sparkline, the detail of one row and
 * the help.  What the rows say comes from topview.c; p2pl-top.c reads the
 * keys and runs the loop.
 */
#include "top.h"
#include "util.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void
put(int y, int x, const char *s, int maxw)
{
	if (maxw > 0)
		mvaddnstr(y, x, s, maxw);
}

/* The columns that fit in width, the bar taking what is left. */
static int
fit(const struct p2pl_topview_col *c, int n, int width, int show[], int *barw)
{
	int used, k, low, shown = n;

	for (k = 0; k < n; k++)
		show[k] = 1;
	for (;;) {
		used = 0;
		for (k = 0; k < n; k++)
			if (show[k] && c[k].width > 0)
				used += c[k].width + 1;
		if (used + 5 <= width || shown <= 2)
			break;
		low = -1;
		for (k = 0; k < n; k++)
			if (show[k] && c[k].width > 0 &&
			    (low == -1 || c[k].prio < c[low].prio))
				low = k;
		show[low] = 0;
		shown--;
	}
	*barw = width - used;
	return used;
}

static void
bar(struct top *t, int y, int x, int w, double h)
{
	int fill, k, pair;

	if (w <= 0)
		return;
	move(y, x);
	if (h < 0) {
		addstr("?");
		return;
	}
	fill = (int)lround(h * w);
	pair = h >= .66 ? 1 : h >= .33 ? 2 : 3;
	if (t->color)
		attron(COLOR_PAIR(pair));
	else
		attron(A_BOLD);
	for (k = 0; k < fill; k++)
		addstr(t->utf8 ? "\u2588" : "#");
	if (t->color)
		attroff(COLOR_PAIR(pair));
	else
		attroff(A_BOLD);
	for (; k < w; k++)
		addstr(t->utf8 ? "\u2591" : ".");
}

static void
sparkline(struct top *t, int y, int x, int w)
{
	static const char *const u8[] = { " ", "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " _.-:=+*#";
	double max = 0;
	int i, k, first = t->nhist > w ? t->nhist - w : 0;

	for (i = first; i < t->nhist; i++)
		if (t->hist[i] > max)
			max = t->hist[i];
	move(y, x);
	for (i = first; i < t->nhist; i++) {
		k = max > 0 ? (int)lround(t->hist[i] / max * 8) : 0;
		if (t->utf8)
			addstr(u8[k]);
		else
			addch((chtype)ascii[k]);
	}
}

static void
draw_table(struct top *t, int y0, int h)
{
	const struct p2pl_topview_col *c;
	int n, k, i, x, show[16], barw, y;
	char cell[64];

	c = p2pl_topview_cols(t->mode, &n);
	fit(c, n, COLS, show, &barw);
	attron(A_REVERSE);
	mvhline(y0, 0, ' ', COLS);
	for (k = 0, x = 0; k < n; k++) {
		if (!show[k])
			continue;
		snprintf(cell, sizeof(cell), "%s%s", c[k].title,
		    k == t->sort ? (t->utf8 ? "\u25bc" : "*") : "");
		if (c[k].fmt == P2PL_COL_STR || c[k].width == 0)
			mvprintw(y0, x, "%-*.*s", c[k].width ? c[k].width :
			    barw, c[k].width ? c[k].width : barw, cell);
		else
			mvprintw(y0, x, "%*.*s", c[k].width, c[k].width, cell);
		x += (c[k].width ? c[k].width : barw) + 1;
	}
	attroff(A_REVERSE);
	if (t->sel < t->scroll)
		t->scroll = t->sel;
	if (t->sel >= t->scroll + h)
		t->scroll = t->sel - h + 1;
	for (i = t->scroll, y = y0 + 1; i < t->view.nrows && y <= y0 + h;
	    i++, y++) {
		if (i == t->sel)
			attron(A_REVERSE);
		mvhline(y, 0, ' ', COLS);
		for (k = 0, x = 0; k < n; k++) {
			if (!show[k])
				continue;
			if (c[k].fmt == P2PL_COL_BAR) {
				bar(t, y, x, barw - 1, t->view.rows[i].health);
				continue;
			}
			p2pl_topview_cell(&t->view.rows[i], &c[k], t->bits, cell,
			    sizeof(cell));
			mvprintw(y, x, c[k].fmt == P2PL_COL_STR ? "%-*.*s" :
			    "%*.*s", c[k].width, c[k].width, cell);
			x += c[k].width + 1;
		}
		if (i == t->sel)
			attroff(A_REVERSE);
	}
	if (t->view.nrows == 0)
		put(y0 + 2, 2, "no p2pl process to show (yet)", COLS - 2);
}

/* Every field of the selected row's object, then a process's peers. */
static void
draw_detail(struct top *t, int y0, int h)
{
	const struct p2pl_topview_row *r;
	const struct p2pl_sl_obj *o, *a;
	const struct p2pl_sl_field *f;
	char err[P2PL_ERRLEN], val[96], rate[2][32];
	int i, n, y = y0, colw = COLS / 2;

	if (t->sel >= t->view.nrows) {
		put(y0, 2, "nothing selected", COLS - 2);
		return;
	}
	r = &t->view.rows[t->sel];
	if (r->line >= t->lines->n || p2pl_statparse(
	    t->lines->line[r->line], strlen(t->lines->line[r->line]), &t->sl,
	    err, sizeof(err)) == -1)
		return;
	a = p2pl_sl_array(&t->sl, "neighbours", &n);
	o = r->nb >= 0 && r->nb < n ? &a[r->nb] : &t->sl.top;
	attron(A_BOLD);
	mvprintw(y++, 0, "%s %s (Enter or Esc: back)", r->nb >= 0 ?
	    "neighbour" : "process", r->str[0]);
	attroff(A_BOLD);
	for (i = 0; i < o->n && y < y0 + h; i++) {
		f = &o->f[i];
		if (f->type == P2PL_SL_ARRAY)
			continue;
		if (f->type == P2PL_SL_STRV)
			snprintf(val, sizeof(val), "%s", f->str);
		else if (f->type == P2PL_SL_NUM)
			snprintf(val, sizeof(val), "%.10g", f->num);
		else
			snprintf(val, sizeof(val), "%s", f->type ==
			    P2PL_SL_NULL ? "-" : f->num ? "true" : "false");
		mvprintw(y, (i % 2) * colw, "%-14.14s %.*s", f->key,
		    colw - 16 > 0 ? colw - 16 : 0, val);
		if (i % 2 == 1 || i == o->n - 1)
			y++;
	}
	if (r->nb >= 0 || n == 0)
		return;
	y++;
	attron(A_BOLD);
	if (y < y0 + h)
		mvprintw(y++, 0, "%-21s %-3s %-9s %10s %10s %7s", "NEIGHBOUR",
		    "DIR", "ROLE", "DOWN", "UP", "BEHIND");
	attroff(A_BOLD);
	for (i = 0; i < n && y < y0 + h; i++, y++) {
		p2pl_topview_rate(p2pl_sl_num(&a[i], "down_rate", -1), t->bits,
		    rate[0], sizeof(rate[0]));
		p2pl_topview_rate(p2pl_sl_num(&a[i], "up_rate", -1), t->bits,
		    rate[1], sizeof(rate[1]));
		p2pl_topview_secs(p2pl_sl_num(&a[i], "behind", -1), val,
		    sizeof(val));
		mvprintw(y, 0, "%-21.21s %-3.3s %-9.9s %10s %10s %7s",
		    p2pl_sl_str(&a[i], "addr"), p2pl_sl_str(&a[i], "dir"),
		    p2pl_sl_str(&a[i], "role"), rate[0], rate[1], val);
	}
}

static void
draw_help(int y0)
{
	static const char *const lines[] = {
		"p2pl-top keys",
		"",
		"  q            quit",
		"  ? or F1      this help (any key closes it)",
		"  s            sort by the next column",
		"  b            rates in bits or bytes",
		"  p            pause or resume",
		"  n            processes or neighbours",
		"  Up, Down     select a row",
		"  PgUp, PgDn   a page up or down",
		"  Home, End    first or last row",
		"  Enter        details of the selected row",
	};
	int i, w = 50, x = COLS > w ? (COLS - w) / 2 : 0;

	for (i = 0; i < (int)(sizeof(lines) / sizeof(lines[0])); i++) {
		if (y0 + i + 1 >= LINES - 1)
			break;
		attron(A_REVERSE);
		mvprintw(y0 + i + 1, x, " %-*.*s", w - 1, w - 1, lines[i]);
		attroff(A_REVERSE);
	}
}

void
p2pl_top_draw(struct top *t)
{
	char head[3][256], rate[32];
	const char *problem = p2pl_topsource_problem(t->w);
	int h = LINES - TOP - 1, sw;

	erase();
	p2pl_topview_header(&t->view, p2pl_topsource_what(t->w), t->bits, head);
	if (t->color)
		attron(COLOR_PAIR(4) | A_BOLD);
	else
		attron(A_BOLD);
	mvprintw(0, 0, "p2pl-top  %.*s", COLS > 10 ? COLS - 10 : 0, head[0]);
	if (t->color)
		attroff(COLOR_PAIR(4) | A_BOLD);
	else
		attroff(A_BOLD);
	put(1, 0, head[1], COLS);
	put(2, 0, head[2], COLS);
	p2pl_topview_rate(t->view.up, t->bits, rate, sizeof(rate));
	mvprintw(3, 0, "upload %11s ", rate);
	sw = COLS - 20;
	if (sw > 0)
		sparkline(t, 3, 19, sw);
	if (t->paused) {
		attron(A_REVERSE);
		put(0, COLS - 8, " PAUSED ", 8);
		attroff(A_REVERSE);
	}
	if (h > 0 && t->screen == SCR_DETAIL)
		draw_detail(t, TOP - 1, h + 1);
	else if (h > 0)
		draw_table(t, TOP - 1, h);
	if (t->screen == SCR_HELP)
		draw_help(TOP - 1);
	if (problem[0] != '\0') {
		attron(A_BOLD);
		put(LINES - 1, 0, problem, COLS);
		attroff(A_BOLD);
	} else
		put(LINES - 1, 0, "q quit  ? help  s sort  b bits/bytes  "
		    "p pause  n table  Enter details", COLS);
	refresh();
}
