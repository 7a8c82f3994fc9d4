/* p2pl-top - watch p2pl processes and swarms: a terminal monitor. */
#include "prog.h"
#include "statparse.h"
#include "util.h"
#include "topview.h"
#include "topsource.h"

#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static volatile sig_atomic_t stopping;
static int curses_on;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: p2pl-top [-bNPV] [-d SECONDS] [-n N] "
	    "[PID | SOCKET | URL | -] ...\n");
	exit(status);
}

static void
restore(void)
{
	if (curses_on) {
		endwin();
		curses_on = 0;
	}
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	restore();
	fprintf(stderr, "p2pl-top: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Ask the sources again and rebuild the rows, keeping the selection. */
static void
refresh_data(struct top *t)
{
	int i;

	t->lines = p2pl_topsource_collect(t->w);
	p2pl_topview_build(&t->view, t->mode, t->lines, &t->sl);
	p2pl_topview_sort(&t->view, t->sort);
	if (t->nhist == HIST) {
		memmove(t->hist, t->hist + 1, (HIST - 1) * sizeof(t->hist[0]));
		t->nhist--;
	}
	t->hist[t->nhist++] = t->view.up;
	for (i = 0; i < t->view.nrows; i++)
		if (strcmp(t->view.rows[i].str[0], t->selname) == 0) {
			t->sel = i;
			break;
		}
	if (t->sel >= t->view.nrows)
		t->sel = t->view.nrows > 0 ? t->view.nrows - 1 : 0;
}

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

static void
draw(struct top *t)
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

static void
move_sel(struct top *t, int d)
{
	t->sel += d;
	if (t->sel >= t->view.nrows)
		t->sel = t->view.nrows - 1;
	if (t->sel < 0)
		t->sel = 0;
	if (t->sel < t->view.nrows)
		snprintf(t->selname, sizeof(t->selname), "%s",
		    t->view.rows[t->sel].str[0]);
}

/* One key; returns 1 to quit. */
static int
key(struct top *t, int ch)
{
	int n, page = LINES - TOP - 1 > 1 ? LINES - TOP - 1 : 1;

	if (t->screen == SCR_HELP && ch != KEY_RESIZE && ch != 'q') {
		t->screen = SCR_TABLE;
		return 0;
	}
	switch (ch) {
	case 'q':
		return 1;
	case '?':
	case 'h':
	case KEY_F(1):
		t->screen = SCR_HELP;
		break;
	case 's':
		p2pl_topview_cols(t->mode, &n);
		t->sort = (t->sort + 1) % n;
		p2pl_topview_sort(&t->view, t->sort);
		move_sel(t, 0);
		break;
	case 'b':
		t->bits = !t->bits;
		break;
	case 'p':
		t->paused = !t->paused;
		break;
	case 'n':
		t->mode = t->mode == P2PL_TOPVIEW_PROCS ? P2PL_TOPVIEW_PEERS :
		    P2PL_TOPVIEW_PROCS;
		t->sort = 0;
		t->sel = t->scroll = 0;
		p2pl_topview_build(&t->view, t->mode, t->lines, &t->sl);
		p2pl_topview_sort(&t->view, t->sort);
		break;
	case KEY_UP:
	case 'k':
		move_sel(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(t, 1);
		break;
	case KEY_PPAGE:
		move_sel(t, -page);
		break;
	case KEY_NPAGE:
		move_sel(t, page);
		break;
	case KEY_HOME:
		move_sel(t, -t->view.nrows);
		break;
	case KEY_END:
		move_sel(t, t->view.nrows);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->screen = t->screen == SCR_DETAIL ? SCR_TABLE : SCR_DETAIL;
		break;
	case 27:	/* Esc */
	case KEY_BACKSPACE:
		t->screen = SCR_TABLE;
		break;
	case KEY_RESIZE:
		clear();
		break;
	}
	return 0;
}

static uint64_t
remaining_us(uint64_t when)
{
	uint64_t now = p2pl_mono_us();

	return when > now ? when - now : 0;
}

/* Wait up to us for keys or lines on the "-" source. */
static void
wait_input(struct top *t, uint64_t us)
{
	struct pollfd pfd[2];
	int n = 0;

	if (t->curses)
		pfd[n++] = (struct pollfd){ .fd = fileno(t->tty),
		    .events = POLLIN };
	if (p2pl_topsource_fd(t->w) != -1)
		pfd[n++] = (struct pollfd){ .fd = p2pl_topsource_fd(t->w),
		    .events = POLLIN };
	if (poll(pfd, (nfds_t)n, (int)(us / 1000) + 1) > 0 &&
	    p2pl_topsource_fd(t->w) != -1 && pfd[n - 1].revents != 0)
		p2pl_topsource_read(t->w);
}

static int
batch(struct top *t, long iterations)
{
	uint64_t next = p2pl_mono_us();
	const char *problem;
	long i;

	for (i = 0; (iterations == 0 || i < iterations) && !stopping; i++) {
		if (i == 0 && p2pl_topsource_fd(t->w) != -1)
			next += t->interval;	/* let "-" lines come */
		while (!stopping && remaining_us(next) > 0)
			wait_input(t, remaining_us(next));
		if (stopping)
			break;
		next += t->interval;
		refresh_data(t);
		p2pl_topview_print(stdout, &t->view, p2pl_topsource_what(t->w),
		    t->bits);
		problem = p2pl_topsource_problem(t->w);
		if (problem[0] != '\0')
			fprintf(stderr, "p2pl-top: %s\n", problem);
		if (ferror(stdout))
			return errno == EPIPE ? 0 : 1;
	}
	return 0;
}

/* Start curses on the terminal; 0, or -1 if there is none to use. */
static int
start_curses(struct top *t)
{
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	SCREEN *scr;

	if (term == NULL || strcmp(term, "dumb") == 0 || !isatty(1))
		return -1;
	if (isatty(0) && p2pl_topsource_fd(t->w) == -1)
		t->tty = stdin;
	else if ((t->tty = fopen("/dev/tty", "r")) == NULL)
		return -1;
	if ((scr = newterm(NULL, stdout, t->tty)) == NULL)
		return -1;
	set_term(scr);
	curses_on = t->curses = 1;
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors() && (nc == NULL || nc[0] == '\0')) {
		t->color = 1;
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
		init_pair(4, COLOR_CYAN, -1);
	}
	return 0;
}

static int
interactive(struct top *t)
{
	uint64_t next = 0;
	int ch;

	for (;;) {
		if (stopping)
			return 0;
		if (!t->paused && remaining_us(next) == 0) {
			refresh_data(t);
			next = p2pl_mono_us() + t->interval;
		}
		draw(t);
		wait_input(t, t->paused ? 1000000 : remaining_us(next));
		while ((ch = getch()) != ERR)
			if (key(t, ch))
				return 0;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "bytes", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "neighbours", no_argument, NULL, 'N' },
		{ "processes", no_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct top t;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[P2PL_ERRLEN], *end;
	long iterations = -1;
	int ch, mode = -1, rc;
	double d;

	setlocale(LC_ALL, "");
	t.bits = 1;
	t.interval = 1000000;
	while ((ch = getopt_long(argc, argv, "bd:hn:NPV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			t.bits = 0;
			break;
		case 'd':
			d = strtod(optarg, &end);
			if (*end != '\0' || !(d >= 0.1 && d <= 3600)) {
				fprintf(stderr, "p2pl-top: -d: want seconds "
				    "from 0.1 to 3600\n");
				return EXIT_USAGE;
			}
			t.interval = (uint64_t)(d * 1e6);
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end != '\0' || iterations < 1 ||
			    iterations > 1000000000) {
				fprintf(stderr, "p2pl-top: -n: want a count "
				    "from 1\n");
				return EXIT_USAGE;
			}
			break;
		case 'N':
			mode = P2PL_TOPVIEW_PEERS;
			break;
		case 'P':
			mode = P2PL_TOPVIEW_PROCS;
			break;
		case 'V':
			p2pl_prog_version("p2pl-top");
		case 'h':
			usage(0);
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((t.w = p2pl_topsource_new()) == NULL)
		die("out of memory");
	if (argc == 0 && p2pl_topsource_add(t.w, "", err, sizeof(err)) == -1)
		die("%s", err);
	for (int i = 0; i < argc; i++)
		if (p2pl_topsource_add(t.w, argv[i], err, sizeof(err)) == -1)
			die("%s", err);
	/* one process or relay: its neighbours; else the processes (and
	 * for a /metrics page, which lists no neighbours) */
	t.mode = mode != -1 ? mode : argc == 1 && strcmp(argv[0], "-") != 0 &&
	    !p2pl_topsource_metrics_url(argv[0]) ? P2PL_TOPVIEW_PEERS : P2PL_TOPVIEW_PROCS;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(restore);
	if (iterations > 0)
		rc = batch(&t, iterations);
	else if (start_curses(&t) == 0)
		rc = interactive(&t);
	else {
		fprintf(stderr, "p2pl-top: no terminal to draw on; printing "
		    "snapshots (see -n)\n");
		rc = batch(&t, 0);
	}
	restore();
	p2pl_topsource_free(t.w);
	return rc;
}
