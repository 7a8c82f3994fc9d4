/*
 * topsource.h - where p2pl-top gets stats lines from: the control sockets of
 * local processes, one socket or process, a relay's /stats over HTTP, or
 * stats lines on a descriptor (standard input).
 *
 * p2pl_topsource_collect() asks every source once and gives back the lines
 * it got (at most one per process and stream: the newest).  A source that
 * fails does not stop the others; the last problem is kept for the user.
 * Nothing here prints.
 */
#ifndef P2PL_TOPSOURCE_H
#define P2PL_TOPSOURCE_H

#include <stddef.h>

#define P2PL_TOPSOURCE_LINES 1024		/* lines kept per collection */
#define P2PL_TOPSOURCE_REPLY_MAX (4 << 20)	/* bytes read from one source */

struct p2pl_topsource;

struct p2pl_topsource_lines {
	char *line[P2PL_TOPSOURCE_LINES];
	char key[P2PL_TOPSOURCE_LINES][160];	/* "prog pid stream" */
	int n;
};

/*
 * Sources: "" (every local process), a process id, a socket's path, an
 * http:// or https:// URL, or "-" (lines read from fd 0).  -1 with err
 * set if spec names none of those or a process without a socket.
 */
struct p2pl_topsource *p2pl_topsource_new(void);
int p2pl_topsource_add(struct p2pl_topsource *w, const char *spec, char *err,
    size_t errlen);
void p2pl_topsource_free(struct p2pl_topsource *w);
/*
 * Whether spec is a URL of a /metrics page (its path ends in /metrics):
 * Prometheus's text format, whose p2pl_* samples (metrics.h) are read
 * as one stats line per stream, without neighbours.  Any http(s) source
 * whose reply is text/plain is read so too.
 */
int p2pl_topsource_metrics_url(const char *spec);
/* One descriptor to wait on for more lines (the "-" source), or -1. */
int p2pl_topsource_fd(const struct p2pl_topsource *w);
/* Read what waits on that descriptor; 0 at end of input, else 1. */
int p2pl_topsource_read(struct p2pl_topsource *w);
/* Ask every source; the lines stay valid until the next call. */
const struct p2pl_topsource_lines *p2pl_topsource_collect(struct p2pl_topsource *w);
/* The last problem a source had, or "" (cleared by each collection). */
const char *p2pl_topsource_problem(const struct p2pl_topsource *w);
/* A few words on what is watched, for a title line. */
const char *p2pl_topsource_what(const struct p2pl_topsource *w);

#endif
