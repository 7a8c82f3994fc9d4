/* player.c - run a media player on a pipe, without a shell. */
#include "player.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/*
 * mpv: the low-latency profile (no audio buffer, no demuxer probing
 * delay, nobuffer for libavformat, no pausing to fill the cache) and no
 * cache: a live stream is played as it comes, not seconds behind.
 */
static const char *const mpv_opts[] = {
	"--profile=low-latency", "--cache=no", NULL
};

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

int
p2pl_player_argv(const char *cmd, char *buf, size_t buflen, char **argv,
    char *err, size_t errlen)
{
	char *s, *save = NULL;
	int n = 0, i, stdin_word = 0;

	if (strlen(cmd) >= buflen) {
		p2pl_seterr(err, errlen, "player command too long");
		return -1;
	}
	strcpy(buf, cmd);
	for (s = strtok_r(buf, " \t", &save); s != NULL;
	    s = strtok_r(NULL, " \t", &save)) {
		if (n == P2PL_PLAYER_WORDS) {
			p2pl_seterr(err, errlen, "player command has more "
			    "than %d words", P2PL_PLAYER_WORDS);
			return -1;
		}
		argv[n++] = s;
		if (strcmp(s, "-") == 0)
			stdin_word = 1;
		if (n == 1 && strcmp(base_name(s), "mpv") == 0)
			for (i = 0; mpv_opts[i] != NULL; i++)
				argv[n++] = (char *)mpv_opts[i];
	}
	if (n == 0) {
		p2pl_seterr(err, errlen, "empty player command");
		return -1;
	}
	if (!stdin_word)
		argv[n++] = "-";
	argv[n] = NULL;
	return n;
}

int
p2pl_player_start(const char *cmd, struct p2pl_player *pl, char *err,
    size_t errlen)
{
	char buf[4096], *argv[P2PL_PLAYER_WORDS + 8];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	int p[2], e;

	pl->pid = 0;
	pl->fd = -1;
	if (p2pl_player_argv(cmd, buf, sizeof(buf), argv, err, errlen) == -1)
		return -1;
	if (pipe2(p, O_CLOEXEC) == -1) {
		p2pl_seterr(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	/* p2pl-fetch ignores SIGPIPE; an ignored signal survives exec */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	e = posix_spawnp(&pl->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[0]);
	if (e != 0) {
		close(p[1]);
		pl->pid = 0;
		p2pl_seterr(err, errlen, "%.100s: %s", argv[0], strerror(e));
		return -1;
	}
	pl->fd = p[1];
	return 0;
}

int
p2pl_player_poll(struct p2pl_player *pl, int *status)
{
	if (pl->pid <= 0 || waitpid(pl->pid, status, WNOHANG) != pl->pid)
		return 0;
	pl->pid = 0;
	return 1;
}

int
p2pl_player_stop(struct p2pl_player *pl, int term)
{
	int st;
	pid_t r;

	if (pl->fd != -1) {
		close(pl->fd);
		pl->fd = -1;
	}
	if (pl->pid <= 0)
		return -1;
	if (term)
		kill(pl->pid, SIGTERM);
	do
		r = waitpid(pl->pid, &st, 0);
	while (r == -1 && errno == EINTR);
	pl->pid = 0;
	return r == -1 ? -1 : st;
}
