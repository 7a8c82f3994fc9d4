/*
 * portshare.h - one listening port for several streams (p2pl-relay).
 *
 * The shared port accepts connections, sends its half of the key exchange (see
 * secure.h), and reads the peer's half and its first frame: the stream
 * whose key opens that frame gets the connection, keyed.  Connections of
 * no stream served here, or not speaking p2pl, are closed.  At most
 * SHARE_PENDING connections may wait for their first frame, each for 10 s.
 */
#ifndef P2PL_PORTSHARE_H
#define P2PL_PORTSHARE_H

#include "net.h"

struct p2pl_portshare;

struct p2pl_portshare *p2pl_portshare_new(struct event_base *base, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen);
void p2pl_portshare_free(struct p2pl_portshare *h);
/* Serve the stream with this key through net (which must not listen). */
int p2pl_portshare_add(struct p2pl_portshare *h, const uint8_t key[P2PL_KEYLEN],
    struct p2pl_net *net);

#endif
