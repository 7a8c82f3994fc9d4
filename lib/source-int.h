/*
 * source-int.h - the insides of a source, shared by source.c (opening the
 * input and the muxer, cutting the TS into chunks) and remux.c (each
 * packet's way from the demuxer to the muxer, and the run loop).  Not an
 * API.
 */
#ifndef P2PL_SOURCE_INT_H
#define P2PL_SOURCE_INT_H

#include "source.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TS		188
#define PID_NIT		0x0010
#define PID_SDT		0x0011
#define AUDIO_JOIN_US	1000000	/* join points without video */
#define PREROLL_MAX	10000	/* packets dropped waiting for a keyframe */
#define IOBUF		65536
#define TS_HZ		90000	/* MPEG-TS's clock, the muxer's time base */
#define TS_LIMIT	(INT64_C(1) << 50)	/* |timestamps| we do sums on */

/* FFmpeg 7 made the AVIO write callback's buffer const. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
typedef const uint8_t wbuf_t;
#else
typedef uint8_t wbuf_t;
/* source.c */
extern _Thread_local char p2pl__src_lasterr[256];	/* libav's last error */
/* err = the formatted message, libav's reason for averr and its last log. */
void p2pl__src_seterr(char *err, size_t errlen, int averr,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
uint64_t p2pl__src_now(void);	/* monotonic µs */
/* Give the chunk being built to the chunk function. */
void p2pl__src_emit(struct p2pl_source *src);
/* Explain why opening (url) or reading (url NULL) the input failed. */
int p2pl__src_input_err(struct p2pl_source *src, const char *url, int ret,
    char *err, size_t errlen);

#endif

struct p2pl_source {
	struct p2pl_source_cfg cfg;
	char *url;
	size_t cap;			/* piece_size rounded down to TS */
	unsigned opens;			/* successful openings of the input */
	int listen;			/* p2pl_source_listen() */
	int fresh;			/* the next chunk is an opening's first */
	int64_t end;			/* TS_HZ: where the output so far ends */
	int64_t shift;			/* TS_HZ: added to this opening's times */
	AVFormatContext *ic;
	AVFormatContext *oc;
	AVIOContext *inpb;		/* our standard input reader, or NULL */
	AVIOContext *netpb;		/* a listening input's connection */
	uint64_t inbytes;		/* read by inpb */
	int *map;			/* input stream -> output stream or -1 */
	unsigned nmap;
	int64_t *last_dts;		/* per output stream, output time base */
	int vidx;			/* input video stream cut at keyframes */
	int aidx;			/* input audio stream cut without video */
	int64_t join_us;		/* stream time of the last audio join */
	int started;			/* first keyframe written */
	unsigned dropped;		/* packets dropped before it */
	int want_join;			/* the next chunk is a join point */
	volatile int *stop;
	pthread_t thread;		/* running p2pl_source_run() */
	uint64_t deadline;		/* monotonic µs, 0 = none */
	int timedout;
	p2pl_chunk_fn fn;
	void *arg;
	int cbstop;			/* fn returned nonzero */
	uint8_t part[TS];		/* a TS packet being written by the muxer */
	size_t plen;
	uint8_t *chunk;
	size_t clen;
	unsigned cflags;
	uint64_t ct0;			/* when the chunk's first byte came */
	_Atomic uint64_t bytes;		/* emitted */
	_Atomic uint64_t t0;		/* run start, monotonic µs */
	char desc[256];
};

/* source.c */
extern _Thread_local char p2pl__src_lasterr[256];	/* libav's last error */
/* err = the formatted message, libav's reason for averr and its last log. */
void p2pl__src_seterr(char *err, size_t errlen, int averr,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
uint64_t p2pl__src_now(void);	/* monotonic µs */
/* Give the chunk being built to the chunk function. */
void p2pl__src_emit(struct p2pl_source *src);
/* Explain why opening (url) or reading (url NULL) the input failed. */
int p2pl__src_input_err(struct p2pl_source *src, const char *url, int ret,
    char *err, size_t errlen);

#endif
