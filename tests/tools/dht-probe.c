/*
 * dht-probe - a p2pl DHT node (lib/dht.h) on a real UDP socket, for
 * tests.
 *
 * usage: dht-probe [-w] [-a PORT] [-l ADDR:PORT] [-t SECONDS] -b HOST:PORT...
 *            INFO_HASH_HEX
 * Listens on -l (default 127.0.0.1:0; [::1]:0 for IPv6), bootstraps from each -b node,
 * looks up the info-hash, announcing PORT with -a, and prints each peer
 * found as "host:port", one a line, on stdout.  With -w the lookup is
 * repeated every 2 s until a peer is found.  Diagnostics and a last line
 * of counts on stderr.  Exits 0 when peers were found (or, with -a and
 * without -w, when the announce reached a node), 1 when not within
 * SECONDS (default 30), 2 on usage or system errors.
 */
#include "dht.h"
#include "util.h"

#include <arpa/inet.h>
#include <err.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fd = -1;
static int found, finished, announced;

static void
on_send(void *arg, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
	(void)arg;
	if (sendto(fd, buf, len, 0, to, tolen) < 0)
		warn("sendto");
}

static void
on_peer(void *arg, const uint8_t ih[20], const struct sockaddr *sa,
    socklen_t salen)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	(void)arg;
	(void)ih;
	if (getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	printf(sa->sa_family == AF_INET6 ? "[%s]:%s\n" : "%s:%s\n", host, port);
	fflush(stdout);
	found++;
}

static void
on_done(void *arg, const uint8_t ih[20], int peers, int nann)
{
	(void)arg;
	(void)ih;
	(void)peers;
	announced += nann;
	finished = 1;
}

static void
on_log(void *arg, const char *msg)
{
	(void)arg;
	warnx("%s", msg);
}

static int
resolve(const char *s, struct sockaddr_storage *ss, socklen_t *len, int passive)
{
	struct p2pl_addr a;
	struct addrinfo hints, *res;
	char ebuf[P2PL_ERRLEN], port[8];

	if (p2pl_addr_parse(s, NULL, passive, &a, ebuf, sizeof(ebuf)) < 0) {
		warnx("%s: %s", s, ebuf);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", a.port);
	if (getaddrinfo(a.host, port, &hints, &res) != 0) {
		warnx("%s: cannot resolve", s);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
unhex(const char *s, uint8_t out[20])
{
	int i, hi, lo;

	if (strlen(s) != 40)
		return -1;
	for (i = 0; i < 20; i++) {
		hi = p2pl_hexval(s[2 * i]);
		lo = p2pl_hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dht-probe [-w] [-a PORT] [-l ADDR:PORT] "
	    "[-t SECONDS] -b HOST:PORT... INFO_HASH_HEX\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct p2pl_dht_cfg cfg = { .send = on_send, .peer = on_peer,
	    .done = on_done, .log = on_log };
	struct sockaddr_storage ss;
	struct p2pl_dht_stats st;
	struct p2pl_dht *d;
	struct pollfd pfd;
	socklen_t sl;
	uint8_t ih[20], buf[65536];
	char ebuf[P2PL_ERRLEN];
	const char *boot[P2PL_DHT_BOOTSTRAP], *listen = "127.0.0.1:0";
	uint64_t now, end, wait, again = 0;
	int c, i, nboot = 0, port = 0, secs = 30, repeat = 0, status;
	ssize_t n;

	while ((c = getopt(argc, argv, "a:b:l:t:w")) != -1) {
		switch (c) {
		case 'a':
			port = atoi(optarg);
			if (port < 1 || port > 65535)
				usage();
			break;
		case 'b':
			if (nboot == P2PL_DHT_BOOTSTRAP)
				usage();
			boot[nboot++] = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 't':
			secs = atoi(optarg);
			if (secs < 1)
				usage();
			break;
		case 'w':
			repeat = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || nboot == 0 || unhex(argv[optind], ih) < 0)
		usage();
	if (resolve(listen, &ss, &sl, 1) < 0)
		exit(2);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0)
		err(2, "%s", listen);
	d = p2pl_dht_new(&cfg, ebuf, sizeof(ebuf));
	if (d == NULL)
		errx(2, "%s", ebuf);
	for (i = 0; i < nboot; i++) {
		if (resolve(boot[i], &ss, &sl, 0) < 0)
			exit(2);
		if (p2pl_dht_add_node(d, (struct sockaddr *)&ss, sl, ebuf,
		    sizeof(ebuf)) < 0)
			errx(2, "%s: %s", boot[i], ebuf);
	}
	now = p2pl_mono_us();
	end = now + (uint64_t)secs * 1000000;
	if (p2pl_dht_search(d, ih, (uint16_t)port, now, ebuf, sizeof(ebuf)) < 0)
		errx(2, "%s", ebuf);
	while ((now = p2pl_mono_us()) < end) {
		if (finished && (found > 0 || !repeat))
			break;
		/* -w: the next lookup 2 s after the last one ended */
		if (finished && again == 0)
			again = now + 2000000;
		if (finished && now >= again) {
			finished = 0;
			again = 0;
			if (p2pl_dht_search(d, ih, (uint16_t)port, now, ebuf,
			    sizeof(ebuf)) < 0)
				errx(2, "%s", ebuf);
		}
		wait = p2pl_dht_tick(d, now);
		if (finished && again > now && again - now < wait)
			wait = again - now;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(wait / 1000) + 1) < 0)
			err(2, "poll");
		if (!(pfd.revents & POLLIN))
			continue;
		sl = sizeof(ss);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss,
		    &sl);
		if (n >= 0)
			p2pl_dht_input(d, buf, (size_t)n, (struct sockaddr *)&ss,
			    sl, p2pl_mono_us());
	}
	/* let the announces leave and their answers come back */
	for (end = p2pl_mono_us() + 300000; p2pl_mono_us() < end;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) > 0) {
			sl = sizeof(ss);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&ss, &sl);
			if (n >= 0)
				p2pl_dht_input(d, buf, (size_t)n,
				    (struct sockaddr *)&ss, sl, p2pl_mono_us());
		}
	}
	p2pl_dht_get_stats(d, &st);
	fprintf(stderr, "dht-probe: found %d announced %d in %llu out %llu "
	    "malformed %llu unexpected %llu errors %llu timeouts %llu "
	    "nodes %d nodes6 %d\n", found, announced, (unsigned long long)st.in,
	    (unsigned long long)st.out, (unsigned long long)st.malformed,
	    (unsigned long long)st.unexpected, (unsigned long long)st.errors,
	    (unsigned long long)st.timeouts, st.nodes4, st.nodes6);
	status = found > 0 || (port && !repeat && announced > 0) ? 0 : 1;
	p2pl_dht_free(d);
	close(fd);
	return status;
}
