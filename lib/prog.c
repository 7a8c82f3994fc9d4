/* prog.c - shared command-line plumbing for the p2pl programs. */
#include "prog.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
