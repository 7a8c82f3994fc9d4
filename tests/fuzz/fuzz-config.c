/* fuzz-config.c - p2pl_config_parse on any bytes, for any section. */
#include "config.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const struct option opts[] = {
	{ "frames", no_argument, NULL, 'F' },
	{ "latency", required_argument, NULL, 'L' },
	{ "player", required_argument, NULL, 'p' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* Every setting kept is "--NAME" or "--NAME=VALUE" for a NAME in opts. */
static void
check(const struct p2pl_config *c)
{
	const struct option *o;
	const char *a, *eq;
	size_t n;
	int i;

	if (c->argc < 0 || c->argc > P2PL_CONFIG_ARGS)
		abort();
	for (i = 0; i < c->argc; i++) {
		a = c->argv[i];
		if (strncmp(a, "--", 2) != 0)
			abort();
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		for (o = opts; o->name != NULL; o++)
			if (strlen(o->name) == n && memcmp(o->name, a + 2, n) == 0)
				break;
		if (o->name == NULL || (o->has_arg == no_argument) != !eq ||
		    (eq != NULL && eq[1] == '\0'))
			abort();
		if (strlen(a) > P2PL_CONFIG_LINE + 3)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pl_config c;
	char err[P2PL_ERRLEN];

	/* the bytes as they are: not NUL-terminated, so ASan sees overreads */
	if (p2pl_config_parse((const char *)data, size, "fuzz", "p2pl-fetch",
	    opts, &c, err, sizeof(err)) == 0)
		check(&c);
	else if (c.argc != 0 || strncmp(err, "fuzz", 4) != 0)
		abort();
	p2pl_config_release(&c);
	return 0;
}
