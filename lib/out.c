/* out.c - write verified media to stdout without blocking the loop. */
#include "out.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKS 4096

struct mark {
	uint64_t end;		/* written offset at which the piece is out */
	uint64_t stamp;
};

struct p2pl_out {
	int fd;
	int async;		/* pipe or socket: written from the loop */
	int failed, resync, frames;
	size_t cap;
	struct evbuffer *buf;
	struct event *ev;
	uint64_t queued, written;
	struct mark marks[MARKS];
	unsigned mhead, mtail;
	void (*on_error)(void *, int);
	void *arg;
	struct p2pl_out_stats st;
};

static void
account(struct p2pl_out *o)
{
	uint64_t now = p2pl_wall_us();
	struct mark *m;

	while (o->mtail != o->mhead) {
		m = &o->marks[o->mtail % MARKS];
		if (m->end > o->written)
			break;
		p2pl_hist_add(&o->st.interval, (int64_t)(now - m->stamp));
		p2pl_hist_add(&o->st.total, (int64_t)(now - m->stamp));
		o->st.pieces++;
		o->mtail++;
	}
}

static void
fail(struct p2pl_out *o, int e)
{
	o->failed = 1;
	evbuffer_drain(o->buf, evbuffer_get_length(o->buf));
	if (o->ev != NULL)
		event_del(o->ev);
	o->on_error(o->arg, e);
}

/* Write what the descriptor takes now; arm the write event for the rest. */
static void
flush(struct p2pl_out *o)
{
	int n;

	while (!o->failed && evbuffer_get_length(o->buf) > 0) {
		n = evbuffer_write(o->buf, o->fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			fail(o, n < 0 ? errno : EPIPE);
			return;
		}
		if (o->written == 0 && o->st.first_byte == 0)
			o->st.first_byte = p2pl_wall_us();
		o->written += (uint64_t)n;
		o->st.bytes += (uint64_t)n;
		account(o);
	}
	if (o->async && !o->failed && evbuffer_get_length(o->buf) > 0)
		event_add(o->ev, NULL);
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

static void
unref_cb(const void *data, size_t len, void *piece)
{
	(void)data;
	(void)len;
	p2pl_piece_unref(piece);
}

void
p2pl_out_piece(struct p2pl_out *o, struct p2pl_piece *p)
{
	const uint8_t *data = o->frames ? p->msg : p2pl_piece_payload(p);
	size_t len = o->frames ? p->msglen : p->len;

	if (o->failed)
		return;
	if (evbuffer_get_length(o->buf) + len > o->cap ||
	    o->mhead - o->mtail == MARKS ||
	    (o->resync && !(p->flags & P2PL_PIECE_JOIN))) {
		o->resync = 1;
		o->st.dropped++;
		return;
	}
	o->resync = 0;
	evbuffer_add_reference(o->buf, data, len, unref_cb, p2pl_piece_ref(p));
	o->queued += len;
	o->marks[o->mhead % MARKS] = (struct mark){ o->queued, p->stamp };
	o->mhead++;
	flush(o);
}

void
p2pl_out_raw(struct p2pl_out *o, const uint8_t *data, size_t len)
{
	if (o->failed)
		return;
	evbuffer_add(o->buf, data, len);
	o->queued += len;
	flush(o);
}

void
p2pl_out_set_frames(struct p2pl_out *o, int frames)
{
	o->frames = frames;
}

struct p2pl_out *
p2pl_out_new(struct event_base *base, int fd, size_t cap,
    void (*on_error)(void *, int), void *arg)
{
	struct p2pl_out *o = calloc(1, sizeof(*o));
	struct stat st;

	if (o == NULL)
		return NULL;
	o->fd = fd;
	o->cap = cap;
	o->on_error = on_error;
	o->arg = arg;
	o->buf = evbuffer_new();
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		o->async = 1;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		o->ev = event_new(base, fd, EV_WRITE, on_writable, o);
	}
	if (o->buf == NULL || (o->async && o->ev == NULL)) {
		p2pl_out_free(o);
		return NULL;
	}
	return o;
}

void
p2pl_out_free(struct p2pl_out *o)
{
	if (o == NULL)
		return;
	if (o->ev != NULL)
		event_free(o->ev);
	if (o->buf != NULL)
		evbuffer_free(o->buf);
	free(o);
}

struct p2pl_out_stats *
p2pl_out_stats(struct p2pl_out *o)
{
	return &o->st;
}

size_t
p2pl_out_pending(const struct p2pl_out *o)
{
	return evbuffer_get_length(o->buf);
}
