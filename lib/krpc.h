/*
 * krpc.h - the KRPC messages of the Mainline DHT (BEP 5), with IPv6
 * nodes and values (BEP 32): a parser for hostile datagrams and an
 * encoder, without I/O.
 *
 * A message is a bencoded dict: "t" the transaction id, "y" one of "q"
 * (query), "r" (reply) or "e" (error).  A query has "q", the method, and
 * "a", its arguments; a reply has "r", the reply values; an error has
 * "e", a list of an integer code and a message.  The methods are ping,
 * find_node, get_peers and announce_peer.  Compact node info is 26 bytes
 * (id, IPv4, port; "nodes") or 38 bytes (id, IPv6, port; "nodes6");
 * compact peer info ("values") 6 or 18 bytes; ports are big-endian.
 *
 * p2pl_krpc_parse() refuses: a datagram over P2PL_KRPC_MAXLEN bytes,
 * anything but one bencoded dict, a missing or empty "t" or one over
 * P2PL_KRPC_TIDMAX bytes, a "y" that is not q/r/e, a query without "q"
 * or an "a" dict, a query or reply without a 20-byte "id", a method's
 * required argument missing or of the wrong type or length (target and
 * info_hash 20 bytes, token 1..P2PL_KRPC_TOKMAX bytes, port 1..65535
 * unless implied_port is 1), "nodes"/"nodes6" not a whole number of
 * entries, "values" not a list of 6- or 18-byte strings, "want" not a
 * list, an error without a code.  Unknown keys are ignored (clients add
 * "v", "ip", "ro", "seed" and more).  An unknown method parses, with q
 * set to 0, so that the node can answer with error 204.  Pointers in the
 * result point into the caller's buffer.
 */
#ifndef P2PL_KRPC_H
#define P2PL_KRPC_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_KRPC_MAXLEN 4096	/* longest datagram accepted */
#define P2PL_KRPC_TIDMAX 16
#define P2PL_KRPC_TOKMAX 64
#define P2PL_KRPC_VALUES 100	/* values kept from one reply, at most */
#define P2PL_KRPC_NODE4 26	/* compact node info, IPv4 */
#define P2PL_KRPC_NODE6 38	/* compact node info, IPv6 */

enum { P2PL_KRPC_QUERY = 1, P2PL_KRPC_REPLY, P2PL_KRPC_ERROR };
enum { P2PL_KRPC_PING = 1, P2PL_KRPC_FIND_NODE, P2PL_KRPC_GET_PEERS,
    P2PL_KRPC_ANNOUNCE_PEER };
/* bits of want (BEP 32): the address families the sender wants nodes of */
enum { P2PL_KRPC_WANT4 = 1, P2PL_KRPC_WANT6 = 2 };

struct p2pl_krpc {
	int y;			/* P2PL_KRPC_QUERY, REPLY or ERROR */
	int q;			/* query: method, 0 if unknown */
	const uint8_t *tid;
	size_t tidlen;
	const uint8_t *id;	/* 20 bytes: the sender's node id */
	const uint8_t *target;	/* 20: find_node target, or info_hash */
	const uint8_t *token;	/* announce_peer, get_peers reply */
	size_t toklen;
	const uint8_t *nodes;	/* reply: 26-byte entries */
	size_t nodeslen;
	const uint8_t *nodes6;	/* reply: 38-byte entries */
	size_t nodes6len;
	int nvalues;		/* reply: peers, each 6 or 18 bytes */
	const uint8_t *values[P2PL_KRPC_VALUES];
	uint8_t valuelen[P2PL_KRPC_VALUES];
	int port;		/* announce_peer */
	int implied_port;	/* announce_peer: use the UDP source port */
	int want;		/* P2PL_KRPC_WANT* bits, 0 if not asked */
	int64_t ecode;		/* error */
	const uint8_t *emsg;
	size_t emsglen;
};

/* Parse a datagram into m; 0, or -1 with a message in err. */
int p2pl_krpc_parse(const uint8_t *buf, size_t len, struct p2pl_krpc *m,
    char *err, size_t errlen);

/*
 * Encode m (as p2pl_krpc_parse() would fill it; q must be known for a
 * query) into buf.  Returns the length, or -1 if it does not fit.
 */
long p2pl_krpc_encode(const struct p2pl_krpc *m, uint8_t *buf, size_t cap);

/* The method's name on the wire ("ping", ...), or NULL. */
const char *p2pl_krpc_method(int q);

#endif
