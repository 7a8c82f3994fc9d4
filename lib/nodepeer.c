/*
 * nodepeer.c - the protocol core's peers as a whole: admitting a new
 * connection (making room by dropping a silent one, or one of a host that
 * holds more than its share), removing one, and what a driver may ask of
 * a peer (its error, address, figures, role, how far behind it is).  The
 * messages a peer sends are read in nodemsg.c; node.c keeps the window.
 */
#include "node-int.h"

#include <stdlib.h>
#include <string.h>

static int
evict_silent(struct p2pl_node *n)
{
	struct p2pl_peer *p, *old = NULL;

	for (p = n->peers; p != NULL; p = p->next)
		if (p->state == PEER_HELLO && !p->outgoing &&
		    (old == NULL || p->born < old->born))
			old = p;
	if (old == NULL)
		return 0;
	n->cb.drop(n->cb.arg, old->conn, "no hello, and room is needed");
	return 1;
}

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The places held by connections host opened to us. */
static int
host_places(const struct p2pl_node *n, const char *host)
{
	const struct p2pl_peer *p;
	int c = 0;

	for (p = n->peers; p != NULL; p = p->next)
		c += !p->outgoing && p->state != PEER_DEAD &&
		    strcmp(p->addr.host, host) == 0;
	return c;
}

/*
 * Full, and nobody silent to evict: the newcomer gets the place of the
 * newest peer that connected from an address holding more than
 * PER_HOST_MAX of the incoming places.  1 if one went.
 */
static int
evict_crowd(struct p2pl_node *n)
{
	struct p2pl_peer *p, *victim = NULL;
	const char **hosts, *crowd = NULL;
	int nh = 0, run;

	if ((hosts = calloc((size_t)n->cfg.max_peers, sizeof(*hosts))) == NULL)
		return 0;
	for (p = n->peers; p != NULL && nh < n->cfg.max_peers; p = p->next)
		if (!p->outgoing && p->state != PEER_DEAD)
			hosts[nh++] = p->addr.host;
	qsort(hosts, (size_t)nh, sizeof(*hosts), host_cmp);
	for (int i = 0; i < nh; i += run) {
		for (run = 1; i + run < nh && strcmp(hosts[i], hosts[i + run]) ==
		    0; run++)
			;
		if (run > PER_HOST_MAX)
			crowd = hosts[i];
	}
	/* the newest first: the list is kept newest first */
	for (p = n->peers; crowd != NULL && p != NULL; p = p->next)
		if (!p->outgoing && p->state != PEER_DEAD &&
		    strcmp(p->addr.host, crowd) == 0) {
			victim = p;
			break;
		}
	free(hosts);
	if (victim == NULL)
		return 0;
	n->cb.drop(n->cb.arg, victim->conn, "too many connections from its "
	    "address, and room is needed");
	return 1;
}

struct p2pl_peer *
p2pl_node_peer_new(struct p2pl_node *n, void *conn, int outgoing,
    const struct p2pl_addr *remote, uint64_t now)
{
	struct p2pl_peer *p;
	struct p2pl_hello h;
	uint8_t msg[P2PL_MSG_HDR + P2PL_HELLO_LEN];
	int count = 0;

	for (p = n->peers; p != NULL; p = p->next)
		count++;
	/* full: a newcomer from an address that holds PER_HOST_MAX places
	 * already is refused; another gets the place of the oldest
	 * connection still silent, or of a crowd's, so neither idle
	 * connections nor many from one host can lock honest peers out */
	if (count >= n->cfg.max_peers && !outgoing && (remote == NULL ||
	    host_places(n, remote->host) < PER_HOST_MAX) &&
	    (evict_silent(n) || evict_crowd(n)))
		count--;
	if (count >= n->cfg.max_peers || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->node = n;
	p->conn = conn;
	p->outgoing = outgoing;
	if (remote != NULL)
		p->addr = *remote;
	if (!outgoing)
		p->addr.port = 0;	/* known from its hello */
	p->born = p->last_rx = p->last_ping = now;
	p->last_pex = now;
	p->next = n->peers;
	if (n->peers != NULL)
		n->peers->prevp = &p->next;
	p->prevp = &n->peers;
	n->peers = p;
	memset(&h, 0, sizeof(h));
	h.version = P2PL_VERSION;
	h.role = (uint8_t)n->cfg.role;
	h.port = n->cfg.port;
	memcpy(h.key, n->cfg.key, P2PL_KEYLEN);
	memcpy(h.id, n->id, P2PL_IDLEN);
	p2pl__send(p, msg, p2pl_wire_hello(msg, &h), NULL);
	return p;
}

void
p2pl_node_peer_del(struct p2pl_node *n, struct p2pl_peer *p)
{
	if (p->counted)
		n->st.peers--;
	if (n->far_from == p)
		n->far_from = NULL;
	p2pl__sched_forget(n, p);
	*p->prevp = p->next;
	if (p->next != NULL)
		p->next->prevp = p->prevp;
	free(p);
}

const char *
p2pl_peer_error(const struct p2pl_peer *p)
{
	return p->err[0] ? p->err : "protocol error";
}

int
p2pl_peer_banned(const struct p2pl_peer *p)
{
	return p->banned;
}

int
p2pl_peer_benign(const struct p2pl_peer *p)
{
	return p->benign;
}

const struct p2pl_hello *
p2pl_peer_hello(const struct p2pl_peer *p)
{
	return p->state == PEER_HELLO ? NULL : &p->hello;
}

struct p2pl_peer *
p2pl_node_peers(const struct p2pl_node *n)
{
	return n->peers;
}

struct p2pl_peer *
p2pl_peer_next(const struct p2pl_peer *p)
{
	return p->next;
}

const struct p2pl_addr *
p2pl_peer_addr(const struct p2pl_peer *p)
{
	return &p->addr;
}

const struct p2pl_peer_stats *
p2pl_peer_stats(const struct p2pl_peer *p)
{
	return &p->st;
}

int
p2pl_peer_outgoing(const struct p2pl_peer *p)
{
	return p->outgoing;
}

uint64_t
p2pl_peer_rtt(const struct p2pl_peer *p)
{
	return p->rtt;
}

int64_t
p2pl_peer_behind(const struct p2pl_peer *p)
{
	const struct p2pl_node *n = p->node;
	const struct p2pl_piece *h, *q;

	if (p->hello.role == P2PL_ROLE_PUBLISHER)
		return 0;
	if (!n->have_any || p->newest == 0)
		return -1;
	if (p->newest - 1 >= n->head)
		return 0;
	h = p2pl__ring_get(n, n->head);
	q = p2pl__ring_get(n, p->newest - 1);
	if (h == NULL || q == NULL)
		return -1;
	return h->stamp > q->stamp ? (int64_t)(h->stamp - q->stamp) : 0;
}

int
p2pl_peer_role(const struct p2pl_peer *p)
{
	return p->state == PEER_HELLO ? -1 : p->hello.role;
}
