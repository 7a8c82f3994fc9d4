/* p2pl-publish - cut a live input into signed pieces and serve them. */
#include "key.h"
#include "net.h"
#include "mediaout.h"
#include "prog.h"
#include "statline.h"
#include "source.h"
#include "uri.h"

#include <errno.h>
#include <sodium.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publish.h"

static const char shortopts[] = "a:hk:l:Lo:qt:u:vV";
static const struct option longopts[] = {
	{ "announce", required_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ "key", required_argument, NULL, 'k' },
	{ "listen", required_argument, NULL, 'l' },
	{ "listen-input", no_argument, NULL, 'L' },
	{ "max-peers", required_argument, NULL, 'N' },
	{ "output", required_argument, NULL, 'o' },
	{ "piece-ms", required_argument, NULL, 'M' },
	{ "piece-size", required_argument, NULL, 'P' },
	{ "private", no_argument, NULL, 'X' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "retry", required_argument, NULL, 'R' },
	{ "stats", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "tracker", required_argument, NULL, 't' },
	{ "upload", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	P2PL_PROG_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: p2pl-publish -k KEYFILE [-LqVv] [-a HOST[:PORT]] "
	    "[-l [HOST:]PORT] [-o FILE|-]\n"
	    "                    [-t URL] [-u RATE] [--config FILE] "
	    "[--max-peers N]\n"
	    "                    [--no-config] [--piece-ms MS] "
	    "[--piece-size BYTES] [--private]\n"
	    "                    [--retry N|forever] [--stats FILE|-] "
	    "[--timeout SECONDS]\n"
	    "                    [INPUT]\n");
	if (status == 0)
		p2pl_prog_help(longopts);
	exit(status);
}

static void
on_pieces(evutil_socket_t fd, short what, void *arg)
{
	struct publish *pb = arg;
	struct p2pl_piece *p;
	struct timeval linger = { 1, 0 };

	(void)what;
	while (read(fd, &p, sizeof(p)) == sizeof(p)) {
		if (p == NULL || p == INPUT_FAILED(pb)) {
			if (p != NULL) {
				fprintf(stderr, "p2pl-publish: %s: %s\n",
				    pb->name, pb->err);
				pb->status = EXIT_INPUT;
			} else if (p2pl_verbosity >= P2PL_LOG_INFO)
				fprintf(stderr, "p2pl-publish: end of input\n");
			pb->eof = 1;
			/* give peers a moment to take the last pieces */
			event_base_loopexit(pb->base, pb->pieces ? &linger : NULL);
			return;
		}
		pb->pieces++;
		pb->bytes += p->len;
		if (pb->out != NULL)
			p2pl_mediaout_piece(pb->out, p);
		if (pb->net != NULL)
			p2pl_net_publish(pb->net, p);
		else
			p2pl_piece_unref(p);
	}
}

static void
on_out_error(void *arg, int e)
{
	struct publish *pb = arg;

	if (e != EPIPE)
		fprintf(stderr, "p2pl-publish: -o: %s\n", strerror(e));
	pb->status = e == EPIPE ? 0 : 1;
	event_base_loopbreak(pb->base);
}

/* The stats line (no newline); its length, or -1 if it does not fit. */
static long
stats_line(struct publish *pb, char *line, size_t size)
{
	struct p2pl_json j;

	p2pl_json_open(&j, line, size);
	p2pl_prog_stats_head(&j, pb->keystr);
	p2pl_json_u64(&j, "pieces", pb->pieces);
	p2pl_json_u64(&j, "bytes", pb->bytes);
	p2pl_json_u64(&j, "reopens", atomic_load(&pb->reopens));
	if (pb->out != NULL)
		p2pl_json_u64(&j, "out_bytes", p2pl_mediaout_stats(pb->out)->bytes);
	if (pb->net != NULL)
		p2pl_statline_node(&j, p2pl_net_node(pb->net));
	else
		p2pl_json_u64(&j, "bitrate", p2pl_source_bitrate(pb->src));
	return p2pl_json_close(&j);
}

static void
on_second(evutil_socket_t fd, short what, void *arg)
{
	struct publish *pb = arg;
	static char line[P2PL_STATLINE_MAX];

	(void)fd;
	(void)what;
	if (stats_line(pb, line, sizeof(line)) > 0)
		fprintf(pb->stats, "%s\n", line);
}

static void
ctl_stats(void *arg, struct evbuffer *out)
{
	static char line[P2PL_STATLINE_MAX];

	if (stats_line(arg, line, sizeof(line)) > 0)
		evbuffer_add_printf(out, "%s\n", line);
}

/* The address to put in the URI when listening on every address. */
static void
guess_host(char *host, size_t len)
{
	struct ifaddrs *ifa, *i;

	snprintf(host, len, "127.0.0.1");
	if (getifaddrs(&ifa) == -1)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if ((ntohl(a.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &a, host, (socklen_t)len);
		break;
	}
	freeifaddrs(ifa);
}

static int
print_uri(struct publish *pb, const struct p2pl_addr *bound,
    const char *announce, FILE *to)
{
	struct p2pl_uri u;
	char uri[P2PL_URI_MAX], err[P2PL_ERRLEN];

	memset(&u, 0, sizeof(u));
	memcpy(u.key, pb->key.pk, P2PL_KEYLEN);
	if (announce != NULL) {
		if (p2pl_addr_parse(announce, NULL, 0, &u.peers[0], err,
		    sizeof(err)) == -1) {
			/* a bare host: the listening port */
			if (p2pl_addr_parse("1", announce, 0, &u.peers[0], err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "p2pl-publish: -a: %s\n", err);
				return -1;
			}
			u.peers[0].port = bound ? bound->port : 0;
		}
		u.npeers = 1;
	} else if (bound != NULL) {
		u.peers[0] = *bound;
		if (strcmp(bound->host, "0.0.0.0") == 0 ||
		    strcmp(bound->host, "::") == 0 || bound->host[0] == '\0')
			guess_host(u.peers[0].host, sizeof(u.peers[0].host));
		u.npeers = 1;
	}
	for (int i = 0; i < pb->ntrackers; i++)
		snprintf(u.trackers[u.ntrackers++], P2PL_TRACKER_MAX, "%s",
		    pb->trackers[i]);
	if (pb->private) {
		u.has_secret = 1;
		memcpy(u.secret, pb->secret, sizeof(u.secret));
	}
	if (u.npeers == 1 && u.peers[0].port == 0) {
		fprintf(stderr, "p2pl-publish: -a needs a port when not listening\n");
		return -1;
	}
	if (p2pl_uri_format(&u, uri, sizeof(uri)) < 0)
		return -1;
	fprintf(to, "%s\n", uri);
	fflush(to);
	return 0;
}

static int
open_out(struct publish *pb, const char *path)
{
	uint8_t hello[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	struct p2pl_hello h = { .version = P2PL_VERSION,
	    .role = P2PL_ROLE_PUBLISHER };
	int fd = STDOUT_FILENO;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd == -1) {
			fprintf(stderr, "p2pl-publish: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
	}
	pb->out = p2pl_mediaout_new(pb->base, fd, OUT_CAP, on_out_error, pb);
	if (pb->out == NULL)
		return -1;
	memcpy(h.key, pb->key.pk, P2PL_KEYLEN);
	p2pl_mediaout_raw(pb->out, hello, p2pl_wire_hello(hello, &h));
	p2pl_mediaout_set_frames(pb->out, 1);
	return 0;
}

/* Drain the pipe until the source thread has ended. */
static void
stop_source(struct publish *pb, pthread_t th)
{
	struct p2pl_piece *p;

	pb->stop = 1;
	fcntl(pb->pipe[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		while (read(pb->pipe[0], &p, sizeof(p)) == sizeof(p))
			if (p != NULL && p != INPUT_FAILED(pb))
				p2pl_piece_unref(p);
		if (pthread_tryjoin_np(th, NULL) == 0)
			break;
		usleep(10000);
	}
	while (read(pb->pipe[0], &p, sizeof(p)) == sizeof(p))
		if (p != NULL && p != INPUT_FAILED(pb))
			p2pl_piece_unref(p);
}

/* Listen, open -o and print the URI; an exit status.  The source thread
 * opens the input. */
static int
setup(struct publish *pb, const char *input, const struct p2pl_source_cfg *scfg,
    struct p2pl_node_cfg *ncfg, const char *listen, const char *announce,
    const char *outpath)
{
	struct p2pl_net_cb cb = { pb, p2pl_prog_log, NULL };
	struct p2pl_addr la, bound;
	char err[P2PL_ERRLEN];

	if (listen != NULL) {
		if (p2pl_addr_parse(listen, "", 1, &la, err, sizeof(err)) == -1) {
			fprintf(stderr, "p2pl-publish: -l: %s\n", err);
			return EXIT_USAGE;
		}
		pb->net = p2pl_net_new(pb->base, ncfg, &cb, err, sizeof(err));
		if (pb->net == NULL || p2pl_net_listen(pb->net, &la, &bound,
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "p2pl-publish: %s\n", err);
			return EXIT_NET;
		}
		/* viewers come to the publisher; it dials no one */
		p2pl_net_set_outgoing(pb->net, 0);
	}
	if (outpath != NULL && open_out(pb, outpath) == -1)
		return 1;
	if (print_uri(pb, listen ? &bound : NULL, announce,
	    outpath && strcmp(outpath, "-") == 0 ? stderr : stdout) == -1)
		return EXIT_USAGE;
	for (int i = 0; pb->net != NULL && i < pb->ntrackers; i++)
		if (p2pl_net_add_tracker(pb->net, pb->trackers[i], err,
		    sizeof(err)) == -1)
			fprintf(stderr, "p2pl-publish: tracker %s: %s\n",
			    pb->trackers[i], err);
	pb->src = p2pl_source_new(input, scfg, err, sizeof(err));
	if (pb->src == NULL) {
		fprintf(stderr, "p2pl-publish: %s: %s\n", pb->name, err);
		return EXIT_INPUT;
	}
	if (pb->listens)
		p2pl_source_listen(pb->src);
	return 0;
}

/* Run the source thread and the loop until the input ends or a signal. */
static int
serve(struct publish *pb)
{
	struct event *pev, *sec = NULL, *sigs[2];
	struct timeval one = { 1, 0 };
	struct p2pl_ctl *ctl;
	pthread_t th;

	if (pipe2(pb->pipe, O_CLOEXEC) == -1)
		goto fail;
	if (fcntl(pb->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    pthread_create(&th, NULL, p2pl_publish_feed, pb) != 0)
		goto fail_pipe;
	pev = event_new(pb->base, pb->pipe[0], EV_READ | EV_PERSIST, on_pieces, pb);
	p2pl_prog_signals(pb->base, sigs);
	event_add(pev, NULL);
	if (pb->stats != NULL) {
		sec = event_new(pb->base, -1, EV_PERSIST, on_second, pb);
		event_add(sec, &one);
	}
	ctl = p2pl_prog_ctl(pb->base, ctl_stats, pb);
	event_base_dispatch(pb->base);
	p2pl_ctl_free(ctl);
	stop_source(pb, th);
	if (sec != NULL)
		event_free(sec);
	event_free(pev);
	p2pl_prog_signals_free(sigs);
	close(pb->pipe[0]);
	close(pb->pipe[1]);
	return pb->status;
fail_pipe:
	close(pb->pipe[0]);
	close(pb->pipe[1]);
fail:
	fprintf(stderr, "p2pl-publish: %s\n", strerror(errno));
	return 1;
}

static int
run(struct publish *pb, const char *input, const struct p2pl_source_cfg *scfg,
    struct p2pl_node_cfg *ncfg, const char *listen, const char *announce,
    const char *outpath)
{
	int rc;

	if ((pb->base = event_base_new()) == NULL)
		return 1;
	rc = setup(pb, input, scfg, ncfg, listen, announce, outpath);
	if (rc == 0)
		rc = serve(pb);
	p2pl_net_free(pb->net);
	p2pl_mediaout_free(pb->out);
	p2pl_source_free(pb->src);
	event_base_free(pb->base);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct p2pl_source_cfg scfg = { .piece_size = 16384, .piece_us = 50000 };
	struct p2pl_node_cfg ncfg = { .role = P2PL_ROLE_PUBLISHER,
	    .window = 10000000 };
	struct publish pb = { 0 };
	const char *keyfile = NULL, *listen = NULL, *announce = NULL;
	const char *outpath = NULL, *stats = NULL, *input = "-";
	char err[P2PL_ERRLEN], *end;
	unsigned long v;
	int ch, created, rc, retry = -2, timeout = -1, url, listen_input = 0;

	signal(SIGPIPE, SIG_IGN);
	if (p2pl_prog_config("p2pl-publish", shortopts, longopts, &argc,
	    &argv) == -1)
		return EXIT_USAGE;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			announce = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'L':
			listen_input = 1;
			break;
		case 'M':
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 10000) {
				fprintf(stderr, "p2pl-publish: --piece-ms: "
				    "want 1 to 10000\n");
				return EXIT_USAGE;
			}
			scfg.piece_us = v * 1000;
			break;
		case 'N':
			if ((ncfg.max_peers = p2pl_prog_max_peers("p2pl-publish",
			    optarg)) == -1)
				return EXIT_USAGE;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'X':
			pb.private = 1;
			break;
		case 'P':
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1024 || v > P2PL_PAYLOAD_MAX) {
				fprintf(stderr, "p2pl-publish: --piece-size: "
				    "want 1024 to %d\n", P2PL_PAYLOAD_MAX);
				return EXIT_USAGE;
			}
			scfg.piece_size = v;
			break;
		case 'q':
			p2pl_verbosity = -1;
			break;
		case 'R':
			v = strtoul(optarg, &end, 10);
			if (strcmp(optarg, "forever") == 0)
				retry = RETRY_FOREVER;
			else if (*end != '\0' || !isdigit((unsigned char)*optarg) ||
			    v > 1000000) {
				fprintf(stderr, "p2pl-publish: --retry: want 0 "
				    "to 1000000 or forever\n");
				return EXIT_USAGE;
			} else
				retry = (int)v;
			break;
		case 'T':
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || !isdigit((unsigned char)*optarg) ||
			    v > 3600) {
				fprintf(stderr, "p2pl-publish: --timeout: want 0 "
				    "to 3600 seconds\n");
				return EXIT_USAGE;
			}
			timeout = (int)v;
			break;
		case 'S':
			stats = optarg;
			break;
		case 't':
			if (pb.ntrackers == P2PL_URI_TRACKERS ||
			    strlen(optarg) >= P2PL_TRACKER_MAX ||
			    (strncmp(optarg, "http://", 7) != 0 &&
			    strncmp(optarg, "https://", 8) != 0)) {
				fprintf(stderr, "p2pl-publish: -t: want at most "
				    "%d http(s) urls\n", P2PL_URI_TRACKERS);
				return EXIT_USAGE;
			}
			pb.trackers[pb.ntrackers++] = optarg;
			break;
		case 'u':
			if (p2pl_rate_parse(optarg, &ncfg.up, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "p2pl-publish: -u: %s\n", err);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			p2pl_verbosity++;
			break;
		case 'V':
			p2pl_prog_version("p2pl-publish");
		case P2PL_OPT_CONFIG:
		case P2PL_OPT_NO_CONFIG:
			break;	/* read by p2pl_prog_config() */
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || keyfile == NULL)
		usage(EXIT_USAGE);
	if (argc == 1)
		input = argv[0];
	pb.name = strcmp(input, "-") == 0 ? "stdin" : input;
	/* a URL can come back (a camera rebooting); stdin cannot, and a file
	 * would start again from its beginning */
	url = strstr(input, "://") != NULL && strncmp(input, "file:", 5) != 0;
	pb.url = url;
	pb.listens = p2pl_source_listens(input, listen_input);
	if (listen_input && !url) {
		fprintf(stderr, "p2pl-publish: -L: the input must be a URL to "
		    "listen on, such as rtmp://0.0.0.0:1935/live/KEY or "
		    "srt://0.0.0.0:9000\n");
		return EXIT_USAGE;
	}
	if (strcmp(input, "-") == 0 && retry != 0 && retry != -2) {
		fprintf(stderr, "p2pl-publish: --retry: standard input cannot "
		    "be opened again\n");
		return EXIT_USAGE;
	}
	pb.retry = retry != -2 ? retry : url ? RETRY_FOREVER : 0;
	scfg.rw_timeout_s = timeout >= 0 ? timeout : url ? URL_TIMEOUT_S : 0;
	if (outpath == NULL && listen == NULL)
		listen = "7000";
	if (outpath != NULL && strcmp(outpath, "-") == 0 && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "p2pl-publish: -o -: stdout is a terminal\n");
		return EXIT_USAGE;
	}
	if (stats != NULL && (pb.stats = p2pl_prog_stats_open(stats, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "p2pl-publish: --stats: %s\n", err);
		return EXIT_USAGE;
	}
	if (p2pl_key_load(keyfile, &pb.key, &created, err, sizeof(err)) == -1) {
		fprintf(stderr, "p2pl-publish: %s\n", err);
		return EXIT_KEY;
	}
	if (created && p2pl_verbosity >= P2PL_LOG_WARN)
		fprintf(stderr, "p2pl-publish: created key %s\n", keyfile);
	memcpy(ncfg.key, pb.key.pk, P2PL_KEYLEN);
	if (pb.private)
		p2pl_key_secret(&pb.key, pb.secret);
	p2pl_base32_encode(pb.key.pk, P2PL_KEYLEN, pb.keystr, sizeof(pb.keystr));
	rc = run(&pb, input, &scfg, &ncfg, listen, announce, outpath);
	p2pl_key_wipe(&pb.key);
	sodium_memzero(pb.secret, sizeof(pb.secret));
	return rc;
}
