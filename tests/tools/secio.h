/*
 * secio.h - the peer connection's encryption (lib/secure.h) on a plain
 * blocking socket, for the test tools that play hostile peers.
 * Header only: each tool is one C file.
 */
#ifndef SECIO_H
#define SECIO_H

#include "secure.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct secio {
	int fd;
	struct p2pl_sec sec;
	uint8_t in[2 * P2PL_SEC_FRAME_MAX];
	size_t inlen;
};

static int
secio_writeall(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Swap keys on fd and bind them to the stream's key; -1 on failure. */
static int
secio_start(struct secio *s, int fd, int initiator, const uint8_t key[32])
{
	uint8_t pk[P2PL_SEC_PKLEN];
	size_t got = 0;
	ssize_t r;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	p2pl_sec_init(&s->sec, initiator);
	if (secio_writeall(fd, s->sec.pk, sizeof(pk)) == -1)
		return -1;
	while (got < sizeof(pk)) {
		if ((r = read(fd, pk + got, sizeof(pk) - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	if (p2pl_sec_exchange(&s->sec, pk) == -1)
		return -1;
	p2pl_sec_bind(&s->sec, key);
	return 0;
}

/* Send len bytes, sealed in frames. */
static int
secio_write(struct secio *s, const uint8_t *p, size_t len)
{
	uint8_t frame[P2PL_SEC_FRAME_MAX];
	size_t n;

	while (len > 0) {
		n = p2pl_sec_room(&s->sec, len);
		if (secio_writeall(s->fd, frame, p2pl_sec_seal(&s->sec, p, n,
		    frame)) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * One read() from the socket; the plaintext of the frames now whole goes
 * to out (room for cap, at least 2 * P2PL_SEC_CHUNK).  Returns its length
 * (0: no whole frame yet), or -1 at the end or on a bad frame.
 */
static long
secio_read(struct secio *s, uint8_t *out, size_t cap)
{
	size_t used = 0, off = 0;
	ssize_t r;
	long size, n;

	r = read(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen);
	if (r <= 0)
		return -1;
	s->inlen += (size_t)r;
	while (s->inlen - off >= P2PL_SEC_HDR) {
		if ((size = p2pl_sec_next_size(&s->sec, s->in + off)) == -1)
			return -1;
		if (s->inlen - off < (size_t)size || cap - used < P2PL_SEC_CHUNK)
			break;
		n = p2pl_sec_open(&s->sec, s->in + off, (size_t)size,
		    out + used, 0);
		if (n < 0)
			return -1;
		used += (size_t)n;
		off += (size_t)size;
	}
	memmove(s->in, s->in + off, s->inlen - off);
	s->inlen -= off;
	return (long)used;
}

#endif
