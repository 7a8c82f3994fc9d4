/*
 * pex.c - candidate addresses and peer exchange.
 *
 * A PEX message lists up to PEX_MAX neighbours that accept connections:
 *
 *   u8 count | count x (u8 family 4 or 6 | 4 or 16 address bytes | u16 port)
 *
 * Received addresses are checked (family, no port 0, no unspecified or
 * multicast address) and kept as candidates, at most CAND_MAX; seeds from
 * the URI are never evicted.  Dial failures back off exponentially.
 *
 * The ban list also lives here: a peer that broke the protocol is refused
 * for BAN_TIME, matched by its host and either its listening port or its
 * id; one that did it on a connection it opened to us has its whole host
 * refused, which drivers check before accepting.
 */
#include "node-int.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#define BACKOFF_MIN 250000
#define BACKOFF_MAX 5000000
#define BAN_US 60000000
#define PEX_MIN_GAP 5000000	/* honest peers send one every PEX_EVERY */

static int
addr_eq(const struct p2pl_addr *a, const struct p2pl_addr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static struct cand *
cand_find(struct p2pl_node *n, const struct p2pl_addr *a)
{
	for (int i = 0; i < n->ncands; i++)
		if (addr_eq(&n->cands[i].addr, a))
			return &n->cands[i];
	return NULL;
}

int
p2pl_node_add_candidate(struct p2pl_node *n, const struct p2pl_addr *a,
    int seed)
{
	struct cand *c = cand_find(n, a);
	int i;

	if (c != NULL) {
		c->seed |= seed;
		return 0;
	}
	if (n->ncands == CAND_MAX) {
		/* evict a failing non-seed, or refuse */
		for (i = 0; i < n->ncands; i++)
			if (!n->cands[i].seed && n->cands[i].fails > 0)
				break;
		if (i == n->ncands)
			return -1;
		n->cands[i] = n->cands[--n->ncands];
	}
	c = &n->cands[n->ncands++];
	memset(c, 0, sizeof(*c));
	c->addr = *a;
	c->seed = seed;
	return 0;
}

void
p2pl__ban(struct p2pl_peer *p, int wide, uint64_t now)
{
	struct p2pl_node *n = p->node;
	struct ban *b;
	int i, old = 0;

	if (strlen(p->addr.host) >= sizeof(b->host))
		return;
	if (n->nbans == BAN_MAX) {
		/* full: reuse the entry that expires first */
		for (i = 1; i < n->nbans; i++)
			if (n->bans[i].until < n->bans[old].until)
				old = i;
		b = &n->bans[old];
	} else
		b = &n->bans[n->nbans++];
	memset(b, 0, sizeof(*b));
	memcpy(b->host, p->addr.host, strlen(p->addr.host));
	b->port = wide ? 0 : p->addr.port;
	if (p->state == PEER_READY) {
		memcpy(b->id, p->hello.id, P2PL_IDLEN);
		b->has_id = 1;
	}
	b->until = now + BAN_TIME;
	n->st.banned++;
	p->banned = 1;
}

int
p2pl__banned(const struct p2pl_node *n, const char *host, uint16_t port,
    const uint8_t *id, uint64_t now)
{
	const struct ban *b;

	for (int i = 0; i < n->nbans; i++) {
		b = &n->bans[i];
		if (b->until <= now || strcmp(b->host, host) != 0)
			continue;
		/* the id only counts on the same host: ids are not
		 * authenticated, and one could claim an honest peer's */
		if (b->port == 0 || (port != 0 && b->port == port) ||
		    (id != NULL && b->has_id &&
		    memcmp(b->id, id, P2PL_IDLEN) == 0))
			return 1;
	}
	return 0;
}

int
p2pl_node_banned(const struct p2pl_node *n, const char *host, uint64_t now)
{
	for (int i = 0; i < n->nbans; i++)
		if (n->bans[i].until > now && n->bans[i].port == 0 &&
		    strcmp(n->bans[i].host, host) == 0)
			return 1;
	return 0;
}

static int
connected(const struct p2pl_node *n, const struct p2pl_addr *a)
{
	const struct p2pl_peer *p;

	for (p = n->peers; p != NULL; p = p->next)
		if (p->state != PEER_DEAD && addr_eq(&p->addr, a))
			return 1;
	return 0;
}

int
p2pl_node_pick(struct p2pl_node *n, uint64_t now, struct p2pl_addr *a)
{
	int i, j, start, pass;
	struct cand *c;

	if (n->ncands == 0)
		return -1;
	start = (int)randombytes_uniform((uint32_t)n->ncands);
	/* seeds first, then the others from a random start */
	for (pass = 0; pass < 2; pass++)
		for (j = 0; j < n->ncands; j++) {
			i = pass == 0 ? j : (start + j) % n->ncands;
			c = &n->cands[i];
			if (c->seed != (pass == 0) || c->next_try > now ||
			    connected(n, &c->addr) || p2pl__banned(n,
			    c->addr.host, c->addr.port, NULL, now))
				continue;
			/* until it answers, do not dial it again */
			c->next_try = now + BACKOFF_MAX;
			*a = c->addr;
			return 0;
		}
	return -1;
}

void
p2pl_node_dial_failed(struct p2pl_node *n, const struct p2pl_addr *a,
    int bad, uint64_t now)
{
	struct cand *c = cand_find(n, a);
	uint64_t wait;

	if (c == NULL)
		return;
	c->fails++;
	if (!c->seed && (bad || c->fails > 3)) {
		*c = n->cands[--n->ncands];	/* forget it */
		return;
	}
	wait = BACKOFF_MIN << (c->fails < 6 ? c->fails - 1 : 5);
	if (wait > BACKOFF_MAX)
		wait = BACKOFF_MAX;
	c->next_try = now + (bad ? BAN_US : wait);
}

/* A handshake completed with a dialled address: it works. */
void
p2pl__cand_ok(struct p2pl_node *n, const struct p2pl_addr *a)
{
	struct cand *c = cand_find(n, a);

	if (c != NULL) {
		c->fails = 0;
		c->next_try = 0;
	}
}

int
p2pl_node_outgoing(const struct p2pl_node *n)
{
	const struct p2pl_peer *p;
	int c = 0;

	for (p = n->peers; p != NULL; p = p->next)
		c += p->outgoing && p->state != PEER_DEAD;
	return c;
}

/* Append one address entry; 0 if it is not a numeric address. */
static size_t
put_addr(uint8_t *b, const struct p2pl_addr *a)
{
	if (inet_pton(AF_INET, a->host, b + 1) == 1) {
		b[0] = 4;
		p2pl_put16(b + 5, a->port);
		return 7;
	}
	if (inet_pton(AF_INET6, a->host, b + 1) == 1) {
		b[0] = 6;
		p2pl_put16(b + 17, a->port);
		return 19;
	}
	return 0;
}

/* A peer before p in the list has its address: p adds nothing to a PEX
 * (many connections from one address must not crowd the others out). */
static int
listed(const struct p2pl_peer *first, const struct p2pl_peer *p)
{
	for (; first != p; first = first->next)
		if (first->state == PEER_READY && addr_eq(&first->addr, &p->addr))
			return 1;
	return 0;
}

void
p2pl__pex_send(struct p2pl_peer *to, uint64_t now)
{
	uint8_t msg[P2PL_MSG_HDR + 1 + PEX_MAX * 19];
	struct p2pl_peer *p;
	size_t len = P2PL_MSG_HDR + 1, n;
	int count = 0;

	to->last_pex = now;
	for (p = to->node->peers; p != NULL && count < PEX_MAX; p = p->next) {
		if (p == to || p->state != PEER_READY || p->addr.port == 0 ||
		    listed(to->node->peers, p))
			continue;
		if ((n = put_addr(msg + len, &p->addr)) == 0)
			continue;
		len += n;
		count++;
	}
	if (count == 0)
		return;
	msg[P2PL_MSG_HDR] = (uint8_t)count;
	p2pl_wire_header(msg, P2PL_MSG_PEX, len - P2PL_MSG_HDR);
	p2pl__send(to, msg, len, NULL);
}

static int
usable(int family, const uint8_t *b)
{
	static const uint8_t zero[16];

	if (family == 4)
		return memcmp(b, zero, 4) != 0 && b[0] < 224;	/* no multicast */
	return memcmp(b, zero, 16) != 0 && b[0] != 0xff;
}

int
p2pl__pex_input(struct p2pl_peer *p, const uint8_t *body, size_t len,
    uint64_t now)
{
	struct p2pl_addr a;
	size_t off = 1, alen;
	int i, count, family;

	/* more often than an honest peer sends them: a flood of addresses */
	if (p->last_pex_in != 0 && now < p->last_pex_in + PEX_MIN_GAP)
		p2pl__strike(p, STRIKE_MAX / 4, "peer exchange flood", now);
	p->last_pex_in = now;
	if (p->state != PEER_READY)
		return 0;
	if (len < 1 || (count = body[0]) > PEX_MAX)
		goto bad;
	for (i = 0; i < count; i++) {
		if (off >= len)
			goto bad;
		family = body[off];
		alen = family == 4 ? 4 : family == 6 ? 16 : 0;
		if (alen == 0 || off + 1 + alen + 2 > len)
			goto bad;
		memset(&a, 0, sizeof(a));
		inet_ntop(family == 4 ? AF_INET : AF_INET6, body + off + 1,
		    a.host, sizeof(a.host));
		a.port = p2pl_get16(body + off + 1 + alen);
		if (a.port != 0 && usable(family, body + off + 1) &&
		    !p->node->cfg.relay_only)
			p2pl_node_add_candidate(p->node, &a, 0);
		off += 1 + alen + 2;
	}
	if (off != len)
		goto bad;
	return 0;
bad:
	p2pl_seterr(p->err, sizeof(p->err), "malformed peer exchange");
	return -1;
}
