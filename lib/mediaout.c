/* mediaout.c - write verified media to stdout without blocking the loop. */
#include "mediaout.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKS 4096
#define HELD 64			/* pieces of one PES held back, at most */
#define TS 188
#define NPID 8192

struct mark {
	uint64_t end;		/* written offset at which the piece is out */
	uint64_t stamp;
	int cont;		/* the piece ends mid-frame: the next ends it */
};

/* MPEG-TS continuity of one PID as written. */
struct pidcc {
	uint8_t last;		/* last continuity counter written, 16 = none */
	uint8_t off;		/* added to the counters of this splice */
	uint16_t epoch;		/* splice for which off was set */
};

struct p2pl_mediaout {
	int fd;
	int async;		/* pipe or socket: written from the loop */
	int failed, resync, frames;
	int started;		/* a piece came; next is the seq due */
	uint64_t next;
	struct p2pl_piece *held[HELD];	/* CONT pieces waiting for the rest */
	unsigned nheld;
	uint16_t epoch;		/* splices so far */
	struct pidcc cc[NPID];
	size_t cap;
	uint64_t lag;		/* most a wait may reach back, µs; 0: any */
	struct evbuffer *buf;
	struct event *ev;
	uint64_t queued, written;
	struct mark marks[MARKS];
	unsigned mhead, mtail;
	void (*on_error)(void *, int);
	void *arg;
	struct p2pl_mediaout_stats st;
};

static void
account(struct p2pl_mediaout *o)
{
	uint64_t now = p2pl_wall_us();
	struct mark *m;

	while (o->mtail != o->mhead) {
		m = &o->marks[o->mtail % MARKS];
		if (m->end > o->written)
			break;
		p2pl_hist_add(&o->st.interval, (int64_t)(now - m->stamp));
		p2pl_hist_add(&o->st.total, (int64_t)(now - m->stamp));
		p2pl_loghist_add(&o->st.all, (int64_t)(now - m->stamp));
		o->st.pieces++;
		o->mtail++;
	}
}

static void
fail(struct p2pl_mediaout *o, int e)
{
	o->failed = 1;
	evbuffer_drain(o->buf, evbuffer_get_length(o->buf));
	if (o->ev != NULL)
		event_del(o->ev);
	o->on_error(o->arg, e);
}

/* Write what the descriptor takes now; arm the write event for the rest. */
static void
flush(struct p2pl_mediaout *o)
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

/*
 * Renumber the continuity counters of a piece's TS packets so that they
 * follow what was written before the last splice: a player's demuxer then
 * sees one continuous stream, not a damaged one.  With out NULL, note the
 * counters and return whether any changes; else write the packets of in,
 * renumbered, to out.
 */
static int
continuity(struct p2pl_mediaout *o, const uint8_t *in, uint8_t *out, size_t len)
{
	struct pidcc *c;
	unsigned pid, cc;
	size_t i;
	int changed = 0;

	if (len % TS != 0)
		return 0;
	for (i = 0; i < len; i += TS)
		if (in[i] != 0x47)
			return 0;
	for (i = 0; i < len; i += TS) {
		pid = (unsigned)(in[i + 1] & 0x1f) << 8 | in[i + 2];
		if (pid == NPID - 1)
			continue;	/* null packets carry no counter */
		c = &o->cc[pid];
		cc = in[i + 3] & 0x0f;
		if (out == NULL && c->epoch != o->epoch) {
			c->epoch = o->epoch;
			c->off = c->last < 16 ?
			    (uint8_t)((c->last + 1 - cc) & 0x0f) : 0;
			if (!(in[i + 3] & 0x10))	/* no payload: repeats */
				c->off = (uint8_t)((c->off + 15) & 0x0f);
		}
		changed |= c->off != 0;
		cc = (cc + c->off) & 0x0f;
		if (out != NULL) {
			memcpy(out + i, in + i, TS);
			out[i + 3] = (uint8_t)((in[i + 3] & 0xf0) | cc);
		} else
			c->last = (uint8_t)cc;
	}
	return changed;
}

/* Queue a piece's bytes for writing. */
static void
queue(struct p2pl_mediaout *o, struct p2pl_piece *p)
{
	const uint8_t *data = o->frames ? p->msg : p2pl_piece_payload(p);
	size_t len = o->frames ? p->msglen : p->len;
	struct evbuffer_iovec v;

	if (!o->frames && continuity(o, data, NULL, len)) {
		/* the piece is shared and signed: change a copy */
		if (evbuffer_reserve_space(o->buf, (ev_ssize_t)len, &v, 1) < 1 ||
		    v.iov_len < len) {
			fail(o, ENOMEM);
			return;
		}
		continuity(o, data, v.iov_base, len);
		v.iov_len = len;
		evbuffer_commit_space(o->buf, &v, 1);
	} else
		evbuffer_add_reference(o->buf, data, len, unref_cb,
		    p2pl_piece_ref(p));
	o->queued += len;
	o->marks[o->mhead % MARKS] = (struct mark){ o->queued, p->stamp,
	    (p->flags & P2PL_PIECE_CONT) != 0 };
	o->mhead++;
}

static void
drop_held(struct p2pl_mediaout *o)
{
	while (o->nheld > 0) {
		p2pl_piece_unref(o->held[--o->nheld]);
		o->st.dropped++;
	}
}

/* From here on, write only from a join point, as after a new start. */
static void
resync(struct p2pl_mediaout *o)
{
	drop_held(o);
	o->resync = 1;
}

/*
 * Bytes queued in buf are dropped: the continuity counters noted when they
 * were queued must go back to those of the last packet kept, which is just
 * before the first dropped packet of each PID.
 */
static void
rewind_cc(struct p2pl_mediaout *o, struct evbuffer *buf)
{
	static uint8_t seen[NPID / 8];
	size_t len = evbuffer_get_length(buf), i;
	const uint8_t *d;
	unsigned pid, cc;

	if (o->frames || len == 0 || (d = evbuffer_pullup(buf, -1)) == NULL)
		return;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i + TS <= len && d[i] == 0x47; i += TS) {
		pid = (unsigned)(d[i + 1] & 0x1f) << 8 | d[i + 2];
		if (pid == NPID - 1 || (seen[pid / 8] & (1 << pid % 8)))
			continue;
		seen[pid / 8] |= (uint8_t)(1 << pid % 8);
		cc = d[i + 3] & 0x0f;
		/* a packet without payload repeats the counter before it */
		o->cc[pid].last = (uint8_t)((d[i + 3] & 0x10) ? (cc + 15) & 0x0f : cc);
	}
}

/*
 * The reader stopped (a paused player) and what waits reaches back more
 * than lag behind the newest piece: keep the piece being written and those
 * that end its frame, drop the rest and go on from the next join point, so
 * the player resumes at most lag behind live instead of replaying it all.
 */
static void
trim(struct p2pl_mediaout *o, uint64_t stamp)
{
	struct evbuffer *nb;
	unsigned m = o->mtail;
	uint64_t keep;

	if (o->lag == 0 || m == o->mhead ||
	    o->marks[m % MARKS].stamp + o->lag >= stamp)
		return;
	while (m + 1 != o->mhead && o->marks[m % MARKS].cont)
		m++;
	keep = o->marks[m % MARKS].end - o->written;
	if ((nb = evbuffer_new()) == NULL)
		return;
	if (evbuffer_remove_buffer(o->buf, nb, (size_t)keep) != (int)keep) {
		evbuffer_free(nb);
		return;
	}
	rewind_cc(o, o->buf);
	evbuffer_free(o->buf);	/* unreferences the pieces dropped */
	o->buf = nb;
	o->st.dropped += o->mhead - (m + 1);
	o->mhead = m + 1;
	o->queued = o->written + keep;
	resync(o);
}

void
p2pl_mediaout_piece(struct p2pl_mediaout *o, struct p2pl_piece *p)
{
	size_t len = o->frames ? p->msglen : p->len;
	unsigned i;

	if (o->failed)
		return;
	trim(o, p->stamp);
	if (!o->frames) {
		if (p->flags & P2PL_PIECE_RESTART) {
			drop_held(o);	/* the old session's, never ended */
			o->epoch++;
		} else if (o->started && p->seq != o->next)
			resync(o);	/* a gap: the frames after it are lost */
		o->started = 1;
		o->next = p->seq + 1;
	}
	if (o->resync && !(p->flags & P2PL_PIECE_JOIN)) {
		o->st.dropped++;
		return;
	}
	if (evbuffer_get_length(o->buf) + len > o->cap ||
	    o->mhead - o->mtail + o->nheld + 1 >= MARKS) {
		resync(o);
		o->st.dropped++;
		return;
	}
	if (o->resync) {
		o->resync = 0;
		o->epoch++;
	}
	if (!o->frames && (p->flags & P2PL_PIECE_CONT) && o->nheld < HELD) {
		o->held[o->nheld++] = p2pl_piece_ref(p);
		return;
	}
	for (i = 0; i < o->nheld; i++) {
		queue(o, o->held[i]);
		p2pl_piece_unref(o->held[i]);
	}
	o->nheld = 0;
	queue(o, p);
	flush(o);
}

void
p2pl_mediaout_raw(struct p2pl_mediaout *o, const uint8_t *data, size_t len)
{
	if (o->failed)
		return;
	evbuffer_add(o->buf, data, len);
	o->queued += len;
	flush(o);
}

void
p2pl_mediaout_set_lag(struct p2pl_mediaout *o, uint64_t us)
{
	o->lag = us;
}

void
p2pl_mediaout_set_frames(struct p2pl_mediaout *o, int frames)
{
	o->frames = frames;
}

struct p2pl_mediaout *
p2pl_mediaout_new(struct event_base *base, int fd, size_t cap,
    void (*on_error)(void *, int), void *arg)
{
	struct p2pl_mediaout *o = calloc(1, sizeof(*o));
	struct stat st;

	if (o == NULL)
		return NULL;
	o->fd = fd;
	o->cap = cap;
	p2pl_loghist_init(&o->st.all);
	for (unsigned i = 0; i < NPID; i++)
		o->cc[i].last = 16;
	o->on_error = on_error;
	o->arg = arg;
	o->buf = evbuffer_new();
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		o->async = 1;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		o->ev = event_new(base, fd, EV_WRITE, on_writable, o);
	}
	if (o->buf == NULL || (o->async && o->ev == NULL)) {
		p2pl_mediaout_free(o);
		return NULL;
	}
	return o;
}

void
p2pl_mediaout_free(struct p2pl_mediaout *o)
{
	if (o == NULL)
		return;
	while (o->nheld > 0)
		p2pl_piece_unref(o->held[--o->nheld]);
	if (o->ev != NULL)
		event_free(o->ev);
	if (o->buf != NULL)
		evbuffer_free(o->buf);
	free(o);
}

struct p2pl_mediaout_stats *
p2pl_mediaout_stats(struct p2pl_mediaout *o)
{
	return &o->st;
}

size_t
p2pl_mediaout_pending(const struct p2pl_mediaout *o)
{
	return evbuffer_get_length(o->buf);
}
