/*
 * trackd-int.h - the insides of the tracker, shared by trackd.c (swarms,
 * replies, evhttp glue) and trackdquery.c (the announce query, parsed as
 * hostile input).  Not an API.
 */
#ifndef P2PL_TRACKD_INT_H
#define P2PL_TRACKD_INT_H

#include "trackd.h"
#include "util.h"

struct peer {
	uint8_t id[20];
	uint8_t ip[16];		/* IPv4 in the first 4 bytes */
	uint8_t v6;
	uint8_t seed;
	uint16_t port;
	uint64_t last;		/* now_s of the last announce */
};

/* What one announce asked for. */
struct req {
	uint8_t hash[20];
	struct peer me;
	int have_hash, have_id, have_port;
	int numwant, compact, event;
};
enum { EV_NONE, EV_STARTED, EV_STOPPED, EV_COMPLETED };

/* Parse an announce's query string into r; NULL, or what is wrong. */
const char *p2pl__trackd_query(struct req *r, const char *q);
/* Text address into p (v4-mapped v6 counts as v4); 0, or -1. */
int p2pl__trackd_ip(const char *s, struct peer *p);

#endif
