/*
 * attacker - a hostile p2pl peer for tests, one attack per run.
 *
 * usage: attacker [-a NADDR] [-b SRC] [-c HOST:PORT]... [-d DIR] [-n COUNT]
 *            [-t SECS] MODE URI
 *
 * It listens on SRC (default 127.0.0.2) and prints "listening PORT", so a
 * test can name it as a peer in viewers' URIs; with -c it also dials the
 * given peers.  It takes genuine pieces from the first peer in the URI
 * (the publisher), asking for each next one, and abuses every neighbour
 * that completes a handshake with it.  MODE is one of:
 *
 *   forge     a genuine piece with one payload byte flipped, renumbered
 *   otherkey  a piece validly signed, by a key of its own
 *   truncate  a piece message cut short (lengths made consistent)
 *   oversize  a message header announcing 4 times the largest message
 *   replay    the last genuine pieces, again and again
 *   old       genuine pieces older than any window
 *   haveall   HAVE for every piece and some far ahead; serves none
 *   ahead     once a connection, 64 HAVEs for the pieces just after the
 *             newest (not made yet, but inside a viewer's window); serves
 *             none
 *   zerolen   once a connection, a message header of length 0 with
 *             nothing after it
 *   slow      HAVE for every piece; serves what is asked a byte at a time
 *   reqflood  REQUEST for every recent piece, over and over
 *   pex       PEX floods: non-peers, the neighbour's own address, thousands
 *   idle      COUNT connections to the -c peers, opened and left silent,
 *             from NADDR (default 64) source addresses: SRC and the
 *             ones that follow it;
 *             each one the peer closes is opened again
 *   crowd     as idle, but each connection completes the handshake with
 *             an id of its own, then only answers PINGs
 *
 * Payloads of forged pieces are written to DIR (forged.N) so a test can
 * check that none reaches a viewer's stdout.  A neighbour that closes the
 * connection is redialled every second at the port its HELLO gave, to see
 * whether it lets the attacker back in: on such a connection, and on one
 * it opens again itself, the attacker behaves for 2 s; if the connection
 * lasts that long it was readmitted, if it is closed sooner, refused.  In idle mode it prints "opened N"
 * once it has opened its connections.  After SECS (default 30) or on
 * SIGTERM it prints one line of counts and exits 0:
 *
 *   attacker MODE: conns N attacks N dropped N readmitted N refused N
 *
 * All peer I/O goes through peerio.h, so the tool follows the channel.
 */
#include "peerio.h"

#include "key.h"
#include "piece.h"
#include "uri.h"
#include "util.h"
#include "wire.h"

#include <sodium.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CONNS_MAX 12000
#define STASH 1024
#define VICTIMS 64
#define INBUF (2 * P2PL_MSG_MAX)

enum { FORGE, OTHERKEY, TRUNCATE, OVERSIZE, REPLAY, OLD, HAVEALL, AHEAD,
    ZEROLEN, SLOW, REQFLOOD, PEX, IDLE, CROWD };
static const char *const modes[] = { "forge", "otherkey", "truncate",
    "oversize", "replay", "old", "haveall", "ahead", "zerolen", "slow", "reqflood",
    "pex", "idle", "crowd", NULL };

struct conn {
	int fd;
	int up;			/* the publisher link */
	int helloed;		/* their HELLO came */
	int victim;		/* index into victims, -1 */
	int redial;		/* a redial: counts as readmitted or refused */
	int lied;		/* ahead: its batch of claims was sent */
	uint64_t born;
	uint8_t in[INBUF];
	size_t inlen;
	/* slow: the piece being trickled */
	struct p2pl_piece *trickle;
	size_t trickled;
};

struct victim {
	uint8_t id[P2PL_IDLEN];
	uint16_t port;
	uint64_t dropped;	/* when it closed on us, 0: still open */
	uint64_t next_redial;
};

static int mode;
static const char *src = "127.0.0.2", *dir;
static struct p2pl_uri uri;
static struct p2pl_key mykey;		/* otherkey */
static uint8_t myid[P2PL_IDLEN];
static int myport;
static int naddr = 64;			/* idle, crowd: source addresses */
static struct conn *conns[CONNS_MAX];
static int nconns;
static struct p2pl_piece *stash[STASH];	/* genuine pieces by seq % STASH */
static uint64_t newest;			/* seq + 1 of the newest genuine */
static struct victim victims[VICTIMS];
static int nvictims;
static long n_conns, n_attacks, n_dropped, n_readmitted, n_refused;
static volatile sig_atomic_t done;

static void
on_term(int sig)
{
	(void)sig;
	done = 1;
}

static int
sendmsg_(struct conn *c, const uint8_t *b, size_t n)
{
	if (c->trickle != NULL)
		return -1;	/* nothing may cut into the trickled message */
	return peerio_send(c->fd, b, n);
}

static void
send_u64(struct conn *c, uint8_t type, uint64_t v)
{
	uint8_t m[P2PL_MSG_HDR + 8];

	sendmsg_(c, m, p2pl_wire_u64(m, type, v));
}

static struct conn *
conn_add(int fd, int up)
{
	struct p2pl_hello h = { .version = P2PL_VERSION,
	    .role = P2PL_ROLE_VIEWER };
	uint8_t m[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	struct conn *c;

	if (nconns == CONNS_MAX || (c = calloc(1, sizeof(*c))) == NULL) {
		peerio_close(fd);
		return NULL;
	}
	c->fd = fd;
	c->up = up;
	c->victim = -1;
	c->born = p2pl_wall_us();
	conns[nconns++] = c;
	if (mode == IDLE)
		return c;
	h.port = (uint16_t)myport;
	memcpy(h.key, uri.key, P2PL_KEYLEN);
	memcpy(h.id, myid, P2PL_IDLEN);
	if (mode == CROWD)
		randombytes_buf(h.id, sizeof(h.id));	/* many peers, not one */
	sendmsg_(c, m, p2pl_wire_hello(m, &h));
	n_conns += !up;
	return c;
}

static void
conn_del(int i)
{
	struct conn *c = conns[i];

	if (!c->up && c->helloed && c->victim >= 0 && !c->redial) {
		victims[c->victim].dropped = p2pl_wall_us();
		victims[c->victim].next_redial = p2pl_wall_us() + 1000000;
		n_dropped++;
	}
	if (c->redial)
		n_refused++;	/* closed before the probation ended */
	peerio_close(c->fd);
	if (c->trickle != NULL)
		p2pl_piece_unref(c->trickle);
	free(c);
	conns[i] = conns[--nconns];
}

static int
victim_of(const struct p2pl_hello *h)
{
	int i;

	for (i = 0; i < nvictims; i++)
		if (memcmp(victims[i].id, h->id, P2PL_IDLEN) == 0)
			return i;
	if (nvictims == VICTIMS)
		return -1;
	memcpy(victims[i].id, h->id, P2PL_IDLEN);
	victims[i].port = h->port;
	return nvictims++;
}

/* Their HELLO: a neighbour to abuse, or one letting us back in. */
static void
on_hello(struct conn *c, const uint8_t *body, size_t len)
{
	struct p2pl_hello h;
	uint8_t m[P2PL_MSG_HDR + P2PL_SUBSCRIBE_LEN];

	if (p2pl_wire_parse_hello(body, len, &h, NULL, 0) == -1)
		return;
	c->helloed = 1;
	if (mode == CROWD)
		return;		/* a peer that takes a place, nothing else */
	if (c->up) {
		sendmsg_(c, m, p2pl_wire_subscribe(m, P2PL_FROM_LIVE, 0));
		return;
	}
	c->victim = victim_of(&h);
	/* it dropped us once: on probation until it keeps us 2 s */
	if (c->victim >= 0 && victims[c->victim].dropped != 0)
		c->redial = 1;
	sendmsg_(c, m, p2pl_wire_subscribe(m, P2PL_FROM_LIVE, 0));
}

static void
save_forged(const uint8_t *payload, size_t len)
{
	char path[512];
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/forged.%ld", dir, n_attacks);
	if ((f = fopen(path, "wb")) == NULL || fwrite(payload, 1, len, f) != len ||
	    fclose(f) != 0)
		err(1, "%s", path);
}

/* The attack of the piece modes, with genuine piece pc, on c. */
static void
attack_piece(struct conn *c, struct p2pl_piece *pc)
{
	uint8_t *m, body[P2PL_MSG_HDR + 65536];
	struct p2pl_piece *mine;
	size_t plen = pc->len;

	if ((m = malloc(pc->msglen)) == NULL)
		return;
	memcpy(m, pc->msg, pc->msglen);
	switch (mode) {
	case FORGE:
		/* a sequence number nobody has yet, so it must be verified */
		p2pl_put64(m + P2PL_MSG_HDR + 8, pc->seq + 2);
		m[P2PL_MSG_HDR + P2PL_PIECE_HDR + plen / 2] ^= 0x01;
		save_forged(m + P2PL_MSG_HDR + P2PL_PIECE_HDR, plen);
		sendmsg_(c, m, pc->msglen);
		break;
	case OTHERKEY:
		randombytes_buf(body, plen);
		mine = p2pl_piece_make(&mykey, pc->seq + 2, pc->stamp,
		    pc->flags, body, plen, NULL, 0);
		if (mine != NULL) {
			save_forged(body, plen);
			sendmsg_(c, mine->msg, mine->msglen);
			p2pl_piece_unref(mine);
		}
		break;
	case TRUNCATE:
		/* drop the signature's tail; the wire length agrees */
		p2pl_put64(m + P2PL_MSG_HDR + 8, pc->seq + 2);
		p2pl_wire_header(m, P2PL_MSG_PIECE, pc->msglen - P2PL_MSG_HDR - 20);
		sendmsg_(c, m, pc->msglen - 20);
		break;
	case OVERSIZE:
		memset(body, 0x55, sizeof(body));
		p2pl_wire_header(body, P2PL_MSG_PIECE, 4 * P2PL_MSG_MAX);
		sendmsg_(c, body, sizeof(body));
		break;
	}
	free(m);
	n_attacks++;
}

static void
on_piece(struct conn *c, const uint8_t *body, size_t len)
{
	struct p2pl_piece *pc = p2pl_piece_verify(uri.key, body, len, NULL, 0);
	int i;

	(void)c;
	if (pc == NULL)
		return;
	if (stash[pc->seq % STASH] != NULL)
		p2pl_piece_unref(stash[pc->seq % STASH]);
	stash[pc->seq % STASH] = pc;
	pc->recv = p2pl_wall_us();
	if (pc->seq + 1 <= newest)
		return;
	newest = pc->seq + 1;
	for (i = 0; i < nconns; i++) {
		struct conn *d = conns[i];

		if (d->up || !d->helloed || d->redial)
			continue;	/* on probation it behaves */
		if (mode <= OVERSIZE)
			attack_piece(d, pc);
		else if (mode == HAVEALL || mode == SLOW)
			send_u64(d, P2PL_MSG_HAVE, pc->seq);
	}
}

static void
on_request(struct conn *c, uint64_t seq)
{
	struct p2pl_piece *pc = stash[seq % STASH];

	if (mode != SLOW || c->trickle != NULL || pc == NULL || pc->seq != seq)
		return;
	c->trickle = p2pl_piece_ref(pc);
	c->trickled = 0;
	n_attacks++;
}

static void
on_message(struct conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	uint64_t v;

	if (type == P2PL_MSG_HELLO)
		on_hello(c, body, len);
	else if (type == P2PL_MSG_PIECE && c->up)
		on_piece(c, body, len);
	else if (type == P2PL_MSG_PING &&
	    p2pl_wire_parse_u64(body, len, &v, NULL, 0) == 0)
		send_u64(c, P2PL_MSG_PONG, v);	/* stay alive */
	else if (type == P2PL_MSG_REQUEST &&
	    p2pl_wire_parse_u64(body, len, &v, NULL, 0) == 0)
		on_request(c, v);
}

/* Read what c sent; -1 when it closed. */
static int
conn_read(struct conn *c)
{
	const uint8_t *body;
	size_t len, off = 0;
	uint8_t type;
	ssize_t n;
	long r;

	n = peerio_recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	c->inlen += (size_t)n;
	if (mode == IDLE) {
		c->inlen = 0;	/* read and ignored */
		return 0;
	}
	while ((r = p2pl_wire_next(c->in + off, c->inlen - off, &type, &body,
	    &len, NULL, 0)) > 0) {
		on_message(c, type, body, len);
		off += (size_t)r;
	}
	if (r < 0)
		return -1;
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

/* The timed part of the modes that do not wait for pieces. */
static void
attack_tick(struct conn *c, uint64_t now)
{
	static uint64_t rnd;
	uint8_t m[P2PL_MSG_HDR + 1 + 32 * 7];
	struct p2pl_piece *pc;
	uint64_t s;
	int i;

	if (c->up || !c->helloed || c->redial || newest == 0)
		return;
	switch (mode) {
	case REPLAY:
		for (s = newest > 8 ? newest - 8 : 0; s < newest; s++)
			if ((pc = stash[s % STASH]) != NULL && pc->seq == s &&
			    sendmsg_(c, pc->msg, pc->msglen) == 0)
				n_attacks++;
		break;
	case OLD:
		/* pieces more than 8 s old: past the viewer's window */
		for (s = newest > STASH ? newest - STASH : 0; s < newest; s++)
			if ((pc = stash[s % STASH]) != NULL && pc->seq == s &&
			    pc->recv + 8000000 < now) {
				if (sendmsg_(c, pc->msg, pc->msglen) == 0)
					n_attacks++;
				break;
			}
		break;
	case HAVEALL:
		/* and a piece far ahead, that will not exist for long */
		send_u64(c, P2PL_MSG_HAVE, newest + 5000 + rnd++ % 1000);
		n_attacks++;
		break;
	case AHEAD:
		if (c->lied)
			break;
		c->lied = 1;
		for (s = newest; s < newest + 64; s++)
			send_u64(c, P2PL_MSG_HAVE, s);
		n_attacks++;
		break;
	case ZEROLEN:
		if (!c->lied && sendmsg_(c, (const uint8_t *)"\0\0\0\0", 4) == 0)
			n_attacks++;
		c->lied = 1;
		break;
	case REQFLOOD:
		for (s = newest > 64 ? newest - 64 : 0; s < newest; s++)
			send_u64(c, P2PL_MSG_REQUEST, s);
		n_attacks++;
		break;
	case PEX:
		m[P2PL_MSG_HDR] = 32;
		for (i = 0; i < 32; i++) {
			uint8_t *e = m + P2PL_MSG_HDR + 1 + i * 7;
			e[0] = 4;
			if (i == 0 && c->victim >= 0) {
				/* its own address */
				e[1] = 127, e[2] = 0, e[3] = 0, e[4] = 1;
				p2pl_put16(e + 5, victims[c->victim].port);
				continue;
			}
			/* nobody listens there: 127.0.1.x, high ports */
			e[1] = 127, e[2] = 0, e[3] = 1, e[4] = (uint8_t)(rnd % 250 + 1);
			p2pl_put16(e + 5, (uint16_t)(40000 + rnd++ % 20000));
		}
		p2pl_wire_header(m, P2PL_MSG_PEX, sizeof(m) - P2PL_MSG_HDR);
		if (sendmsg_(c, m, sizeof(m)) == 0)
			n_attacks += 32;
		break;
	}
}

/* slow: one byte of the requested piece each tick. */
static void
trickle(struct conn *c)
{
	if (c->trickle == NULL)
		return;
	peerio_send(c->fd, c->trickle->msg + c->trickled, 1);
	if (++c->trickled == c->trickle->msglen) {
		p2pl_piece_unref(c->trickle);
		c->trickle = NULL;
	}
}

/* Ask the publisher for the pieces after the newest we hold. */
static void
pull_up(struct conn *c)
{
	if (!c->up || !c->helloed || newest == 0)
		return;
	for (uint64_t s = newest; s < newest + 4; s++)
		send_u64(c, P2PL_MSG_REQUEST, s);
}

/* Knock again at the door of every neighbour that dropped us. */
static void
redial(uint64_t now)
{
	struct conn *c;
	int fd;

	for (int i = 0; i < nvictims; i++) {
		struct victim *v = &victims[i];

		if (v->dropped == 0 || v->port == 0 || now < v->next_redial)
			continue;
		v->next_redial = now + 1000000;
		fd = peerio_connect(src, "127.0.0.1", v->port, uri.key);
		if (fd == -1) {
			n_refused++;
			continue;
		}
		if ((c = conn_add(fd, 0)) != NULL)
			c->redial = 1;
	}
}

static void
dial_idle(char **targets, int ntargets, int count)
{
	static int i;
	struct rlimit rl;
	char host[64], from[64];
	const char *colon;
	unsigned a, b, c, d;
	int fd, port;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (count += i; i < count && ntargets > 0 && !done; i++) {
		const char *t = targets[i % ntargets];

		colon = strrchr(t, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(colon - t), t);
		port = atoi(colon + 1);
		if (sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
			errx(2, "%s: not an IPv4 address", src);
		snprintf(from, sizeof(from), "%u.%u.%u.%u", a, b, c,
		    (d + (unsigned)(i % naddr)) % 256);
		if ((fd = peerio_connect(from, host, port, uri.key)) == -1) {
			warn("connect %s (%d open)", t, nconns);
			break;
		}
		conn_add(fd, 0);
		n_conns += mode == IDLE;	/* conn_add counts the others */
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: attacker [-a NADDR] [-b SRC] [-c HOST:PORT]... "
	    "[-d DIR] [-n COUNT] [-t SECS] MODE URI\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct pollfd pfd[CONNS_MAX + 1];
	char *targets[16], host[64];
	const char *colon;
	int ch, ntargets = 0, count = 1000, secs = 30, lfd, fd, i, n;
	uint64_t now, end, last_tick = 0;

	while ((ch = getopt(argc, argv, "a:b:c:d:n:t:")) != -1) {
		switch (ch) {
		case 'a':
			if ((naddr = atoi(optarg)) < 1 || naddr > 64)
				usage();
			break;
		case 'b': src = optarg; break;
		case 'c':
			if (ntargets == 16 || strrchr(optarg, ':') == NULL)
				usage();
			targets[ntargets++] = optarg;
			break;
		case 'd': dir = optarg; break;
		case 'n': count = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	for (mode = 0; modes[mode] != NULL; mode++)
		if (strcmp(modes[mode], argv[0]) == 0)
			break;
	if (modes[mode] == NULL)
		usage();
	if (sodium_init() < 0 || p2pl_uri_parse(argv[1], &uri, NULL, 0) == -1)
		errx(2, "bad uri %s", argv[1]);
	crypto_sign_keypair(mykey.pk, mykey.sk);
	randombytes_buf(myid, sizeof(myid));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if ((lfd = peerio_listen(src, 0, &myport)) == -1)
		err(1, "listen on %s", src);
	printf("listening %d\n", myport);
	fflush(stdout);
	if (mode == IDLE || mode == CROWD) {
		dial_idle(targets, ntargets, count);
		printf("opened %ld\n", n_conns);
		fflush(stdout);
	}
	else {
		if (uri.npeers > 0 && (fd = peerio_connect(src, uri.peers[0].host,
		    uri.peers[0].port, uri.key)) != -1)
			conn_add(fd, 1);
		for (i = 0; i < ntargets; i++) {
			colon = strrchr(targets[i], ':');
			snprintf(host, sizeof(host), "%.*s",
			    (int)(colon - targets[i]), targets[i]);
			if ((fd = peerio_connect(src, host, atoi(colon + 1),
			    uri.key)) != -1)
				conn_add(fd, 0);
		}
	}
	end = p2pl_wall_us() + (uint64_t)secs * 1000000;
	while (!done && (now = p2pl_wall_us()) < end) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < nconns; i++)
			pfd[i + 1] = (struct pollfd){ .fd = conns[i]->fd,
			    .events = POLLIN };
		n = nconns;
		if (poll(pfd, (nfds_t)n + 1, mode == SLOW ? 100 : 20) == -1 &&
		    errno != EINTR)
			err(1, "poll");
		if (pfd[0].revents & POLLIN)
			while ((fd = peerio_accept(lfd, uri.key)) != -1)
				conn_add(fd, 0);
		/* backwards: conn_del moves the last into the hole */
		for (i = n - 1; i >= 0; i--)
			if (pfd[i + 1].revents != 0 && conn_read(conns[i]) == -1)
				conn_del(i);
		if ((mode == IDLE || mode == CROWD) && nconns < n)
			/* keep the flood up */
			dial_idle(targets, ntargets, n - nconns);
		now = p2pl_wall_us();
		for (i = 0; i < nconns; i++)
			trickle(conns[i]);
		if (now < last_tick + (mode == PEX ? 100000 : 40000))
			continue;
		last_tick = now;
		for (i = 0; i < nconns; i++) {
			attack_tick(conns[i], now);
			pull_up(conns[i]);
		}
		redial(now);
		for (i = 0; i < nconns; i++)
			if (conns[i]->redial && conns[i]->helloed &&
			    now > conns[i]->born + 2000000) {
				n_readmitted++;
				conns[i]->redial = 0;
				if (conns[i]->victim >= 0)
					victims[conns[i]->victim].dropped = 0;
			}
	}
	printf("attacker %s: conns %ld attacks %ld dropped %ld readmitted %ld "
	    "refused %ld open %d\n", modes[mode], n_conns, n_attacks, n_dropped,
	    n_readmitted, n_refused, nconns);
	return 0;
}
