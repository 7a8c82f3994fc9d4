/*
 * uri.h - stream URIs.
 *
 *   p2pl:<key>?peer=HOST:PORT&peer=[V6]:PORT&tr=<percent-encoded URL>
 *
 * <key> is the stream's Ed25519 public key in lowercase base32 (52
 * characters).  "peer" and "tr" may repeat; "secret" (52 base32
 * characters) is a private stream's content key; unknown parameters are
 * ignored so later versions can add some.  See p2pl(7).
 */
#ifndef P2PL_URI_H
#define P2PL_URI_H

#include "key.h"
#include "util.h"

#define P2PL_URI_MAX 4096
#define P2PL_URI_PEERS 16
#define P2PL_URI_TRACKERS 8
#define P2PL_TRACKER_MAX 1024

struct p2pl_uri {
	uint8_t key[P2PL_KEYLEN];
	int npeers;
	struct p2pl_addr peers[P2PL_URI_PEERS];
	int ntrackers;
	char trackers[P2PL_URI_TRACKERS][P2PL_TRACKER_MAX];
	int has_secret;			/* a private stream's secret= */
	uint8_t secret[32];
};

int p2pl_uri_parse(const char *s, struct p2pl_uri *u, char *err, size_t errlen);
/* Format u into out; returns the length, or -1 if out is too small. */
int p2pl_uri_format(const struct p2pl_uri *u, char *out, size_t outlen);

#endif
