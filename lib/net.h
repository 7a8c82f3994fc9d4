/*
 * net.h - the network driver: runs a protocol node on libevent.
 *
 * It owns the TCP listener and connections, feeds received bytes and the
 * time into the node, writes what the node sends (sharing piece buffers
 * by reference), and keeps one outgoing connection to the stream's seed
 * addresses alive, trying them in order with exponential backoff.
 * Messages for the user go through a log callback; nothing is printed.
 */
#ifndef P2PL_NET_H
#define P2PL_NET_H

#include "node.h"

#include <event2/event.h>

enum { P2PL_LOG_WARN, P2PL_LOG_INFO, P2PL_LOG_DEBUG };

struct p2pl_net_cb {
	void *arg;
	void (*log)(void *arg, int level, const char *msg);
	/* pieces in order, when the node plays (cfg.play) */
	void (*deliver)(void *arg, struct p2pl_piece *p);
};

struct p2pl_net;

struct p2pl_net *p2pl_net_new(struct event_base *base,
    const struct p2pl_node_cfg *cfg, const struct p2pl_net_cb *cb,
    char *err, size_t errlen);
void p2pl_net_free(struct p2pl_net *net);
struct p2pl_node *p2pl_net_node(struct p2pl_net *net);

/* Listen on a (port 0: any free port); the bound address goes to *bound. */
int p2pl_net_listen(struct p2pl_net *net, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen);
/* Add a seed address; the driver dials seeds in the order added. */
int p2pl_net_add_seed(struct p2pl_net *net, const struct p2pl_addr *a);
/* Hand a locally made piece to the node (takes the reference). */
void p2pl_net_publish(struct p2pl_net *net, struct p2pl_piece *p);
/* Microseconds since a handshake last completed with a seed (0: now). */
uint64_t p2pl_net_seedless_us(const struct p2pl_net *net);

#endif
