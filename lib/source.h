/*
 * source.h - the publisher's media input, cut into chunks of MPEG-TS.
 *
 * A source opens a live input with libavformat: "-" for MPEG-TS (or any
 * format libavformat recognises) on standard input, or a file name or URL
 * (rtsp://, http://, ...).  It remuxes every stream, without transcoding,
 * to MPEG-TS and cuts the TS byte stream into chunks, which the publisher
 * signs as pieces.
 *
 * A chunk is a whole number of 188-byte TS packets and at most piece_size
 * bytes (rounded down to a multiple of 188).  A chunk ends when it is full,
 * when its first byte is older than piece_us (checked after each packet
 * and while waiting for input), or just before a video keyframe.  A chunk
 * cut because it is full may end inside a PES packet (a frame); it is
 * flagged P2PL_CHUNK_CONT.  A keyframe starts a new chunk flagged
 * P2PL_CHUNK_JOIN: it begins with the PAT and the PMT, and H.264 or HEVC
 * keyframes carry their parameter sets in-band, so a decoder can start
 * there.  Without video, the first chunk at an audio packet boundary at
 * least one second (of stream time) after the last join point is a join
 * point.  Packets before the first video keyframe are dropped, so the
 * first chunk is always a join point.  SDT and NIT tables are left out of
 * the output (players do not need them and they would precede the PAT).
 *
 * Streams that MPEG-TS cannot carry make p2pl_source_open() fail, naming
 * the codec ("codec vp9 cannot be carried in MPEG-TS"); subtitle, data and
 * attachment streams it cannot carry are dropped.  Packets whose decoding
 * timestamp does not increase are dropped.
 *
 * Output timestamps follow the wall clock: each opening's first packet is
 * stamped with the wall clock in 90 kHz units (written modulo 2^33),
 * rounded down to a whole number of video frames, or with the end of the
 * output so far (the latest presentation time plus duration, rounded up
 * to a whole frame) if that is later; the others keep their distance to
 * it.
 * So per stream, decoding timestamps only ever increase, across an input
 * that is opened again and, as long as the input runs at real time,
 * across a restart of the publisher.
 *
 * A live input that drops out can be opened again (p2pl_source_reopen())
 * and run again.  Each opening gets a new muxer, whose first chunk is
 * flagged P2PL_CHUNK_START: its continuity counters start again and its
 * first packets carry the discontinuity indicator.
 *
 * p2pl_source_run() blocks; the publisher calls it from its own thread.
 * Nothing here prints: errors come back as -1 and a message in err, and
 * libavformat's own log is captured (per thread) into those messages
 * unless p2pl_source_loglevel() asks for it on stderr.
 */
#ifndef P2PL_SOURCE_H
#define P2PL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_CHUNK_JOIN 0x01	/* a decoder can start at this chunk */
#define P2PL_CHUNK_CONT 0x02	/* cut inside a PES packet */
#define P2PL_CHUNK_START 0x04	/* the first chunk of an opening */

#define P2PL_SOURCE_REFUSED (-2)	/* a codec MPEG-TS cannot carry */

struct p2pl_source_cfg {
	size_t piece_size;	/* max chunk bytes, e.g. 16384; at least 1024 */
	uint64_t piece_us;	/* max age of a chunk's first byte, e.g. 50000 */
	int rw_timeout_s;	/* input read timeout, 0 = none */
};

/*
 * Whether url is a listening input: a URL with listen set (see
 * p2pl_source_listen()), or an srt:// URL with mode=listener.  Opening such an input waits for a
 * sender to connect (an encoder such as OBS pushing rtmp:// or srt://),
 * for as long as it takes: the read timeout starts once it connected.
 * libavformat's listen mode is used: mode=listener for srt://, the
 * listen option for rtmp://, tcp:// and http://.  Each opening listens
 * again and takes one sender.
 */
int p2pl_source_listens(const char *url, int listen);

/*
 * Called for every finished chunk, in order.  data is valid only during
 * the call.  Return 0 to go on, -1 to stop p2pl_source_run().
 */
typedef int (*p2pl_chunk_fn)(void *arg, const uint8_t *data, size_t len,
    unsigned flags);

struct p2pl_source;

/*
 * A source for url ("-" is standard input), not yet opened.  NULL with
 * err set if cfg is out of range or memory runs out.
 */
struct p2pl_source *p2pl_source_new(const char *url,
    const struct p2pl_source_cfg *cfg, char *err, size_t errlen);

/*
 * Open the source's input, first or again after a run ended, and probe its
 * streams (this reads up to about one second of input).  Returns 0, or
 * with err set P2PL_SOURCE_REFUSED ("codec vp9 cannot be carried in
 * MPEG-TS": trying again will not help) or -1 ("input is empty", "no
 * media stream found in input", a timeout, or libavformat's reason).
 * stop, which may be NULL, interrupts the opening as in p2pl_source_run().
 * After a failure the source is closed and may be reopened.
 */
int p2pl_source_reopen(struct p2pl_source *src, volatile int *stop,
    char *err, size_t errlen);

/* Make src's URL a listening input (see p2pl_source_listens()). */
void p2pl_source_listen(struct p2pl_source *src);

/* p2pl_source_new() and p2pl_source_reopen() in one; NULL on failure. */
struct p2pl_source *p2pl_source_open(const char *url,
    const struct p2pl_source_cfg *cfg, char *err, size_t errlen);

/*
 * Demux, remux and cut until the end of the input (0, after the last,
 * partial chunk), an error (-1 with err set, after the last chunk too),
 * fn returning -1 (-1 with
 * "stopped by the chunk callback") or *stop becoming nonzero (0).  stop
 * may be NULL; it is checked while blocked on input (a network read or
 * standard input), at least every 100 ms, so another thread can end the
 * run by setting it.  If cfg->rw_timeout_s is nonzero and no packet
 * arrives for that long, the run fails with "input timed out".
 * Call it once per opening.
 */
int p2pl_source_run(struct p2pl_source *src, p2pl_chunk_fn fn, void *arg,
    volatile int *stop, char *err, size_t errlen);

/*
 * Average bit rate of the chunks emitted by the current run, in bits per
 * second over the monotonic time since it started; 0 if unknown.  Safe to call
 * from another thread while p2pl_source_run() runs.
 */
uint64_t p2pl_source_bitrate(const struct p2pl_source *src);

/* Short description of the streams for a log line: "h264 320x240, aac 44100 Hz". */
const char *p2pl_source_describe(const struct p2pl_source *src);

void p2pl_source_free(struct p2pl_source *src);

/*
 * libavformat's log: 0 (the default) prints nothing and keeps errors for
 * the messages above; 1 also prints warnings and errors on stderr, 2 also
 * information.  Applies to the whole process.
 */
void p2pl_source_loglevel(int verbose);

#endif
