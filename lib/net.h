/*
 * net.h - the network driver: runs a protocol node on libevent.
 *
 * It owns the TCP listener and connections, feeds received bytes and the
 * time into the node, writes what the node sends (sharing piece buffers
 * by reference), and keeps a few outgoing connections to the node's
 * candidate addresses (seeds first), which back off after failures.
 * Messages for the user go through a log callback; nothing is printed.
 *
 * The caller owns the event base and runs its loop; p2pl_net_free closes
 * every connection, the listener and the trackers and frees the node.  A
 * piece handed to deliver stays the node's (p2pl_piece_ref to keep it).
 * A bufferevent given to p2pl_net_adopt is the driver's once it returns
 * 0, the caller's still on -1.
 */
#ifndef P2PL_NET_H
#define P2PL_NET_H

#include "node.h"
#include "secure.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

enum { P2PL_LOG_WARN, P2PL_LOG_INFO, P2PL_LOG_DEBUG };

struct p2pl_net_cb {
	void *arg;
	void (*log)(void *arg, int level, const char *msg);
	/* pieces in order, when the node plays (cfg.play) */
	void (*deliver)(void *arg, struct p2pl_piece *p);
};

struct p2pl_net;

/*
 * Connections a node keeps when cfg.max_peers is 0 (the protocol core
 * alone, as in the simulator, keeps 16 and 256).  The soft descriptor
 * limit is raised toward the hard one to hold max_peers connections and
 * the ones still waiting for their HELLO; when even the hard limit is
 * short, fewer are kept, and the log says so.
 */
#define P2PL_NET_VIEWER_PEERS 16
#define P2PL_NET_SERVER_PEERS 2048	/* a publisher's or relay's */

struct p2pl_net *p2pl_net_new(struct event_base *base,
    const struct p2pl_node_cfg *cfg, const struct p2pl_net_cb *cb,
    char *err, size_t errlen);
void p2pl_net_free(struct p2pl_net *net);
struct p2pl_node *p2pl_net_node(struct p2pl_net *net);

/* A TCP listener on a (port 0: any free port); its address to *bound. */
struct evconnlistener *p2pl_listen(struct event_base *base,
    const struct p2pl_addr *a, evconnlistener_cb cb, void *arg,
    struct p2pl_addr *bound, char *err, size_t errlen);
/* Serve a connection accepted elsewhere (a shared port, portshare.h), its channel keyed for
 * this stream (sec) and its first frames maybe waiting in its input; -1
 * when the node is full. */
int p2pl_net_adopt(struct p2pl_net *net, struct bufferevent *bev,
    const struct p2pl_addr *remote, const struct p2pl_sec *sec);
/* The port we are reached at, for HELLO and trackers, when not listening. */
void p2pl_net_set_port(struct p2pl_net *net, uint16_t port);

/* Listen on a (port 0: any free port); the bound address goes to *bound. */
int p2pl_net_listen(struct p2pl_net *net, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen);
/* Add a seed address (from the URI): dialled first, never forgotten. */
int p2pl_net_add_seed(struct p2pl_net *net, const struct p2pl_addr *a);
/* Add addresses learnt elsewhere (a tracker) as candidates to dial. */
void p2pl_net_add_peers(struct p2pl_net *net, const struct p2pl_addr *a, int n);
/*
 * Announce to a BitTorrent HTTP tracker (call after p2pl_net_listen, so
 * the port is known) and dial the peers it returns.
 */
int p2pl_net_add_tracker(struct p2pl_net *net, const char *url, char *err,
    size_t errlen);
/* The 20-byte swarm id trackers know a stream by: BLAKE2b-160 of
 * "p2pl-swarm-1" followed by the key. */
void p2pl_swarm_id(const uint8_t key[P2PL_KEYLEN], uint8_t id[20]);
/* Cap what all connections read, in bytes per second. */
int p2pl_net_set_download(struct p2pl_net *net, uint64_t bytes_per_s);
/* How many outgoing connections to keep (default 4). */
void p2pl_net_set_outgoing(struct p2pl_net *net, int n);
/* Hand a locally made piece to the node (takes the reference). */
void p2pl_net_publish(struct p2pl_net *net, struct p2pl_piece *p);

#endif
