/* prog.c - shared command-line plumbing for the p2pl programs. */
#include "prog.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int p2pl_verbosity = P2PL_LOG_WARN;

void
p2pl_prog_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= p2pl_verbosity)
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
}

FILE *
p2pl_prog_stats_open(const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stderr;
	f = fopen(path, "a");
	if (f == NULL)
		p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
	else
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

struct p2pl_ctl *
p2pl_prog_ctl(struct event_base *base, p2pl_ctl_fn fn, void *arg)
{
	struct p2pl_ctl *c;
	char err[P2PL_ERRLEN];

	c = p2pl_ctl_new(base, program_invocation_short_name, fn, arg, err,
	    sizeof(err));
	if (c == NULL && p2pl_verbosity >= P2PL_LOG_WARN)
		fprintf(stderr, "%s: no control socket: %s\n",
		    program_invocation_short_name, err);
	return c;
}

void
p2pl_prog_stats_head(struct p2pl_json *j, const char *stream)
{
	p2pl_json_num(j, "time", (double)p2pl_wall_us() / 1e6);
	p2pl_json_str(j, "prog", program_invocation_short_name);
	p2pl_json_u64(j, "pid", (uint64_t)getpid());
	p2pl_json_str(j, "stream", stream);
}

int
p2pl_prog_seconds(const char *s, double max, uint64_t *us)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v > max)
		return -1;
	*us = (uint64_t)(v * 1e6);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *base)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(base);
}

int
p2pl_prog_signals(struct event_base *base, struct event *ev[2])
{
	ev[0] = evsignal_new(base, SIGINT, on_signal, base);
	ev[1] = evsignal_new(base, SIGTERM, on_signal, base);
	if (ev[0] == NULL || ev[1] == NULL || event_add(ev[0], NULL) == -1 ||
	    event_add(ev[1], NULL) == -1) {
		p2pl_prog_signals_free(ev);
		return -1;
	}
	return 0;
}

void
p2pl_prog_signals_free(struct event *ev[2])
{
	for (int i = 0; i < 2; i++)
		if (ev[i] != NULL) {
			event_free(ev[i]);
			ev[i] = NULL;
		}
}
