/*
 * mediaout.h - the playout writer: verified pieces' media to a descriptor.
 *
 * Pipes and sockets are written without blocking from the event loop;
 * files and devices are written directly.  The delay of each piece (wall
 * clock when its last byte was written minus the publisher's stamp) goes
 * into two histograms, one per stats interval and one for the whole run,
 * and a log histogram for the whole run.
 * When more than cap bytes wait (the player stopped reading), new pieces
 * are dropped and writing resumes at the next join point, at live.  With
 * a lag set, so does a wait that reaches back further than the lag: the
 * pieces not yet begun are dropped, so a player that resumes after a pause
 * is at most that far behind live.
 *
 * Media (not frames) is spliced so that a player never sees damage: after
 * a gap in sequence numbers, writing resumes at the next join point; a
 * piece flagged CONT (cut mid-frame) is held until the piece after it
 * comes; and after a gap or a RESTART the MPEG-TS continuity counters are
 * renumbered to follow those written before.
 */
#ifndef P2PL_MEDIAOUT_H
#define P2PL_MEDIAOUT_H

#include "piece.h"
#include "histogram.h"

#include <event2/event.h>

struct p2pl_mediaout;

struct p2pl_mediaout_stats {
	uint64_t pieces, bytes;		/* written */
	uint64_t dropped;		/* pieces dropped for a full buffer */
	uint64_t first_byte;		/* wall clock of the first write, µs */
	struct p2pl_hist interval, total;
	struct p2pl_loghist all;	/* the same as total, to add up */
};

/*
 * on_error is called once when writing fails (errno value; EPIPE when the
 * reader went away); after that nothing more is written.
 */
struct p2pl_mediaout *p2pl_mediaout_new(struct event_base *base, int fd, size_t cap,
    void (*on_error)(void *arg, int err), void *arg);
void p2pl_mediaout_free(struct p2pl_mediaout *o);
void p2pl_mediaout_piece(struct p2pl_mediaout *o, struct p2pl_piece *p);
/* Write raw bytes (no delay accounting), e.g. a frame stream header. */
void p2pl_mediaout_raw(struct p2pl_mediaout *o, const uint8_t *data, size_t len);
/* Drop what waits once it reaches back lag µs behind the newest (0: off). */
void p2pl_mediaout_set_lag(struct p2pl_mediaout *o, uint64_t us);
/* With frames set, whole PIECE messages are written instead of media. */
void p2pl_mediaout_set_frames(struct p2pl_mediaout *o, int frames);
struct p2pl_mediaout_stats *p2pl_mediaout_stats(struct p2pl_mediaout *o);
size_t p2pl_mediaout_pending(const struct p2pl_mediaout *o);

#endif
