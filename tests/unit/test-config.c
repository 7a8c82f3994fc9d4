/* test-config.c - the config file parser and the player command line. */
#include "config.h"
#include "player.h"
#include "util.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const struct option opts[] = {
	{ "frames", no_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "latency", required_argument, NULL, 'L' },
	{ "player", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* Parse text as file "cfg" for section p2pl-fetch; the error or "". */
static int
parse(const char *text, struct p2pl_config *c, char *err)
{
	err[0] = '\0';
	return p2pl_config_parse(text, strlen(text), "cfg", "p2pl-fetch",
	    opts, c, err, P2PL_ERRLEN);
}

static void
good(void)
{
	struct p2pl_config c;
	char err[P2PL_ERRLEN];
	const char *text =
	    "# a comment\n"
	    "\n"
	    "[p2pl-publish]\n"
	    "piece-ms = 20\n"		/* not ours: not checked against opts */
	    "  [p2pl-fetch]  \n"
	    "latency=0.5\r\n"
	    "\tplayer =  mpv --vo=null  # not a comment \n"
	    "frames\n"
	    "verbose = no\n"
	    "verbose = yes\n"
	    "[p2pl-relay]\n"
	    "tracker";

	ok(parse(text, &c, err) == 0, "good file parses (%s)", err);
	ok(c.argc == 4, "four settings (%d)", c.argc);
	ok(c.argc == 4 && strcmp(c.argv[0], "--latency=0.5") == 0 &&
	    strcmp(c.argv[1], "--player=mpv --vo=null  # not a comment") == 0 &&
	    strcmp(c.argv[2], "--frames") == 0 &&
	    strcmp(c.argv[3], "--verbose") == 0, "settings in order, as options");
	p2pl_config_release(&c);
	ok(parse("", &c, err) == 0 && c.argc == 0, "an empty file");
	ok(p2pl_config_parse("[p2pl-fetch]\nframes\0junk", 19, "cfg",
	    "p2pl-fetch", opts, &c, err, sizeof(err)) == 0 && c.argc == 1,
	    "only len bytes are read");
	p2pl_config_release(&c);
}

/* Each bad text gives exactly the message wanted. */
static void
bad(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "latency = 1\n", "cfg:1: setting outside a section" },
		{ "[p2pl-fetch]\n\nlatncy = 1\n", "cfg:3: unknown key 'latncy'" },
		{ "[p2pl-fetch]\nhelp\n", "cfg:2: option not allowed here 'help'" },
		{ "[p2pl-fetch]\nlatency\n", "cfg:2: missing value for 'latency'" },
		{ "[p2pl-fetch]\nlatency =\n", "cfg:2: missing value for 'latency'" },
		{ "[p2pl-fetch]\nframes = 1\n", "cfg:2: want yes or no for 'frames'" },
		{ "[p2pl fetch]\n", "cfg:1: bad section name '[p2pl fetch]'" },
		{ "[p2pl-fetch\n", "cfg:1: bad section header" },
		{ "[]\n", "cfg:1: bad section header" },
		{ "[p2pl-fetch]\nLatency = 1\n", "cfg:2: bad key 'Latency'" },
		{ "[p2pl-fetch]\n= 1\n", "cfg:2: bad key" },
		{ "[p2pl-fetch]\nlatency = 1\x01\n", "cfg:2: control character" },
	};
	struct p2pl_config c;
	char err[P2PL_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(parse(t[i].text, &c, err) == -1 && c.argc == 0 &&
		    strncmp(err, t[i].want, strlen(t[i].want)) == 0,
		    "refused: %s", err);
}

static void
limits(void)
{
	struct p2pl_config c;
	char err[P2PL_ERRLEN], *big;
	size_t n, i;

	big = malloc(P2PL_CONFIG_SIZE + 2);
	if (big == NULL)
		abort();
	/* a line of exactly P2PL_CONFIG_LINE bytes is fine, one more is not */
	n = (size_t)snprintf(big, 64, "[p2pl-fetch]\nlatency = ");
	memset(big + n, '1', P2PL_CONFIG_LINE - 10);
	big[13 + P2PL_CONFIG_LINE] = '\0';
	ok(parse(big, &c, err) == 0 && c.argc == 1, "longest line (%s)", err);
	p2pl_config_release(&c);
	big[13 + P2PL_CONFIG_LINE] = '1';
	big[14 + P2PL_CONFIG_LINE] = '\0';
	ok(parse(big, &c, err) == -1 && strcmp(err, "cfg:2: line too long") == 0,
	    "a line too long: %s", err);
	ok(p2pl_config_parse("[p2pl-fetch]\nframes\0\n", 21, "cfg",
	    "p2pl-fetch", opts, &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "cfg:2: control character") == 0, "a NUL byte: %s", err);
	memset(big, '#', P2PL_CONFIG_SIZE + 1);
	ok(p2pl_config_parse(big, P2PL_CONFIG_SIZE + 1, "cfg", "p2pl-fetch",
	    opts, &c, err, sizeof(err)) == -1, "too big: %s", err);
	/* too many settings, freed on the way out (ASan sees a leak) */
	n = (size_t)snprintf(big, 64, "[p2pl-fetch]\n");
	for (i = 0; i <= P2PL_CONFIG_ARGS; i++)
		n += (size_t)snprintf(big + n, 64, "frames\n");
	ok(parse(big, &c, err) == -1 && c.argc == 0 &&
	    strstr(err, "too many settings") != NULL, "too many: %s", err);
	free(big);
}

static int
argv_is(const char *cmd, const char *const *want)
{
	char buf[4096], *argv[P2PL_PLAYER_WORDS + 8], err[P2PL_ERRLEN];
	int n, i;

	n = p2pl_player_argv(cmd, buf, sizeof(buf), argv, err, sizeof(err));
	for (i = 0; i < n && want[i] != NULL; i++)
		if (strcmp(argv[i], want[i]) != 0)
			return 0;
	return n >= 0 && i == n && want[i] == NULL && argv[n] == NULL;
}

static void
player(void)
{
	static const char *const mpv[] = { "mpv", "--profile=low-latency",
	    "--cache=no", "-", NULL };
	static const char *const mpv2[] = { "/usr/bin/mpv",
	    "--profile=low-latency", "--cache=no", "--vo=null", "-",
	    "--frames=5", NULL };
	static const char *const other[] = { "ffplay", "-nodisp", "-", NULL };
	char buf[4096], *argv[P2PL_PLAYER_WORDS + 8], err[P2PL_ERRLEN];
	char many[P2PL_PLAYER_WORDS * 2 + 8];
	int i;

	ok(argv_is("mpv", mpv), "mpv gets the low-latency options and -");
	ok(argv_is("  /usr/bin/mpv\t--vo=null - --frames=5 ", mpv2),
	    "user words after them, one - kept");
	ok(argv_is("ffplay -nodisp", other), "another player as given, and -");
	ok(p2pl_player_argv(" \t", buf, sizeof(buf), argv, err,
	    sizeof(err)) == -1, "empty command refused: %s", err);
	for (i = 0; i < P2PL_PLAYER_WORDS + 1; i++)
		memcpy(many + 2 * i, "x ", 2);
	many[2 * i] = '\0';
	ok(p2pl_player_argv(many, buf, sizeof(buf), argv, err,
	    sizeof(err)) == -1, "too many words refused: %s", err);
	many[2 * (i - 1)] = '\0';
	ok(p2pl_player_argv(many, buf, sizeof(buf), argv, err,
	    sizeof(err)) == P2PL_PLAYER_WORDS + 1, "most words taken");
	ok(p2pl_player_argv("mpv", buf, 3, argv, err, sizeof(err)) == -1,
	    "command longer than the buffer refused");
}

int
main(void)
{
	good();
	bad();
	limits();
	player();
	return tap_done();
}
