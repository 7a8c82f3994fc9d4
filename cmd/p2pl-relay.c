/* p2pl-relay - an always-on peer with a big upload, and a tracker. */
#include "portshare.h"
#include "metrics.h"
#include "prog.h"
#include "statline.h"
#include "jsonwrite.h"
#include "trackd.h"
#include "uri.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_NET 4
#define STREAMS_MAX 16

struct stream {
	struct p2pl_net *net;
	uint8_t key[P2PL_KEYLEN];
	char keystr[P2PL_KEY_B32LEN + 1];
};

struct relay {
	struct event_base *base;
	struct p2pl_portshare *hub;
	struct evhttp *http;
	struct p2pl_trackd *trackd;
	struct p2pl_node_cfg cfg;
	struct p2pl_addr bound, http_bound;
	char announce[P2PL_TRACKER_MAX];	/* our own tracker's url, or "" */
	struct stream streams[STREAMS_MAX];
	int nstreams;
	/* -i -: a frame stream on stdin */
	struct event *in_ev;
	struct evbuffer *in;
	struct stream *in_stream;
	uint64_t in_bad;		/* its pieces that failed the check */
	FILE *stats;
	int status;
};

static const char shortopts[] = "hi:l:qu:vV";
static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "http", required_argument, NULL, 'H' },
	{ "input", required_argument, NULL, 'i' },
	{ "listen", required_argument, NULL, 'l' },
	{ "max-peers", required_argument, NULL, 'N' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "stats", required_argument, NULL, 'S' },
	{ "tracker", no_argument, NULL, 'T' },
	{ "upload", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	P2PL_PROG_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: p2pl-relay [-qVv] [-i -] [-l [HOST:]PORT] [-u RATE] "
	    "[--config FILE]\n"
	    "                  [--http [HOST:]PORT] [--max-peers N] "
	    "[--no-config]\n"
	    "                  [--stats FILE|-] [--tracker] [URI ...]\n");
	if (status == 0)
		p2pl_prog_help(longopts);
	exit(status);
}

/* Print the URI viewers use to reach a stream through this relay. */
static void
print_uri(struct relay *r, const struct stream *s)
{
	struct p2pl_uri u;
	char uri[P2PL_URI_MAX];

	memset(&u, 0, sizeof(u));
	memcpy(u.key, s->key, P2PL_KEYLEN);
	u.peers[u.npeers++] = r->bound;
	if (strcmp(u.peers[0].host, "0.0.0.0") == 0 || u.peers[0].host[0] == '\0')
		snprintf(u.peers[0].host, sizeof(u.peers[0].host), "127.0.0.1");
	if (r->announce[0] != '\0')
		snprintf(u.trackers[u.ntrackers++], P2PL_TRACKER_MAX, "%s",
		    r->announce);
	if (p2pl_uri_format(&u, uri, sizeof(uri)) > 0) {
		printf("%s\n", uri);
		fflush(stdout);
	}
}

static struct stream *
add_stream(struct relay *r, const uint8_t key[P2PL_KEYLEN])
{
	struct p2pl_net_cb cb = { r, p2pl_prog_log, NULL };
	struct stream *s;
	char err[P2PL_ERRLEN];
	uint8_t id[20];

	if (r->nstreams == STREAMS_MAX) {
		fprintf(stderr, "p2pl-relay: at most %d streams\n", STREAMS_MAX);
		return NULL;
	}
	for (int i = 0; i < r->nstreams; i++)
		if (memcmp(r->streams[i].key, key, P2PL_KEYLEN) == 0) {
			fprintf(stderr, "p2pl-relay: stream %s given twice\n",
			    r->streams[i].keystr);
			return NULL;
		}
	s = &r->streams[r->nstreams];
	memcpy(s->key, key, P2PL_KEYLEN);
	memcpy(r->cfg.key, key, P2PL_KEYLEN);
	p2pl_base32_encode(key, P2PL_KEYLEN, s->keystr, sizeof(s->keystr));
	s->net = p2pl_net_new(r->base, &r->cfg, &cb, err, sizeof(err));
	if (s->net == NULL || p2pl_portshare_add(r->hub, key, s->net) == -1) {
		fprintf(stderr, "p2pl-relay: %s\n", s->net ? "too many streams on one port" : err);
		p2pl_net_free(s->net);
		return NULL;
	}
	r->nstreams++;
	p2pl_net_set_port(s->net, r->bound.port);
	p2pl_swarm_id(key, id);
	if (r->trackd != NULL)
		p2pl_trackd_allow(r->trackd, id);
	/* our own tracker lists us too, so viewers who ask it find us */
	if (r->announce[0] != '\0' &&
	    p2pl_net_add_tracker(s->net, r->announce, err, sizeof(err)) == -1)
		fprintf(stderr, "p2pl-relay: %s\n", err);
	print_uri(r, s);
	return s;
}

static int
join_uri(struct relay *r, const char *arg)
{
	struct p2pl_uri u;
	struct stream *s;
	char err[P2PL_ERRLEN];
	int i;

	if (p2pl_uri_parse(arg, &u, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-relay: %s\n", err);
		return -1;
	}
	if ((s = add_stream(r, u.key)) == NULL)
		return -1;
	for (i = 0; i < u.npeers; i++)
		p2pl_net_add_seed(s->net, &u.peers[i]);
	for (i = 0; i < u.ntrackers; i++)
		if (p2pl_net_add_tracker(s->net, u.trackers[i], err,
		    sizeof(err)) == -1)
			fprintf(stderr, "p2pl-relay: tracker %s: %s\n",
			    u.trackers[i], err);
	return 0;
}

/* One message of the frame stream: a HELLO first, then pieces. */
static int
frame(struct relay *r, uint8_t type, const uint8_t *body, size_t len)
{
	struct p2pl_hello h;
	struct p2pl_piece *p;
	char err[P2PL_ERRLEN];

	if (r->in_stream == NULL) {
		if (type != P2PL_MSG_HELLO || p2pl_wire_parse_hello(body, len,
		    &h, err, sizeof(err)) == -1) {
			fprintf(stderr, "p2pl-relay: stdin: not a p2pl frame "
			    "stream\n");
			return -1;
		}
		r->in_stream = add_stream(r, h.key);
		return r->in_stream == NULL ? -1 : 0;
	}
	if (type != P2PL_MSG_PIECE)
		return 0;
	p = p2pl_piece_verify(r->in_stream->key, body, len, err, sizeof(err));
	if (p == NULL) {
		/* the stream goes on without it: its viewers keep the rest */
		r->in_bad++;
		fprintf(stderr, "p2pl-relay: stdin: %s; piece dropped (%llu "
		    "so far)\n", err, (unsigned long long)r->in_bad);
		return 0;
	}
	p2pl_net_publish(r->in_stream->net, p);
	return 0;
}

static void
on_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	const uint8_t *body;
	char err[P2PL_ERRLEN];
	size_t len, have;
	uint8_t type;
	long n;
	int rd;

	(void)what;
	rd = evbuffer_read(r->in, fd, 65536);
	if (rd == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	for (;;) {
		have = evbuffer_get_length(r->in);
		n = p2pl_wire_next(evbuffer_pullup(r->in, (ssize_t)have), have,
		    &type, &body, &len, err, sizeof(err));
		if (n == 0)
			break;
		if (n < 0) {
			/* no message boundary to go on from: stop reading, and
			 * serve what we hold as at the stream's end */
			fprintf(stderr, "p2pl-relay: stdin: %s; no longer "
			    "read\n", err);
			event_del(r->in_ev);
			return;
		}
		if (frame(r, type, body, len) == -1) {
			r->status = 1;
			event_base_loopbreak(r->base);
			return;
		}
		evbuffer_drain(r->in, (size_t)n);
	}
	if (rd < 0)
		fprintf(stderr, "p2pl-relay: stdin: %s\n", strerror(errno));
	else if (rd == 0 && p2pl_verbosity >= P2PL_LOG_WARN)
		fprintf(stderr, "p2pl-relay: stdin: end of the frame stream%s\n",
		    evbuffer_get_length(r->in) > 0 ? " (its last message cut "
		    "short)" : "");
	if (rd <= 0)	/* the publisher ended: go on serving what we hold */
		event_del(r->in_ev);
}

/* The stats line of stream i (without a newline); its length or -1. */
static long
stream_line(const struct relay *r, int i, char *line, size_t size)
{
	struct p2pl_node *n = p2pl_net_node(r->streams[i].net);
	struct p2pl_node_stats ns;
	struct p2pl_json j;

	p2pl_node_stats(n, &ns);
	p2pl_json_open(&j, line, size);
	p2pl_prog_stats_head(&j, r->streams[i].keystr);
	p2pl_json_u64(&j, "pieces", ns.pieces_in + ns.made);
	if (&r->streams[i] == r->in_stream)
		p2pl_json_u64(&j, "input_bad", r->in_bad);
	p2pl_statline_node(&j, n);
	return p2pl_json_close(&j);
}

/* Every stream's stats line, each ended by a newline. */
static void
stats_lines(void *arg, struct evbuffer *out)
{
	const struct relay *r = arg;
	static char line[P2PL_STATLINE_MAX];

	for (int i = 0; i < r->nstreams; i++)
		if (stream_line(r, i, line, sizeof(line)) > 0)
			evbuffer_add_printf(out, "%s\n", line);
}

static void
on_second(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct evbuffer *b = evbuffer_new();

	(void)fd;
	(void)what;
	if (b == NULL)
		return;
	stats_lines(r, b);
	fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), r->stats);
	fflush(r->stats);
	evbuffer_free(b);
}

/* GET /stats: the stats lines of every stream, as JSON lines. */
static void
on_http_stats(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL)
		return;
	stats_lines(arg, out);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-ndjson");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/* GET /metrics: every stream's stats for Prometheus (p2pl-relay(1)). */
static void
on_http_metrics(struct evhttp_request *req, void *arg)
{
	const struct relay *r = arg;
	static struct p2pl_metrics_stream ms[STREAMS_MAX];
	static char text[P2PL_METRICS_MAX(STREAMS_MAX)];
	struct evbuffer *out;
	long len;

	for (int i = 0; i < r->nstreams; i++) {
		p2pl_metrics_stream_init(&ms[i], r->streams[i].keystr,
		    p2pl_net_node(r->streams[i].net));
		ms[i].prog = "p2pl-relay";
		ms[i].pid = (long)getpid();
	}
	len = p2pl_metrics_render(ms, r->nstreams, text, sizeof(text));
	if (len < 0 || (out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "metrics do not fit");
		return;
	}
	evbuffer_add(out, text, (size_t)len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static int
start_http(struct relay *r, const char *addr, int tracker)
{
	struct p2pl_trackd_cfg tcfg = { 0 };
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char err[P2PL_ERRLEN];
	struct p2pl_addr a;

	if (p2pl_addr_parse(addr, "", 1, &a, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-relay: --http: %s\n", err);
		return EXIT_USAGE;
	}
	r->http = evhttp_new(r->base);
	if (r->http == NULL)
		return 1;
	bs = evhttp_bind_socket_with_handle(r->http, a.host[0] ? a.host :
	    "0.0.0.0", a.port);
	if (bs == NULL || getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&ss, &slen) == -1) {
		fprintf(stderr, "p2pl-relay: --http: cannot listen on %s\n",
		    addr);
		return EXIT_NET;
	}
	r->http_bound = a;
	r->http_bound.port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	evhttp_set_cb(r->http, "/stats", on_http_stats, r);
	evhttp_set_cb(r->http, "/metrics", on_http_metrics, r);
	if (!tracker)
		return 0;
	r->trackd = p2pl_trackd_new(r->base, r->http, &tcfg, err, sizeof(err));
	if (r->trackd == NULL) {
		fprintf(stderr, "p2pl-relay: tracker: %s\n", err);
		return 1;
	}
	snprintf(r->announce, sizeof(r->announce), "http://%s:%u/announce",
	    a.host[0] && strcmp(a.host, "0.0.0.0") ? a.host : "127.0.0.1",
	    r->http_bound.port);
	return 0;
}

static int
run(struct relay *r, const char *listen, const char *http, int tracker,
    int from_stdin, char **uris, int nuris)
{
	struct event *sigs[2], *sec = NULL;
	struct p2pl_ctl *ctl;
	struct timeval one = { 1, 0 };
	char err[P2PL_ERRLEN];
	struct p2pl_addr la;
	int rc = 0;

	if (p2pl_addr_parse(listen, "", 1, &la, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-relay: -l: %s\n", err);
		return EXIT_USAGE;
	}
	r->hub = p2pl_portshare_new(r->base, &la, &r->bound, err, sizeof(err));
	if (r->hub == NULL) {
		fprintf(stderr, "p2pl-relay: %s\n", err);
		return EXIT_NET;
	}
	if (http != NULL && (rc = start_http(r, http, tracker)) != 0)
		return rc;
	for (int i = 0; i < nuris; i++)
		if (join_uri(r, uris[i]) == -1)
			return EXIT_USAGE;
	if (from_stdin) {
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) |
		    O_NONBLOCK);
		r->in = evbuffer_new();
		r->in_ev = event_new(r->base, STDIN_FILENO, EV_READ | EV_PERSIST,
		    on_stdin, r);
		if (r->in == NULL || r->in_ev == NULL ||
		    event_add(r->in_ev, NULL) == -1) {
			fprintf(stderr, "p2pl-relay: stdin: cannot read it "
			    "without blocking (a pipe is needed)\n");
			return EXIT_USAGE;
		}
	}
	p2pl_prog_signals(r->base, sigs);
	if (r->stats != NULL) {
		sec = event_new(r->base, -1, EV_PERSIST, on_second, r);
		event_add(sec, &one);
	}
	ctl = p2pl_prog_ctl(r->base, stats_lines, r);
	event_base_dispatch(r->base);
	p2pl_ctl_free(ctl);
	if (sec != NULL)
		event_free(sec);
	p2pl_prog_signals_free(sigs);
	return r->status;
}

static void
cleanup(struct relay *r)
{
	for (int i = 0; i < r->nstreams; i++)
		p2pl_net_free(r->streams[i].net);
	if (r->in_ev != NULL)
		event_free(r->in_ev);
	if (r->in != NULL)
		evbuffer_free(r->in);
	if (r->trackd != NULL)
		p2pl_trackd_free(r->trackd);
	if (r->http != NULL)
		evhttp_free(r->http);
	p2pl_portshare_free(r->hub);
	event_base_free(r->base);
}

int
main(int argc, char *argv[])
{
	struct relay r = { 0 };
	const char *listen = "7000", *http = NULL, *stats = NULL;
	char err[P2PL_ERRLEN];
	int ch, tracker = 0, from_stdin = 0, rc;

	signal(SIGPIPE, SIG_IGN);
	if (p2pl_prog_config("p2pl-relay", shortopts, longopts, &argc,
	    &argv) == -1)
		return EXIT_USAGE;
	r.cfg.role = P2PL_ROLE_RELAY;
	r.cfg.latency = 2000000;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'H':
			http = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'i':
			if (strcmp(optarg, "-") != 0) {
				fprintf(stderr, "p2pl-relay: -i: only - "
				    "(standard input) is supported\n");
				return EXIT_USAGE;
			}
			from_stdin = 1;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'N':
			if ((r.cfg.max_peers = p2pl_prog_max_peers("p2pl-relay",
			    optarg)) == -1)
				return EXIT_USAGE;
			break;
		case 'q':
			p2pl_verbosity = -1;
			break;
		case 'S':
			stats = optarg;
			break;
		case 'T':
			tracker = 1;
			break;
		case 'u':
			if (p2pl_rate_parse(optarg, &r.cfg.up, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "p2pl-relay: -u: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			p2pl_verbosity++;
			break;
		case 'V':
			p2pl_prog_version("p2pl-relay");
		case P2PL_OPT_CONFIG:
		case P2PL_OPT_NO_CONFIG:
			break;	/* read by p2pl_prog_config() */
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 && !from_stdin)
		usage(EXIT_USAGE);
	if (tracker && http == NULL) {
		fprintf(stderr, "p2pl-relay: --tracker needs --http\n");
		return EXIT_USAGE;
	}
	if (stats != NULL && (r.stats = p2pl_prog_stats_open(stats, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "p2pl-relay: --stats: %s\n", err);
		return EXIT_USAGE;
	}
	if ((r.base = event_base_new()) == NULL)
		return 1;
	rc = run(&r, listen, http, tracker, from_stdin, argv, argc);
	cleanup(&r);
	return rc;
}
