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

#include "top.h"

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
		p2pl_top_draw(t);
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
