/*
 * publish.h - what p2pl-publish's two files share: p2pl-publish.c (options,
 * the swarm, the event loop) and publish-feed.c (the source thread, which
 * opens and reopens the input and signs its chunks).  Not an API.
 */
#ifndef P2PL_PUBLISH_H
#define P2PL_PUBLISH_H

#include "key.h"
#include "net.h"
#include "mediaout.h"
#include "source.h"
#include "uri.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_INPUT 1
#define EXIT_USAGE 2
#define EXIT_KEY 3
#define EXIT_NET 4
#define OUT_CAP (16 * 1024 * 1024)
#define RETRY_MIN_MS 500	/* first wait before reopening a lost input */
#define RETRY_MAX_MS 10000	/* the longest wait between two tries */
#define RETRY_LISTEN_MS 1000	/* the longest for a listening input */
#define RETRY_FOREVER (-1)
#define URL_TIMEOUT_S 10	/* default --timeout for URL inputs */

struct publish {
	struct event_base *base;
	struct p2pl_net *net;
	struct p2pl_mediaout *out;
	struct p2pl_source *src;
	struct p2pl_key key;
	const char *name;	/* for messages: "stdin" or the input */
	int retry;		/* reopenings in a row, or RETRY_FOREVER */
	int url;		/* the input is a URL, not stdin or a file */
	int listens;		/* that URL is ours to listen on (-L, srt) */
	FILE *stats;
	char keystr[P2PL_KEY_B32LEN + 1];
	int pipe[2];		/* source thread -> loop: piece pointers */
	volatile int stop;
	uint64_t seq;		/* the source thread's */
	int private;		/* --private: payloads encrypted */
	uint8_t secret[32];
	uint64_t chunks;	/* the source thread's: chunks taken */
	int cbfail;		/* the source thread's: signing or pipe failed */
	_Atomic uint64_t reopens;	/* openings after the first */
	uint64_t pieces;	/* pieces the loop took */
	uint64_t bytes;		/* their payload bytes */
	const char *trackers[P2PL_URI_TRACKERS];
	int ntrackers;
	int status, eof;
	char err[P2PL_ERRLEN];	/* the source thread's error */
};

/* What the source thread passes for "the input failed" (NULL: it ended). */
#define INPUT_FAILED(pb) ((struct p2pl_piece *)(pb))

/* publish-feed.c: the source thread's body (arg: the struct publish);
 * it ends by passing NULL or INPUT_FAILED through the pipe. */
void *p2pl_publish_feed(void *arg);

#endif
