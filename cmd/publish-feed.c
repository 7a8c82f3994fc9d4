/*
 * publish-feed.c - p2pl-publish's source thread: open the input, run it,
 * sign each chunk it cuts (sealed first for a private stream) and pass
 * the piece to the event loop through a pipe; when the input ends or
 * fails, open it again after a wait that doubles, as --retry allows.
 * p2pl-publish.c runs the swarm on the other side of the pipe.
 */
#include "publish.h"
#include "piece.h"
#include "prog.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Source thread: sign each chunk and pass the piece to the loop. */
static int
on_chunk(void *arg, const uint8_t *data, size_t len, unsigned flags)
{
	static uint8_t sealed[P2PL_PAYLOAD_MAX];	/* source thread only */
	struct publish *pb = arg;
	struct p2pl_piece *p;
	unsigned pf = ((flags & P2PL_CHUNK_JOIN) ? P2PL_PIECE_JOIN : 0) |
	    ((flags & P2PL_CHUNK_CONT) ? P2PL_PIECE_CONT : 0);
	uint64_t stamp;

	if (pb->seq == 0) {
		/* sequence numbers outrun any restart: they start at the
		 * wall clock in milliseconds */
		pb->seq = p2pl_wall_us() / 1000;
		pf |= P2PL_PIECE_RESTART;
	}
	/* a reopened input's new muxer starts its continuity counters
	 * again: viewers treat it as a restart, with no gap in the numbers */
	if (flags & P2PL_CHUNK_START)
		pf |= P2PL_PIECE_RESTART;
	stamp = p2pl_wall_us();
	if (pb->private && len <= sizeof(sealed)) {
		memcpy(sealed, data, len);
		p2pl_piece_crypt(sealed, len, pb->secret, pb->seq, stamp);
		data = sealed;
		pf |= P2PL_PIECE_SECRET;
	}
	p = p2pl_piece_make(&pb->key, pb->seq++, stamp, pf, data, len,
	    pb->err, sizeof(pb->err));
	if (p == NULL) {
		pb->cbfail = 1;
		return -1;
	}
	if (write(pb->pipe[1], &p, sizeof(p)) != sizeof(p)) {
		snprintf(pb->err, sizeof(pb->err), "%s", strerror(errno));
		p2pl_piece_unref(p);
		pb->cbfail = 1;
		return -1;
	}
	pb->chunks++;
	return 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleep ms milliseconds, or less if asked to stop. */
static void
nap(struct publish *pb, uint64_t ms)
{
	uint64_t until = mono_ms() + ms;

	while (!pb->stop && mono_ms() < until)
		usleep(50000);
}

/* Say the input is up, after failures ("opened") or a loss ("back"). */
static void
say_up(struct publish *pb, int fails, int opened, uint64_t since)
{
	if (fails > 0 && p2pl_verbosity >= P2PL_LOG_WARN)
		fprintf(stderr, "p2pl-publish: %s: input %s after %.1f s (%s)\n",
		    pb->name, opened ? "back" : "opened",
		    (double)(mono_ms() - since) / 1e3,
		    p2pl_source_describe(pb->src));
	else if (p2pl_verbosity >= P2PL_LOG_INFO)
		fprintf(stderr, "p2pl-publish: %s: %s\n", pb->name,
		    p2pl_source_describe(pb->src));
}

/*
 * Open the input and run it; when it ends or fails, open it again after a
 * wait that doubles from RETRY_MIN_MS to RETRY_MAX_MS, for as long as
 * --retry allows.  The swarm stays up meanwhile.  0 when the input ended
 * (or on stop), -1 with pb->err set when it failed for good.
 */
static int
feed(struct publish *pb)
{
	uint64_t wait = RETRY_MIN_MS, lost = mono_ms(), before;
	char shown[P2PL_ERRLEN] = "";
	int fails = 0, opened = 0, ran, rc;

	for (;;) {
		ran = 0;
		if (pb->listens && p2pl_verbosity >= P2PL_LOG_INFO)
			fprintf(stderr, "p2pl-publish: %s: waiting for the "
			    "sender to connect\n", pb->name);
		rc = p2pl_source_reopen(pb->src, &pb->stop, pb->err,
		    sizeof(pb->err));
		if (pb->stop)
			return 0;
		if (rc == P2PL_SOURCE_REFUSED)
			return -1;
		if (rc == 0) {
			if (opened > 0)
				atomic_fetch_add(&pb->reopens, 1);
			say_up(pb, fails, opened, lost);
			opened++;
			ran = 1;
			before = pb->chunks;
			rc = p2pl_source_run(pb->src, on_chunk, pb, &pb->stop,
			    pb->err, sizeof(pb->err));
			if (pb->stop)
				return 0;
			if (pb->cbfail)
				return -1;
			if (rc == 0)
				snprintf(pb->err, sizeof(pb->err), "end of input");
			if (pb->chunks > before) {
				/* it worked for a while: a new outage, with
				 * a new count for a URL (a file would play
				 * again and again) */
				lost = mono_ms();
				shown[0] = '\0';
				if (pb->url) {
					fails = 0;
					wait = RETRY_MIN_MS;
				}
			}
		}
		if (pb->retry != RETRY_FOREVER && fails >= pb->retry) {
			if (ran && rc == 0)
				return 0;	/* the input ended */
			if (pb->retry > 0) {
				size_t n = strlen(pb->err);
				snprintf(pb->err + n, sizeof(pb->err) - n,
				    "; giving up after %d %s", fails,
				    fails == 1 ? "retry" : "retries");
			}
			return -1;
		}
		fails++;
		/* one line per outage, and again if the reason changes */
		if (p2pl_verbosity >= P2PL_LOG_WARN && (strcmp(shown,
		    pb->err) != 0 || p2pl_verbosity >= P2PL_LOG_INFO))
			fprintf(stderr, "p2pl-publish: %s: %s%s; %s in %.1f s\n",
			    pb->name, ran ? "input lost: " : "", pb->err,
			    pb->listens ? "listening again" : ran ?
			    "reconnecting" : "retrying", (double)wait / 1e3);
		snprintf(shown, sizeof(shown), "%s", pb->err);
		nap(pb, wait);
		if (pb->stop)
			return 0;
		wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
		/* a listener's failure is mostly its sender's: be back soon */
		if (pb->listens && wait > RETRY_LISTEN_MS)
			wait = RETRY_LISTEN_MS;
	}
}

void *
p2pl_publish_feed(void *arg)
{
	struct publish *pb = arg;
	struct p2pl_piece *end = NULL;	/* NULL says the input ended */

	if (feed(pb) == -1 && !pb->stop)
		end = INPUT_FAILED(pb);
	if (write(pb->pipe[1], &end, sizeof(end)) != sizeof(end))
		pb->stop = 1;
	return NULL;
}
