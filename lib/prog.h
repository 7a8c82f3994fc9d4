/*
 * prog.h - what every p2pl program does the same way: diagnostics on
 * stderr prefixed with the program's name, verbosity, the stats file,
 * signals, -V, --help's list of long options and the config file.
 * Used by cmd/ only; it prints, so it stays out of the protocol core.
 */
#ifndef P2PL_PROG_H
#define P2PL_PROG_H

#include "ctl.h"
#include "jsonwrite.h"

#include <event2/event.h>
#include <getopt.h>
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
/* --max-peers: 16 to 65536 connections; -1, said on stderr, if not. */
int p2pl_prog_max_peers(const char *prog, const char *s);

/*
 * Options every program has: -V/--version, --config FILE, --no-config.
 * Put P2PL_PROG_LONGOPTS in the getopt_long table and "V" in the short
 * options; the config options are handled by p2pl_prog_config().
 */
#define P2PL_OPT_CONFIG		0x100
#define P2PL_OPT_NO_CONFIG	0x101
#define P2PL_PROG_LONGOPTS \
	{ "config", required_argument, NULL, P2PL_OPT_CONFIG }, \
	{ "no-config", no_argument, NULL, P2PL_OPT_NO_CONFIG }, \
	{ "version", no_argument, NULL, 'V' }

/* After the usage message of --help: the long options, on stdout. */
void p2pl_prog_help(const struct option *longopts);
/* Print "PROG VERSION" on stdout and exit 0. */
void p2pl_prog_version(const char *prog) __attribute__((noreturn));
/*
 * Read the config file (p2pl(5)): --config FILE, else
 * $XDG_CONFIG_HOME/p2pl/config or ~/.config/p2pl/config if it exists;
 * none with --no-config.  The settings of section prog become options put
 * before the command line's: *argc and *argv are replaced by the joined
 * vector (it lives until exit).  The command line is looked through with
 * the program's own shortopts and longopts to find --config.  Returns 0,
 * or -1 after printing why (a usage error: exit 2).
 */
int p2pl_prog_config(const char *prog, const char *shortopts,
    const struct option *longopts, int *argc, char ***argv);

#endif
