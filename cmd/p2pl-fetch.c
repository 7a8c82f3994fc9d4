/* p2pl-fetch - watch a p2pl stream: verified media in order on stdout. */
#include "httpd.h"
#include "metrics.h"
#include "net.h"
#include "mediaout.h"
#include "player.h"
#include "prog.h"
#include "statline.h"
#include "uri.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3
#define EXIT_PLAYER 4
#define OUT_CAP (2 * 1024 * 1024)
#define OUT_LAG 2000000		/* µs, beyond the latency */

struct fetch {
	struct event_base *base;
	struct p2pl_net *net;
	struct p2pl_mediaout *out;	/* to stdout or the player; NULL: record only */
	struct p2pl_mediaout *rec;	/* -r */
	struct p2pl_httpd *http;	/* --http */
	int null_fd;		/* --http alone: the playout to /dev/null */
	struct p2pl_player player;
	const char *player_cmd, *recpath;
	int player_ended;	/* it exited or closed its input by itself */
	int player_status;	/* its wait status, once reaped */
	int rec_fd, rec_failed;
	FILE *stats;
	char key[P2PL_KEY_B32LEN + 1];
	uint64_t timeout, started, last_piece;
	uint64_t latency;	/* --latency, µs */
	double p50, p99;	/* delays over the last second, -1: none */
	int frames;		/* --frames: pieces as they are */
	int has_secret;		/* the URI's secret= */
	uint8_t secret[32];
	int said_private;
	uint64_t down;		/* -d, bytes per second; 0: no cap */
	uint16_t port;		/* where it listens */
	int status;
};

static const char shortopts[] = "d:hl:p:qr:u:vV";
static const struct option longopts[] = {
	{ "download", required_argument, NULL, 'd' },
	{ "frames", no_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "http", required_argument, NULL, 'H' },
	{ "latency", required_argument, NULL, 'L' },
	{ "listen", required_argument, NULL, 'l' },
	{ "player", required_argument, NULL, 'p' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "record", required_argument, NULL, 'r' },
	{ "relay-only", no_argument, NULL, 'R' },
	{ "stats", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "upload", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	P2PL_PROG_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: p2pl-fetch [-qVv] [--frames] [--relay-only] [-d RATE] "
	    "[-l [HOST:]PORT]\n"
	    "                  [-p CMD] [-r FILE] [-u RATE] [--config FILE] "
	    "[--http [HOST:]PORT]\n"
	    "                  [--latency SECONDS] [--no-config] "
	    "[--stats FILE|-]\n"
	    "                  [--timeout SECONDS] URI\n");
	if (status == 0)
		p2pl_prog_help(longopts);
	exit(status);
}

static void
on_piece(void *arg, struct p2pl_piece *p)
{
	struct fetch *f = arg;
	struct p2pl_piece *q = NULL, *media = p;

	f->last_piece = p2pl_wall_us();
	if (p->flags & P2PL_PIECE_SECRET) {
		/* without the secret: carried and checked for others */
		if (!f->has_secret && !f->frames) {
			if (!f->said_private && p2pl_verbosity >= P2PL_LOG_WARN)
				fprintf(stderr, "p2pl-fetch: the stream is "
				    "private and the uri has no secret: passing "
				    "it on, playing nothing\n");
			f->said_private = 1;
		}
		q = f->has_secret ? p2pl_piece_opened(p, f->secret) : NULL;
		media = q;
	}
	/* --frames writes the pieces as they are, the rest the media */
	if (f->out != NULL && (f->frames || media != NULL))
		p2pl_mediaout_piece(f->out, f->frames ? p : media);
	if (f->rec != NULL && (f->frames || media != NULL))
		p2pl_mediaout_piece(f->rec, f->frames ? p : media);
	if (f->http != NULL && media != NULL)
		p2pl_httpd_piece(f->http, media);
	if (q != NULL)
		p2pl_piece_unref(q);
}

static void
on_out_error(void *arg, int e)
{
	struct fetch *f = arg;

	/* the player went away: a normal end, said nothing */
	if (e != EPIPE) {
		fprintf(stderr, "p2pl-fetch: write to %s: %s\n",
		    f->player_cmd ? "the player" : "stdout", strerror(e));
		f->status = 1;
	} else if (f->player_cmd != NULL)
		f->player_ended = 1;
	event_base_loopbreak(f->base);
}

/* A failed recording stops; watching goes on, and the exit status says. */
static void
on_rec_error(void *arg, int e)
{
	struct fetch *f = arg;

	fprintf(stderr, "p2pl-fetch: -r %s: %s; recording stopped\n",
	    f->recpath, strerror(e));
	f->rec_failed = 1;
	if (f->out == NULL)
		event_base_loopbreak(f->base);
}

/* SIGCHLD: the player exited; its status decides p2pl-fetch's. */
static void
on_child(evutil_socket_t sig, short what, void *arg)
{
	struct fetch *f = arg;

	(void)sig;
	(void)what;
	if (p2pl_player_poll(&f->player, &f->player_status)) {
		f->player_ended = 1;
		event_base_loopbreak(f->base);
	}
}

/* The stats line (no newline); its length, or -1 if it does not fit. */
static long
stats_line(struct fetch *f, char *line, size_t size)
{
	struct p2pl_mediaout_stats *os = p2pl_mediaout_stats(f->out ? f->out : f->rec);
	struct p2pl_node *n = p2pl_net_node(f->net);
	struct p2pl_node_stats ns;
	struct p2pl_json j;

	p2pl_node_stats(n, &ns);
	p2pl_json_open(&j, line, size);
	p2pl_prog_stats_head(&j, f->key);
	p2pl_json_u64(&j, "pieces", os->pieces);
	p2pl_json_u64(&j, "bytes", os->bytes);
	p2pl_json_u64(&j, "skipped", ns.skipped + os->dropped);
	p2pl_json_num(&j, "delay_p50", f->p50);
	p2pl_json_num(&j, "delay_p99", f->p99);
	p2pl_json_num(&j, "delay_p50_all", p2pl_hist_quantile(&os->total, .5));
	p2pl_json_num(&j, "delay_p99_all", p2pl_hist_quantile(&os->total, .99));
	p2pl_json_num(&j, "delay_max", (double)os->all.max / 1e6);
	p2pl_json_loghist(&j, "delay_hist", &os->all);
	p2pl_json_num(&j, "startup", os->first_byte == 0 ? -1 :
	    (double)(os->first_byte - f->started) / 1e6);
	p2pl_json_num(&j, "latency", (double)f->latency / 1e6);
	p2pl_json_u64(&j, "listen", f->port);
	if (f->http != NULL)
		p2pl_httpd_json(f->http, &j);
	p2pl_statline_node(&j, n);
	return p2pl_json_close(&j);
}

static void
write_stats(struct fetch *f)
{
	static char line[P2PL_STATLINE_MAX];

	if (stats_line(f, line, sizeof(line)) > 0)
		fprintf(f->stats, "%s\n", line);
}

/* A control socket client: the line as it stands. */
static void
ctl_stats(void *arg, struct evbuffer *out)
{
	static char line[P2PL_STATLINE_MAX];

	if (stats_line(arg, line, sizeof(line)) > 0)
		evbuffer_add_printf(out, "%s\n", line);
}

static void
on_second(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	struct p2pl_mediaout_stats *os = p2pl_mediaout_stats(f->out ? f->out : f->rec);
	uint64_t now = p2pl_wall_us(), since;

	(void)fd;
	(void)what;
	/* the delays of the second just ended, for every reader */
	f->p50 = p2pl_hist_quantile(&os->interval, .5);
	f->p99 = p2pl_hist_quantile(&os->interval, .99);
	p2pl_hist_reset(&os->interval);
	if (f->stats != NULL)
		write_stats(f);
	since = f->last_piece ? f->last_piece : f->started;
	if (f->timeout > 0 && now > since + f->timeout) {
		fprintf(stderr, "p2pl-fetch: no stream data for %.1f s; giving up\n",
		    (double)f->timeout / 1e6);
		f->status = EXIT_TIMEOUT;
		event_base_loopbreak(f->base);
	}
}

/*
 * Open the outputs: the player's pipe or stdout (unless only recording),
 * and the -r file.  -1 with f->status set.
 */
static int
open_outputs(struct fetch *f, int to_stdout)
{
	char err[P2PL_ERRLEN];
	int fd;

	if (f->player_cmd != NULL) {
		if (p2pl_player_start(f->player_cmd, &f->player, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "p2pl-fetch: -p: %s\n", err);
			f->status = EXIT_PLAYER;
			return -1;
		}
		f->out = p2pl_mediaout_new(f->base, f->player.fd, OUT_CAP,
		    on_out_error, f);
	} else if (to_stdout)
		f->out = p2pl_mediaout_new(f->base, STDOUT_FILENO, OUT_CAP,
		    on_out_error, f);
	else if (f->http != NULL && f->recpath == NULL) {
		/* served over HTTP only: the stats still count the playout */
		if ((f->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
			fprintf(stderr, "p2pl-fetch: /dev/null: %s\n",
			    strerror(errno));
			f->status = 1;
			return -1;
		}
		f->out = p2pl_mediaout_new(f->base, f->null_fd, OUT_CAP,
		    on_out_error, f);
	}
	if ((f->player_cmd != NULL || to_stdout || f->null_fd != -1) &&
	    f->out == NULL)
		goto nomem;
	if (f->recpath == NULL)
		return 0;
	fd = open(f->recpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1) {
		fprintf(stderr, "p2pl-fetch: -r %s: %s\n", f->recpath,
		    strerror(errno));
		f->status = 1;
		return -1;
	}
	f->rec_fd = fd;
	f->rec = p2pl_mediaout_new(f->base, fd, OUT_CAP, on_rec_error, f);
	if (f->rec == NULL) {
		close(fd);
		goto nomem;
	}
	return 0;
nomem:
	fprintf(stderr, "p2pl-fetch: out of memory\n");
	f->status = 1;
	return -1;
}

/* After the loop: end the player (stop it unless it ended) and the file. */
static void
close_outputs(struct fetch *f)
{
	int st;

	p2pl_mediaout_free(f->out);
	f->out = NULL;
	if (f->null_fd != -1)
		close(f->null_fd);
	if (f->player.pid > 0 || f->player.fd != -1) {
		st = p2pl_player_stop(&f->player, !f->player_ended);
		if (f->player_ended && st != -1)
			f->player_status = st;
	}
	if (f->player_ended && f->status == 0 &&
	    !(WIFEXITED(f->player_status) && WEXITSTATUS(f->player_status) == 0))
		f->status = EXIT_PLAYER;
	if (f->rec != NULL) {
		close(f->rec_fd);
		p2pl_mediaout_free(f->rec);
		f->rec = NULL;
	}
	if (f->rec_failed && f->status == 0)
		f->status = 1;
}

/* GET /metrics of --http: the node's figures, delays to the player. */
static long
http_metrics(void *arg, struct evbuffer *b)
{
	struct fetch *f = arg;
	struct p2pl_metrics_stream m;
	static char text[P2PL_METRICS_MAX(1)];
	long len;

	p2pl_metrics_stream_init(&m, f->key, p2pl_net_node(f->net));
	m.prog = "p2pl-fetch";
	m.pid = (long)getpid();
	m.delays = &p2pl_mediaout_stats(f->out ? f->out : f->rec)->all;
	len = p2pl_metrics_render(&m, 1, text, sizeof(text));
	return len < 0 || evbuffer_add(b, text, (size_t)len) == -1 ? -1 : len;
}

/* --http ADDR: serve the stream; -1 with f->status set. */
static int
start_http(struct fetch *f, const char *addr)
{
	struct p2pl_httpd_cb cb = { f, p2pl_prog_log, http_metrics };
	struct p2pl_addr a, bound;
	char err[P2PL_ERRLEN];

	if (p2pl_addr_parse(addr, "", 1, &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-fetch: --http: %s\n", err);
		f->status = EXIT_USAGE;
		return -1;
	}
	f->http = p2pl_httpd_new(f->base, &a, &cb, &bound, err, sizeof(err));
	if (f->http == NULL) {
		fprintf(stderr, "p2pl-fetch: --http: %s\n", err);
		f->status = 1;
		return -1;
	}
	if (p2pl_verbosity >= P2PL_LOG_INFO)
		fprintf(stderr, "p2pl-fetch: serving http on port %u\n",
		    bound.port);
	return 0;
}

static int
fetch(struct fetch *f, const struct p2pl_uri *u, struct p2pl_node_cfg *cfg,
    const char *listen, const char *http, int frames, int to_stdout)
{
	struct p2pl_net_cb cb = { f, p2pl_prog_log, on_piece };
	struct event *sec, *sigs[2], *chld = NULL;
	struct p2pl_ctl *ctl;
	struct timeval one = { 1, 0 };
	struct p2pl_addr la, bound;
	char err[P2PL_ERRLEN];
	uint8_t hello[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	struct p2pl_hello h = { .version = P2PL_VERSION,
	    .role = P2PL_ROLE_VIEWER };
	size_t hlen;
	int i;

	f->player.pid = 0;
	f->player.fd = -1;
	f->base = event_base_new();
	if (f->base == NULL)
		return 1;
	if (listen != NULL && p2pl_addr_parse(listen, "", 1, &la, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-fetch: -l: %s\n", err);
		f->status = EXIT_USAGE;
		goto done;
	}
	/* the player's exit is seen from the loop, before it is started */
	if (f->player_cmd != NULL) {
		chld = evsignal_new(f->base, SIGCHLD, on_child, f);
		if (chld == NULL || event_add(chld, NULL) == -1) {
			fprintf(stderr, "p2pl-fetch: out of memory\n");
			f->status = 1;
			goto done;
		}
	}
	f->net = p2pl_net_new(f->base, cfg, &cb, err, sizeof(err));
	if (f->net == NULL) {
		fprintf(stderr, "p2pl-fetch: %s\n", err);
		f->status = 1;
		goto done;
	}
	if (listen != NULL && p2pl_net_listen(f->net, &la, &bound, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-fetch: %s\n", err);
		f->status = 1;
		goto done;
	}
	f->port = bound.port;
	if (http != NULL && start_http(f, http) == -1)
		goto done;
	f->frames = frames;
	f->has_secret = u->has_secret;
	memcpy(f->secret, u->secret, sizeof(f->secret));
	if (open_outputs(f, to_stdout) == -1)
		goto done;
	/* a paused player resumes at most this far behind live */
	if (f->out != NULL)
		p2pl_mediaout_set_lag(f->out, cfg->latency + OUT_LAG);
	if (frames) {
		memcpy(h.key, u->key, P2PL_KEYLEN);
		hlen = p2pl_wire_hello(hello, &h);
		p2pl_mediaout_raw(f->out, hello, hlen);
		p2pl_mediaout_set_frames(f->out, 1);
		if (f->rec != NULL) {
			p2pl_mediaout_raw(f->rec, hello, hlen);
			p2pl_mediaout_set_frames(f->rec, 1);
		}
	}
	for (i = 0; i < u->npeers; i++)
		p2pl_net_add_seed(f->net, &u->peers[i]);
	for (i = 0; !cfg->relay_only && i < u->ntrackers; i++)
		if (p2pl_net_add_tracker(f->net, u->trackers[i], err,
		    sizeof(err)) == -1)
			fprintf(stderr, "p2pl-fetch: tracker %s: %s\n",
			    u->trackers[i], err);
	if (f->down > 0 && p2pl_net_set_download(f->net, f->down) == -1) {
		fprintf(stderr, "p2pl-fetch: -d: out of memory\n");
		f->status = 1;
		goto done;
	}
	sec = event_new(f->base, -1, EV_PERSIST, on_second, f);
	p2pl_prog_signals(f->base, sigs);
	event_add(sec, &one);
	ctl = p2pl_prog_ctl(f->base, ctl_stats, f);
	f->started = p2pl_wall_us();
	f->latency = cfg->latency;
	/* the player may have quit at once, before the loop could see it */
	if (!p2pl_player_poll(&f->player, &f->player_status))
		event_base_dispatch(f->base);
	else
		f->player_ended = 1;
	p2pl_ctl_free(ctl);
	event_free(sec);
	p2pl_prog_signals_free(sigs);
done:
	p2pl_httpd_free(f->http);
	p2pl_net_free(f->net);
	close_outputs(f);
	if (chld != NULL)
		event_free(chld);
	event_base_free(f->base);
	return f->status;
}

int
main(int argc, char *argv[])
{
	struct p2pl_node_cfg cfg = { .role = P2PL_ROLE_VIEWER, .play = 1,
	    .latency = 1000000 };
	struct fetch f = { .p50 = -1, .p99 = -1, .null_fd = -1 };
	struct p2pl_rate down = { .kind = P2PL_RATE_UNLIMITED };
	struct p2pl_uri u;
	char err[P2PL_ERRLEN];
	const char *listen = "0", *stats = NULL, *http = NULL;
	int listen_set = 0;
	int ch, frames = 0, to_stdout;

	signal(SIGPIPE, SIG_IGN);
	if (p2pl_prog_config("p2pl-fetch", shortopts, longopts, &argc,
	    &argv) == -1)
		return EXIT_USAGE;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			if (p2pl_rate_parse(optarg, &down, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "p2pl-fetch: -d: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			frames = 1;
			break;
		case 'L':
			if (p2pl_prog_seconds(optarg, 60, &cfg.latency) == -1 ||
			    cfg.latency < 50000) {
				fprintf(stderr, "p2pl-fetch: --latency: want "
				    "seconds from 0.05 to 60\n");
				return EXIT_USAGE;
			}
			break;
		case 'l':
			listen = optarg;
			listen_set = 1;
			break;
		case 'p':
			f.player_cmd = optarg;
			break;
		case 'q':
			p2pl_verbosity = -1;
			break;
		case 'R':
			cfg.relay_only = 1;
			break;
		case 'r':
			f.recpath = optarg;
			break;
		case 'S':
			stats = optarg;
			break;
		case 'T':
			if (p2pl_prog_seconds(optarg, 1e6, &f.timeout) == -1) {
				fprintf(stderr, "p2pl-fetch: --timeout: want "
				    "seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'u':
			if (p2pl_rate_parse(optarg, &cfg.up, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "p2pl-fetch: -u: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			p2pl_verbosity++;
			break;
		case 'V':
			p2pl_prog_version("p2pl-fetch");
		case P2PL_OPT_CONFIG:
		case P2PL_OPT_NO_CONFIG:
			break;	/* read by p2pl_prog_config() */
		case 'H':
			http = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(EXIT_USAGE);
	if (p2pl_uri_parse(argv[0], &u, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-fetch: %s\n", err);
		return EXIT_USAGE;
	}
	if (u.npeers == 0 && u.ntrackers == 0) {
		fprintf(stderr, "p2pl-fetch: uri names no peer and no tracker\n");
		return EXIT_USAGE;
	}
	if (cfg.relay_only) {
		if (listen_set) {
			fprintf(stderr, "p2pl-fetch: --relay-only does not "
			    "listen: -l makes no sense with it\n");
			return EXIT_USAGE;
		}
		if (u.npeers == 0) {
			fprintf(stderr, "p2pl-fetch: --relay-only needs the uri "
			    "to name peers (relays or the publisher)\n");
			return EXIT_USAGE;
		}
		listen = NULL;
	}
	if (f.player_cmd != NULL && frames) {
		fprintf(stderr, "p2pl-fetch: -p: a player cannot play "
		    "--frames\n");
		return EXIT_USAGE;
	}
	if (f.recpath != NULL && (f.recpath[0] == '\0' ||
	    strcmp(f.recpath, "-") == 0)) {
		fprintf(stderr, "p2pl-fetch: -r: want a file name\n");
		return EXIT_USAGE;
	}
	/* media on stdout unless a player takes it or, on a terminal, -r
	 * or --http */
	to_stdout = f.player_cmd == NULL && (frames ||
	    !isatty(STDOUT_FILENO));
	if (f.player_cmd == NULL && !to_stdout && f.recpath == NULL &&
	    http == NULL) {
		fprintf(stderr, "p2pl-fetch: stdout is a terminal; pipe it "
		    "into a player, e.g. | mpv -, or use -p mpv\n");
		return EXIT_USAGE;
	}
	if (stats != NULL && (f.stats = p2pl_prog_stats_open(stats, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "p2pl-fetch: --stats: %s\n", err);
		return EXIT_USAGE;
	}
	if (down.kind == P2PL_RATE_MULT) {
		fprintf(stderr, "p2pl-fetch: -d: want a rate in bits per "
		    "second, not a multiple\n");
		return EXIT_USAGE;
	}
	if (down.kind == P2PL_RATE_FIXED)
		f.down = down.bps / 8 > 0 ? down.bps / 8 : 1;
	memcpy(cfg.key, u.key, P2PL_KEYLEN);
	p2pl_base32_encode(u.key, P2PL_KEYLEN, f.key, sizeof(f.key));
	return fetch(&f, &u, &cfg, listen, http, frames, to_stdout);
}
