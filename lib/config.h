/*
 * config.h - the p2pl configuration file, described in p2pl(5).
 *
 * The file holds sections named for a program ("[p2pl-fetch]"), each
 * with "key = value" lines whose keys are that program's long options.
 * Parsing one program's section turns it into command-line arguments
 * ("--key=value", or "--key" for an option without an argument) that the
 * program puts before its real arguments, so that the command line wins.
 * Sections for other programs are checked for syntax only, so that one
 * file serves every program, including ones this build does not have.
 */
#ifndef P2PL_CONFIG_H
#define P2PL_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#define P2PL_CONFIG_LINE 1024		/* longest line, newline excluded */
#define P2PL_CONFIG_SIZE (64 * 1024)	/* largest file */
#define P2PL_CONFIG_ARGS 64		/* settings in one section, at most */

struct p2pl_config {
	char *argv[P2PL_CONFIG_ARGS];	/* "--key=value" or "--key" */
	int argc;
};

/*
 * Parse len bytes of text (the file called name, for messages) and keep
 * the settings of section, checked against the program's option table
 * opts (terminated by a zero entry).  Returns 0, or -1 with err set to
 * "NAME:LINE: what is wrong"; c is then empty.  Release c either way.
 */
int p2pl_config_parse(const char *text, size_t len, const char *name,
    const char *section, const struct option *opts, struct p2pl_config *c,
    char *err, size_t errlen);
void p2pl_config_release(struct p2pl_config *c);

#endif
