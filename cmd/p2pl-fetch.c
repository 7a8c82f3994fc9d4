/* p2pl-fetch - watch a p2pl stream: verified media in order on stdout. */
#include "net.h"
#include "out.h"
#include "prog.h"
#include "report.h"
#include "uri.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3
#define OUT_CAP (2 * 1024 * 1024)
#define OUT_LAG 2000000		/* µs, beyond the latency */

struct fetch {
	struct event_base *base;
	struct p2pl_net *net;
	struct p2pl_out *out;
	FILE *stats;
	char key[P2PL_KEY_B32LEN + 1];
	uint64_t timeout, started, last_piece;
	uint64_t latency;	/* --latency, µs */
	uint64_t down;		/* -d, bytes per second; 0: no cap */
	uint16_t port;		/* where it listens */
	int status;
};

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: p2pl-fetch [-qv] [--frames] [-d RATE] [-l [HOST:]PORT] "
	    "[-u RATE]\n"
	    "                  [--latency SECONDS] [--stats FILE|-] "
	    "[--timeout SECONDS] URI\n");
	exit(status);
}

static void
on_piece(void *arg, struct p2pl_piece *p)
{
	struct fetch *f = arg;

	f->last_piece = p2pl_wall_us();
	p2pl_out_piece(f->out, p);
}

static void
on_out_error(void *arg, int e)
{
	struct fetch *f = arg;

	/* the player went away: a normal end, said nothing */
	if (e != EPIPE) {
		fprintf(stderr, "p2pl-fetch: write to stdout: %s\n",
		    strerror(e));
		f->status = 1;
	}
	event_base_loopbreak(f->base);
}

/* The stats line (no newline); its length, or -1 if it does not fit. */
static long
stats_line(struct fetch *f, char *line, size_t size)
{
	struct p2pl_out_stats *os = p2pl_out_stats(f->out);
	struct p2pl_node *n = p2pl_net_node(f->net);
	struct p2pl_node_stats ns;
	struct p2pl_json j;

	p2pl_node_stats(n, &ns);
	p2pl_json_open(&j, line, size);
	p2pl_prog_stats_head(&j, f->key);
	p2pl_json_u64(&j, "pieces", os->pieces);
	p2pl_json_u64(&j, "bytes", os->bytes);
	p2pl_json_u64(&j, "skipped", ns.skipped + os->dropped);
	p2pl_json_num(&j, "delay_p50", p2pl_hist_quantile(&os->interval, .5));
	p2pl_json_num(&j, "delay_p99", p2pl_hist_quantile(&os->interval, .99));
	p2pl_json_num(&j, "delay_p50_all", p2pl_hist_quantile(&os->total, .5));
	p2pl_json_num(&j, "delay_p99_all", p2pl_hist_quantile(&os->total, .99));
	p2pl_json_num(&j, "startup", os->first_byte == 0 ? -1 :
	    (double)(os->first_byte - f->started) / 1e6);
	p2pl_json_num(&j, "latency", (double)f->latency / 1e6);
	p2pl_json_u64(&j, "listen", f->port);
	p2pl_report_node(&j, n);
	return p2pl_json_close(&j);
}

static void
write_stats(struct fetch *f)
{
	static char line[P2PL_REPORT_MAX];

	if (stats_line(f, line, sizeof(line)) > 0)
		fprintf(f->stats, "%s\n", line);
	p2pl_hist_reset(&p2pl_out_stats(f->out)->interval);
}

/* A control socket client: the line as it stands, interval not reset. */
static void
ctl_stats(void *arg, struct evbuffer *out)
{
	static char line[P2PL_REPORT_MAX];

	if (stats_line(arg, line, sizeof(line)) > 0)
		evbuffer_add_printf(out, "%s\n", line);
}

static void
on_second(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	uint64_t now = p2pl_wall_us(), since;

	(void)fd;
	(void)what;
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

static int
fetch(struct fetch *f, const struct p2pl_uri *u, struct p2pl_node_cfg *cfg,
    const char *listen, int frames)
{
	struct p2pl_net_cb cb = { f, p2pl_prog_log, on_piece };
	struct event *sec, *sigs[2];
	struct p2pl_ctl *ctl;
	struct timeval one = { 1, 0 };
	struct p2pl_addr la, bound;
	char err[P2PL_ERRLEN];
	uint8_t hello[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	struct p2pl_hello h = { .version = P2PL_VERSION,
	    .role = P2PL_ROLE_VIEWER };
	int i;

	f->base = event_base_new();
	if (f->base == NULL)
		return 1;
	f->out = p2pl_out_new(f->base, STDOUT_FILENO, OUT_CAP, on_out_error, f);
	/* a paused player resumes at most this far behind live */
	if (f->out != NULL)
		p2pl_out_set_lag(f->out, cfg->latency + OUT_LAG);
	if (listen != NULL && p2pl_addr_parse(listen, "", 1, &la, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-fetch: -l: %s\n", err);
		f->status = EXIT_USAGE;
		goto done;
	}
	f->net = p2pl_net_new(f->base, cfg, &cb, err, sizeof(err));
	if (f->out == NULL || f->net == NULL) {
		fprintf(stderr, "p2pl-fetch: %s\n", f->net ? "out of memory" : err);
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
	if (frames) {
		memcpy(h.key, u->key, P2PL_KEYLEN);
		p2pl_out_raw(f->out, hello, p2pl_wire_hello(hello, &h));
		p2pl_out_set_frames(f->out, 1);
	}
	for (i = 0; i < u->npeers; i++)
		p2pl_net_add_seed(f->net, &u->peers[i]);
	for (i = 0; i < u->ntrackers; i++)
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
	event_base_dispatch(f->base);
	p2pl_ctl_free(ctl);
	event_free(sec);
	p2pl_prog_signals_free(sigs);
done:
	p2pl_net_free(f->net);
	p2pl_out_free(f->out);
	event_base_free(f->base);
	return f->status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "download", required_argument, NULL, 'd' },
		{ "frames", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "latency", required_argument, NULL, 'L' },
		{ "listen", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "stats", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "upload", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct p2pl_node_cfg cfg = { .role = P2PL_ROLE_VIEWER, .play = 1,
	    .latency = 1000000 };
	struct fetch f = { 0 };
	struct p2pl_rate down = { .kind = P2PL_RATE_UNLIMITED };
	struct p2pl_uri u;
	char err[P2PL_ERRLEN];
	const char *listen = "0", *stats = NULL;
	int ch, frames = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "d:hl:qu:v", longopts, NULL)) != -1) {
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
			break;
		case 'q':
			p2pl_verbosity = -1;
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
	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "p2pl-fetch: stdout is a terminal; pipe it "
		    "into a player, e.g. | mpv -\n");
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
	return fetch(&f, &u, &cfg, listen, frames);
}
