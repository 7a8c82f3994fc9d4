/*
 * peerio.c - peer connections for the test tools, in the encrypted
 * channel every peer speaks (lib/secure.h); see peerio.h.  Each
 * descriptor has its channel: our key is sent at once, frames are sealed
 * on send and opened on receive.
 */
#include "peerio.h"
#include "secure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FDS 65536

struct chan {
	struct p2pl_sec sec;
	uint8_t key[32];
	uint8_t *in;		/* received, not yet opened */
	size_t inlen, incap;
	uint8_t *plain;		/* opened, not yet returned */
	size_t plen, poff;
};

static struct chan *chans[FDS];

static int send_raw(int fd, const uint8_t *p, size_t len);

/* Start fd's channel: our half of the key exchange goes out now. */
static int
chan_new(int fd, int initiator, const uint8_t *key)
{
	struct chan *c;

	if (fd >= FDS || key == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	p2pl_sec_init(&c->sec, initiator);
	memcpy(c->key, key, sizeof(c->key));
	chans[fd] = c;
	return send_raw(fd, c->sec.pk, P2PL_SEC_PKLEN);
}

static void
chan_free(int fd)
{
	struct chan *c;

	if (fd < 0 || fd >= FDS || (c = chans[fd]) == NULL)
		return;
	free(c->in);
	free(c->plain);
	p2pl_sec_wipe(&c->sec);
	free(c);
	chans[fd] = NULL;
}

/* Read what the socket has into the channel; 0 at EOF, -1 error. */
static ssize_t
fill(int fd, struct chan *c)
{
	uint8_t *q;
	ssize_t n;

	if (c->incap - c->inlen < 4096) {
		if ((q = realloc(c->in, c->incap + 2 * P2PL_SEC_FRAME_MAX)) ==
		    NULL)
			return -1;
		c->in = q;
		c->incap += 2 * P2PL_SEC_FRAME_MAX;
	}
	n = recv(fd, c->in + c->inlen, c->incap - c->inlen, 0);
	if (n > 0)
		c->inlen += (size_t)n;
	return n;
}

/* Key the channel once the peer's half came; open whole frames. */
static int
open_frames(struct chan *c)
{
	size_t off = 0;
	long size, n;
	uint8_t *q;

	if (!c->sec.keyed) {
		if (c->inlen < P2PL_SEC_PKLEN)
			return 0;
		if (p2pl_sec_exchange(&c->sec, c->in) == -1)
			return -1;
		p2pl_sec_bind(&c->sec, c->key);
		off = P2PL_SEC_PKLEN;
	}
	while (c->inlen - off >= P2PL_SEC_HDR) {
		if ((size = p2pl_sec_next_size(&c->sec, c->in + off)) == -1)
			return -1;
		if (c->inlen - off < (size_t)size)
			break;
		if ((q = realloc(c->plain, c->plen + P2PL_SEC_CHUNK)) == NULL)
			return -1;
		c->plain = q;
		n = p2pl_sec_open(&c->sec, c->in + off, (size_t)size,
		    c->plain + c->plen, 0);
		if (n < 0)
			return -1;
		c->plen += (size_t)n;
		off += (size_t)size;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

static int
sin_of(const char *host, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int
peerio_connect(const char *src, const char *host, int port,
    const uint8_t *key)
{
	struct sockaddr_in sa;
	int fd, e;

	if (sin_of(host, port, &sa) == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (src != NULL) {
		struct sockaddr_in me;

		if (sin_of(src, 0, &me) == -1 ||
		    bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	tune(fd);
	if (chan_new(fd, 1, key) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	chan_free(fd);
	close(fd);
	errno = e;
	return -1;
}

int
peerio_listen(const char *host, int port, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if (sin_of(host, port, &sa) == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*bound = ntohs(sa.sin_port);
	return fd;
}

int
peerio_accept(int lfd, const uint8_t *key)
{
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return -1;
	tune(fd);
	if (chan_new(fd, 0, key) == -1) {
		chan_free(fd);
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all len bytes as they are (waits while the socket is full). */
static int
send_raw(int fd, const uint8_t *p, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t w;

	while (len > 0) {
		w = send(fd, p, len, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			/* a peer that reads nothing for a second is given up */
			if (poll(&pfd, 1, 1000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
peerio_send(int fd, const void *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t frame[P2PL_SEC_FRAME_MAX];
	const uint8_t *p = buf;
	struct chan *c;
	size_t n;

	if (fd < 0 || fd >= FDS || (c = chans[fd]) == NULL)
		return -1;
	/* sealing needs the peer's half of the exchange: wait a second */
	while (!c->sec.keyed) {
		if (poll(&pfd, 1, 1000) <= 0 || fill(fd, c) <= 0 ||
		    open_frames(c) == -1)
			return -1;
	}
	while (len > 0) {
		n = p2pl_sec_room(&c->sec, len);
		if (send_raw(fd, frame, p2pl_sec_seal(&c->sec, p, n, frame)) ==
		    -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

ssize_t
peerio_recv(int fd, void *buf, size_t cap)
{
	struct chan *c;
	ssize_t n;
	size_t k;

	if (fd < 0 || fd >= FDS || (c = chans[fd]) == NULL) {
		errno = EBADF;
		return -1;
	}
	if (c->plen == c->poff) {
		c->plen = c->poff = 0;
		if ((n = fill(fd, c)) <= 0)
			return n;
		if (open_frames(c) == -1) {
			errno = EPROTO;
			return -1;
		}
		if (c->plen == 0) {
			errno = EAGAIN;	/* no whole frame yet */
			return -1;
		}
	}
	k = c->plen - c->poff < cap ? c->plen - c->poff : cap;
	memcpy(buf, c->plain + c->poff, k);
	c->poff += k;
	return (ssize_t)k;
}

void
peerio_close(int fd)
{
	chan_free(fd);
	close(fd);
}
