/*
 * prog.h - what every p2pl program does the same way: diagnostics on
 * stderr prefixed with the program's name, verbosity, and the stats file.
 * Used by cmd/ only; it prints, so it stays out of the protocol core.
 */
#ifndef P2PL_PROG_H
#define P2PL_PROG_H

#include "ctl.h"
#include "stats.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>

extern int p2pl_verbosity;	/* P2PL_LOG_WARN (-q: -1) .. P2PL_LOG_DEBUG */

/* A p2pl_net_cb.log function: prints when level <= p2pl_verbosity. */
void p2pl_prog_log(void *arg, int level, const char *msg);
/* Open --stats: "-" is stderr; NULL with err set on failure. */
FILE *p2pl_prog_stats_open(const char *path, char *err, size_t errlen);
/*
 * SIGINT and SIGTERM end base's loop (a clean stop).  The two events go
 * in ev; p2pl_prog_signals_free() releases them.  -1 if out of memory.
 */
int p2pl_prog_signals(struct event_base *base, struct event *ev[2]);
void p2pl_prog_signals_free(struct event *ev[2]);
/*
 * Answer on the control socket (see ctl.h) with fn's lines; a warning,
 * not an error, when it cannot be made.  NULL then.
 */
struct p2pl_ctl *p2pl_prog_ctl(struct event_base *base, p2pl_ctl_fn fn,
    void *arg);
/* The fields every stats line starts with: time, prog, pid, stream. */
void p2pl_prog_stats_head(struct p2pl_json *j, const char *stream);
/* Parse a number of seconds such as "0.5"; -1 on error. */
int p2pl_prog_seconds(const char *s, double max, uint64_t *us);

#endif
