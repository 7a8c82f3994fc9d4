/*
 * fuzz-mediaout.c - the playout writer's splicing of media (lib/mediaout.c): gaps,
 * held CONT pieces, RESTARTs and the renumbering of MPEG-TS continuity
 * counters, over whatever payload a piece carries.  The input is a list
 * of pieces, each
 *
 *   u8 flags | u8 sequence step | u16 length (big-endian) | payload
 *
 * written to a pipe drained only after each input (so a wait builds up),
 * with a small cap so the full-buffer path is taken too; with bit 0x40 of
 * the first byte a lag of 3 (stamps are sequence numbers) trims waits.  Checks that the bytes written are
 * never more than the payloads given.
 */
#include "mediaout.h"
#include "util.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct event_base *base;
static int fds[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((base = event_base_new()) == NULL || pipe(fds) == -1)
		abort();
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);	/* a wait builds up soon */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	return 0;
}

static void
on_error(void *arg, int e)
{
	(void)arg;
	(void)e;
}

/* A piece as the core would hand it over, unsigned (mediaout.c never looks). */
static struct p2pl_piece *
piece(uint64_t seq, unsigned flags, const uint8_t *data, size_t len)
{
	size_t msglen = P2PL_MSG_HDR + P2PL_PIECE_HDR + len + P2PL_SIGLEN;
	struct p2pl_piece *p = calloc(1, sizeof(*p) + msglen);

	if (p == NULL)
		abort();
	p->refs = 1;
	p->seq = seq;
	p->stamp = seq;
	p->flags = flags & P2PL_PIECE_FLAGS;
	p->len = (uint32_t)len;
	p->msglen = msglen;
	memcpy(p->msg + P2PL_MSG_HDR + P2PL_PIECE_HDR, data, len);
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pl_mediaout *o = p2pl_mediaout_new(base, fds[1], 16384, on_error, NULL);
	struct p2pl_piece *p;
	uint8_t sink[65536];
	uint64_t seq = 1000, given = 0;
	size_t len;
	ssize_t r;
	int frames = size > 0 && (data[0] & 0x80);

	if (o == NULL)
		abort();
	p2pl_mediaout_set_frames(o, frames);
	/* the second bit: a lag, so waits are trimmed (stamps are steps) */
	if (size > 0 && (data[0] & 0x40))
		p2pl_mediaout_set_lag(o, 3);
	while (size >= 4) {
		len = (size_t)data[2] << 8 | data[3];
		if (len > size - 4)
			len = size - 4;
		seq += data[1] & 0x7f;
		p = piece(seq, data[0], data + 4, len);
		given += frames ? p->msglen : p->len;
		p2pl_mediaout_piece(o, p);
		p2pl_piece_unref(p);
		event_base_loop(base, EVLOOP_NONBLOCK);
		data += 4 + len;
		size -= 4 + len;
	}
	if (p2pl_mediaout_stats(o)->bytes > given)
		abort();	/* wrote bytes no piece carried */
	p2pl_mediaout_free(o);
	while ((r = read(fds[0], sink, sizeof(sink))) > 0)
		;
	return 0;
}
