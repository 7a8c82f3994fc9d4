/*
 * mitm - a hostile p2pl peer for tests: relays one downstream connection
 * to an upstream peer and back, and flips one payload byte of the Nth
 * PIECE message it passes downstream.  The forged payload is saved to a
 * file so a test can check that none of it reaches a viewer's stdout.
 *
 * With -d it forges nothing but withholds a piece: from the Nth piece on,
 * the first that follows a piece cut inside a frame (flag CONT), so that
 * what came before the gap ends mid-frame.  Every PIECE message carrying
 * its sequence number, and every PEX message, is dropped, so a viewer
 * that knows only this peer never gets it.  The file gets the number.
 *
 * It knows the stream's key (KEY, base32, as in the URI), as any peer of
 * the swarm does, so it can end the encrypted channel on both sides.
 *
 * usage: mitm [-d] KEY LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT N FILE
 * Prints "listening" on stdout once it accepts connections.
 */
#include "util.h"
#include "wire.h"
#include "piece.h"
#include "secio.h"

#include <arpa/inet.h>
#include <err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t down[4 * P2PL_MSG_MAX];
static struct secio dsec, usec;	/* downstream, upstream */
static size_t downlen;
static int withhold;		/* -d */
static uint64_t held_seq;	/* with -d, the piece withheld, +1 */
static int prev_cont;		/* the last piece passed was cut mid-frame */
static uint64_t prev_seq;

static int
tcp(int listen_port, const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_port = htons((uint16_t)(listen_port ? listen_port : port));
	inet_pton(AF_INET, listen_port ? "127.0.0.1" : host, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (listen_port) {
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    listen(fd, 4) == -1)
			err(1, "listen %d", listen_port);
	} else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		err(1, "connect %s:%d", host, port);
	return fd;
}

/* Pass whole messages downstream, forging the nth piece. */
static void
pass_down(long *pieces, long nth, const char *forged)
{
	const uint8_t *body;
	size_t len, off = 0;
	uint8_t type;
	long r;
	FILE *f;

	while ((r = p2pl_wire_next(down + off, downlen - off, &type, &body,
	    &len, NULL, 0)) > 0) {
		if (withhold && (type == P2PL_MSG_PEX || (type ==
		    P2PL_MSG_PIECE && len >= 16 && held_seq ==
		    p2pl_get64(body + 8) + 1))) {
			off += (size_t)r;
			continue;
		}
		if (withhold && type == P2PL_MSG_PIECE && len >= 16 &&
		    held_seq == 0 && ++*pieces >= nth && prev_cont &&
		    p2pl_get64(body + 8) == prev_seq + 1) {
			held_seq = p2pl_get64(body + 8) + 1;
			if ((f = fopen(forged, "w")) == NULL ||
			    fprintf(f, "%llu\n", (unsigned long long)held_seq - 1) < 0 ||
			    fclose(f))
				err(1, "%s", forged);
			fprintf(stderr, "mitm: withholding piece %llu\n",
			    (unsigned long long)held_seq - 1);
			off += (size_t)r;
			continue;
		}
		if (type == P2PL_MSG_PIECE && len >= 16) {
			prev_cont = (body[1] & P2PL_PIECE_CONT) != 0;
			prev_seq = p2pl_get64(body + 8);
		}
		if (!withhold && type == P2PL_MSG_PIECE && ++*pieces == nth) {
			uint8_t *payload = (uint8_t *)body + P2PL_PIECE_HDR;
			size_t plen = len - P2PL_PIECE_HDR - P2PL_SIGLEN;
			payload[plen / 2] ^= 0x01;
			if ((f = fopen(forged, "wb")) == NULL ||
			    fwrite(payload, 1, plen, f) != plen || fclose(f))
				err(1, "%s", forged);
			fprintf(stderr, "mitm: forged piece %llu (%zu bytes)\n",
			    (unsigned long long)p2pl_get64(body + 8), plen);
		}
		if (secio_write(&dsec, down + off, (size_t)r) == -1)
			exit(0);
		off += (size_t)r;
	}
	if (r < 0)
		errx(1, "upstream sent a bad message");
	memmove(down, down + off, downlen - off);
	downlen -= off;
}

int
main(int argc, char *argv[])
{
	struct pollfd pfd[2];
	uint8_t buf[65536], key[P2PL_KEYLEN];
	long pieces = 0, nth, n;
	int lfd, dfd, ufd;

	if (argc > 1 && strcmp(argv[1], "-d") == 0) {
		withhold = 1;
		argv++;
		argc--;
	}
	if (argc != 7)
		errx(2, "usage: mitm [-d] KEY LISTEN_PORT UPSTREAM_HOST "
		    "UPSTREAM_PORT N FILE");
	if (p2pl_base32_decode(argv[1], strlen(argv[1]), key, sizeof(key)) !=
	    P2PL_KEYLEN)
		errx(2, "bad key %s", argv[1]);
	argv++;
	argc--;
	signal(SIGPIPE, SIG_IGN);
	nth = atol(argv[4]);
	lfd = tcp(atoi(argv[1]), NULL, 0);
	printf("listening\n");
	fflush(stdout);
	if ((dfd = accept(lfd, NULL, NULL)) == -1)
		err(1, "accept");
	if (secio_start(&dsec, dfd, 0, key) == -1)
		errx(1, "downstream key exchange failed");
	ufd = tcp(0, argv[2], atoi(argv[3]));
	if (secio_start(&usec, ufd, 1, key) == -1)
		errx(1, "upstream key exchange failed");
	pfd[0] = (struct pollfd){ .fd = dfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ufd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) == -1)
			err(1, "poll");
		if (pfd[0].revents) {
			if ((n = secio_read(&dsec, buf, sizeof(buf))) < 0)
				return 0;
			if (secio_write(&usec, buf, (size_t)n) == -1)
				return 0;
		}
		if (pfd[1].revents) {
			n = secio_read(&usec, down + downlen,
			    sizeof(down) - downlen);
			if (n < 0)
				return 0;
			downlen += (size_t)n;
			pass_down(&pieces, nth, argv[5]);
		}
	}
}
