/*
 * player.h - start a media player that reads the stream on its standard
 * input, as p2pl-fetch -p does.
 *
 * The command is split into words at blanks (spaces and tabs) and run
 * without a shell: no quoting, no variables, no globbing.  A "-" word (the
 * player's "read standard input") is appended when there is none.  For a
 * known player (mpv) options that cut its buffering are put right after
 * the program's name, so that the user's own words come later and win.
 */
#ifndef P2PL_PLAYER_H
#define P2PL_PLAYER_H

#include <stddef.h>
#include <sys/types.h>

#define P2PL_PLAYER_WORDS 64	/* words in a command, at most */

struct p2pl_player {
	pid_t pid;		/* 0: not running */
	int fd;			/* write end of the player's stdin, or -1 */
};

/*
 * Split cmd into argv (a NULL-terminated vector of at most
 * P2PL_PLAYER_WORDS + 8 entries, pointing into buf, a copy of cmd of
 * buflen bytes), with the known-player options and the "-" added.
 * Returns the number of words, or -1 with err set.
 */
int p2pl_player_argv(const char *cmd, char *buf, size_t buflen, char **argv,
    char *err, size_t errlen);
/*
 * Start cmd with a pipe on its standard input; pl->fd is the write end
 * (close-on-exec).  SIGPIPE is set back to its default in the player.
 * Returns 0, or -1 with err set (e.g. the program was not found).
 */
int p2pl_player_start(const char *cmd, struct p2pl_player *pl, char *err,
    size_t errlen);
/* Reap the player if it has exited: 1 with its wait status, else 0. */
int p2pl_player_poll(struct p2pl_player *pl, int *status);
/*
 * Close the pipe; with term, send SIGTERM first (the player is stopped);
 * then wait for it.  Returns its wait status, or -1 if none.
 */
int p2pl_player_stop(struct p2pl_player *pl, int term);

#endif
