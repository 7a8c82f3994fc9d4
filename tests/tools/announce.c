/*
 * announce - one announce to a BitTorrent HTTP tracker through
 * p2pl_tracker, for tests.
 *
 * usage: announce URL INFO_HASH_HEX PORT [SECONDS]
 * Prints the peers of the first successful reply, one "host:port" a line,
 * and exits 0; exits 1 with the reason on stderr if the announce fails or
 * no reply comes within SECONDS (default 10).
 */
#include "tracker.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int status = 1;

static void
on_peers(void *arg, const struct p2pl_addr *peers, int n)
{
	char s[300];
	int i;

	for (i = 0; i < n; i++)
		printf("%s\n", p2pl_addr_format(&peers[i], s, sizeof(s)));
	status = 0;
	event_base_loopbreak(arg);
}

static void
on_error(void *arg, const char *why)
{
	warnx("%s", why);
	event_base_loopbreak(arg);
}

static int
unhex(const char *s, uint8_t out[20])
{
	unsigned int b;
	int i;

	if (strlen(s) != 40)
		return -1;
	for (i = 0; i < 20; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct event_base *base;
	struct p2pl_tracker *t;
	struct p2pl_tracker_cb cb = { NULL, on_peers, on_error };
	struct timeval tv = { 10, 0 };
	uint8_t hash[20], id[21];
	char err[P2PL_ERRLEN];
	long port;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: announce URL INFO_HASH_HEX PORT "
		    "[SECONDS]\n");
		return 2;
	}
	port = strtol(argv[3], NULL, 10);
	if (unhex(argv[2], hash) == -1 || port < 1 || port > 65535)
		errx(2, "bad info hash or port");
	if (argc == 5)
		tv.tv_sec = atoi(argv[4]);
	snprintf((char *)id, sizeof(id), "-P2PLTT-%05u%07u",
	    (unsigned)port % 100000u, (unsigned)getpid() % 10000000u);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new failed");
	cb.arg = base;
	t = p2pl_tracker_new(base, NULL, argv[1], hash, id, (uint16_t)port, &cb,
	    err, sizeof(err));
	if (t == NULL)
		errx(1, "%s", err);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	if (status != 0 && !event_base_got_break(base))
		warnx("no reply in %ld s", (long)tv.tv_sec);
	p2pl_tracker_free(t);
	event_base_free(base);
	return status;
}
