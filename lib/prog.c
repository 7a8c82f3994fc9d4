/* prog.c - shared command-line plumbing for the p2pl programs. */
#include "prog.h"
#include "config.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef P2PL_VERSION_STRING
#error "P2PL_VERSION_STRING is set by the Makefile"
#endif

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

int
p2pl_prog_max_peers(const char *prog, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < 16 || v > 65536) {
		fprintf(stderr, "%s: --max-peers: want 16 to 65536, not "
		    "\"%.32s\"\n", prog, s);
		return -1;
	}
	return (int)v;
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

void
p2pl_prog_help(const struct option *longopts)
{
	size_t col = 0, n;

	printf("long options:");
	col = 13;
	for (; longopts->name != NULL; longopts++) {
		n = strlen(longopts->name) + 3;
		if (col + n > 78) {
			printf("\n ");
			col = 1;
		}
		printf(" --%s", longopts->name);
		col += n;
	}
	printf("\n");
}

void
p2pl_prog_version(const char *prog)
{
	printf("%s %s\n", prog, P2PL_VERSION_STRING);
	exit(ferror(stdout) || fflush(stdout) == EOF ? 1 : 0);
}

/* The settings and joined vector live until exit (reachable: no leak). */
static struct p2pl_config config;
static char **joined;

/*
 * Read a whole config file into buf (at most P2PL_CONFIG_SIZE + 1 bytes,
 * so that a larger one is seen as such).  -1 with errno set; ENOENT when
 * it does not exist.
 */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	struct stat st = { 0 };
	ssize_t n = 0;
	size_t len = 0;
	int fd, e;

	/* not blocking on a fifo; only a regular file is read */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		errno = e;
		return -1;
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	return (ssize_t)len;
}

/* Find --config FILE and --no-config on the command line, getopt's way. */
static void
scan_args(int argc, char **argv, const char *shortopts,
    const struct option *longopts, const char **file, int *none)
{
	char **copy = malloc(((size_t)argc + 1) * sizeof(*copy));
	int ch;

	if (copy == NULL)
		return;
	memcpy(copy, argv, ((size_t)argc + 1) * sizeof(*copy));
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, copy, shortopts, longopts, NULL)) != -1)
		if (ch == P2PL_OPT_CONFIG)
			*file = optarg;
		else if (ch == P2PL_OPT_NO_CONFIG)
			*none = 1;
	/* the real pass starts afresh and reports errors */
	opterr = 1;
	optind = 0;
	free(copy);
}

int
p2pl_prog_config(const char *prog, const char *shortopts,
    const struct option *longopts, int *argc, char ***argv)
{
	const char *file = NULL, *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char path[PATH_MAX], err[P2PL_ERRLEN], *buf;
	ssize_t len;
	int none = 0, n, i;

	scan_args(*argc, *argv, shortopts, longopts, &file, &none);
	if (none)
		return 0;
	if (file == NULL) {
		/* XDG: a relative XDG_CONFIG_HOME is to be ignored */
		if (xdg != NULL && xdg[0] == '/')
			n = snprintf(path, sizeof(path), "%s/p2pl/config", xdg);
		else if (home != NULL && home[0] != '\0')
			n = snprintf(path, sizeof(path),
			    "%s/.config/p2pl/config", home);
		else
			return 0;
		if (n < 0 || (size_t)n >= sizeof(path))
			return 0;
	} else if (strlen(file) >= sizeof(path)) {
		fprintf(stderr, "%s: --config: name too long\n", prog);
		return -1;
	} else
		strcpy(path, file);
	if ((buf = malloc(P2PL_CONFIG_SIZE + 1)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	len = read_file(path, buf, P2PL_CONFIG_SIZE + 1);
	if (len < 0) {
		n = errno;
		free(buf);
		/* the default file is optional; one named by --config not */
		if (file == NULL && n == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s: %s\n", prog, path,
		    n == EINVAL ? "not a regular file" : strerror(n));
		return -1;
	}
	n = p2pl_config_parse(buf, (size_t)len, path, prog, longopts, &config,
	    err, sizeof(err));
	free(buf);
	if (n == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	if (config.argc == 0)
		return 0;
	joined = calloc((size_t)*argc + (size_t)config.argc + 1,
	    sizeof(*joined));
	if (joined == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	joined[0] = (*argv)[0];
	for (i = 0; i < config.argc; i++)
		joined[1 + i] = config.argv[i];
	for (i = 1; i < *argc; i++)
		joined[config.argc + i] = (*argv)[i];
	*argc += config.argc;
	*argv = joined;
	return 0;
}
