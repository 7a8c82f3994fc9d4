/*
 * net-int.h - the insides of the network driver, shared by net.c (the
 * node's callbacks, listening, dialling, seeds, trackers, the tick) and
 * netconn.c (one connection: its frames, sealing, the emulated delay).
 * Not an API.
 */
#ifndef P2PL_NET_INT_H
#define P2PL_NET_INT_H

#include "net.h"
#include "secure.h"
#include "tracker.h"

#include <sodium.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define SEEDS_MAX 16
#define TRACKERS_MAX 8
#define WANT_OUT 4
#define FD_SPARE 1152		/* descriptors beside the peers': 1,024
				 * connections waiting for a HELLO, and
				 * listeners, trackers, DHT, HTTP, files */
#define PEERS_MIN 16		/* kept whatever the descriptor limit */

struct conn {
	struct p2pl_net *net;
	struct bufferevent *bev;	/* the socket: frames */
	struct p2pl_sec sec;
	struct evbuffer *plain;		/* opened, not yet taken by the node */
	struct evbuffer *pending;	/* to seal, at the end of this turn */
	struct event *seal_ev;
	struct evbuffer *held;		/* sealed, held back (P2PL_NET_DELAY) */
	struct evbuffer *marks;		/* a struct hold per batch in held */
	struct event *hold_ev;
	size_t marked;			/* bytes of held that marks cover */
	struct p2pl_peer *peer;
	struct p2pl_addr addr;	/* dialled, or the remote end */
	int outgoing;
	int seed;		/* index into seeds, -1 if not one */
	int ready;
	char name[300];
};

struct p2pl_net {
	struct event_base *base;
	struct evdns_base *dns;
	struct p2pl_net_cb cb;
	struct p2pl_node *node;
	struct evconnlistener *lis;
	struct event *tick_ev, *lis_ev;
	struct bufferevent_rate_limit_group *down;
	struct ev_token_bucket_cfg *down_cfg;
	struct tracked {
		struct p2pl_net *net;
		struct p2pl_tracker *t;
		char url[128];		/* for messages */
		int failing;
	} trackers[TRACKERS_MAX];
	int ntrackers;
	uint8_t key[P2PL_KEYLEN];
	uint16_t port;			/* where we listen, 0 if not */
	struct p2pl_addr seeds[SEEDS_MAX];
	int seed_warned[SEEDS_MAX];	/* said it is down, not yet back */
	int nseeds, want_out;
	uint64_t delay;			/* P2PL_NET_DELAY, µs; 0: none */
	struct evbuffer *stage;		/* one turn's frames for one socket */
};

/* A batch of held bytes: the next len bytes of held go out at due. */
struct hold {
	uint64_t due;
	size_t len;
};

/* net.c */
/* A message for the user, through the log callback. */
void p2pl__net_log(struct p2pl_net *net, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Tick the node, schedule the next tick, dial, tell trackers the counts. */
void p2pl__net_tick(struct p2pl_net *net);
/* The same at the end of this turn of the event loop, once for all. */
void p2pl__net_tick_soon(struct p2pl_net *net);
/* Dial candidates until want_out connections are open or being opened. */
void p2pl__net_dial_more(struct p2pl_net *net);

/* netconn.c */
/* A connection on bev; sec: its channel keyed already, or NULL. */
struct conn *p2pl__conn_new(struct p2pl_net *net, struct bufferevent *bev,
    int outgoing, const struct p2pl_addr *a, const struct p2pl_sec *sec);
/* End c: tell the node (bad: it broke the protocol) and free it. */
void p2pl__conn_close(struct conn *c, const char *reason, int bad);
void p2pl__conn_free(struct conn *c);
/* bufferevent read callback: open frames, feed the node. */
void p2pl__conn_read(struct bufferevent *bev, void *arg);

#endif
