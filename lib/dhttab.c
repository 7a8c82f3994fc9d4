/*
 * dhttab.c - the DHT node's memory: addresses, the routing table, the
 * peers stored for others, tokens and the saved state.
 */
#include "dht-int.h"
#include "bencode.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int
dht_addr_from_sa(const struct sockaddr *sa, socklen_t len, struct dht_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(a, 0, sizeof(*a));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && len >= sizeof(*s4)) {
		s4 = (const struct sockaddr_in *)sa;
		a->fam = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		s6 = (const struct sockaddr_in6 *)sa;
		a->port = ntohs(s6->sin6_port);
		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			a->fam = 4;
			memcpy(a->ip, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			a->fam = 6;
			memcpy(a->ip, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

socklen_t
dht_addr_to_sa(const struct dht_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->fam == 4) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		s4->sin_port = htons(a->port);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a->ip, 16);
	s6->sin6_port = htons(a->port);
	return sizeof(*s6);
}

/* Not port 0, not unspecified, multicast or broadcast. */
int
dht_addr_usable(const struct dht_addr *a)
{
	static const uint8_t zero[16];

	if (a->port == 0)
		return 0;
	if (a->fam == 4)
		return memcmp(a->ip, zero, 4) != 0 && a->ip[0] < 224;
	if (a->fam == 6)
		return memcmp(a->ip, zero, 16) != 0 && a->ip[0] != 0xff;
	return 0;
}

int
dht_addr_eq(const struct dht_addr *a, const struct dht_addr *b)
{
	return a->fam == b->fam && a->port == b->port &&
	    memcmp(a->ip, b->ip, a->fam == 4 ? 4 : 16) == 0;
}

char *
dht_addr_fmt(const struct dht_addr *a, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->fam == 4 ? AF_INET : AF_INET6, a->ip, ip, sizeof(ip));
	snprintf(out, outlen, a->fam == 4 ? "%s:%u" : "[%s]:%u", ip, a->port);
	return out;
}

void
dht_addr_put(const struct dht_addr *a, uint8_t *p)
{
	size_t n = a->fam == 4 ? 4 : 16;

	memcpy(p, a->ip, n);
	p2pl_put16(p + n, a->port);
}

int
dht_addr_get(const uint8_t *p, size_t len, struct dht_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len != 6 && len != 18)
		return -1;
	a->fam = len == 6 ? 4 : 6;
	memcpy(a->ip, p, len - 2);
	a->port = p2pl_get16(p + len - 2);
	return 0;
}

int
dht_closer(const uint8_t *target, const uint8_t *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < 20; i++)
		if ((a[i] ^ target[i]) != (b[i] ^ target[i]))
			return (a[i] ^ target[i]) < (b[i] ^ target[i]);
	return 0;
}

/* The bucket of id: the bits it shares with ours; -1 for our own id. */
static int
bucket_of(const struct p2pl_dht *d, const uint8_t *id)
{
	int i, b;
	uint8_t x;

	for (i = 0; i < 20; i++) {
		x = id[i] ^ d->id[i];
		if (x == 0)
			continue;
		for (b = 0; !(x & 0x80); b++)
			x <<= 1;
		return i * 8 + b;
	}
	return -1;
}

static struct dht_table *
table_of(struct p2pl_dht *d, int fam)
{
	return &d->tab[fam == 4 ? 0 : 1];
}

/* The node at address a, in its family's table, or NULL. */
static struct dht_node *
find_addr(struct p2pl_dht *d, const struct dht_addr *a)
{
	struct dht_table *t = table_of(d, a->fam);
	int i, j;

	for (i = 0; i < 160 && t->n > 0; i++)
		for (j = 0; j < P2PL_DHT_K; j++)
			if (t->b[i][j].used && dht_addr_eq(&t->b[i][j].a, a))
				return &t->b[i][j];
	return NULL;
}

/* A slot for a new node in id's bucket, or NULL when it is full. */
static struct dht_node *
free_slot(struct p2pl_dht *d, struct dht_table *t, const uint8_t *id)
{
	struct dht_node *b;
	int i, k = bucket_of(d, id);

	if (k < 0)
		return NULL;
	b = t->b[k];
	for (i = 0; i < P2PL_DHT_K; i++)
		if (!b[i].used)
			return &b[i];
	for (i = 0; i < P2PL_DHT_K; i++)
		if (b[i].fails >= P2PL_DHT_FAILS)
			return &b[i];
	return NULL;
}

int
dht_table_has_room(struct p2pl_dht *d, const uint8_t *id, int fam)
{
	struct dht_table *t = table_of(d, fam);
	int i, k = bucket_of(d, id);

	if (k < 0)
		return 0;
	for (i = 0; i < P2PL_DHT_K; i++)
		if (t->b[k][i].used && memcmp(t->b[k][i].id, id, 20) == 0)
			return 0;
	return free_slot(d, t, id) != NULL;
}

/* The node with this id in its bucket, or NULL. */
static struct dht_node *
find_id(struct p2pl_dht *d, struct dht_table *t, const uint8_t *id)
{
	int i, k = bucket_of(d, id);

	for (i = 0; k >= 0 && i < P2PL_DHT_K; i++)
		if (t->b[k][i].used && memcmp(t->b[k][i].id, id, 20) == 0)
			return &t->b[k][i];
	return NULL;
}

/* A node queried us (replied 0) or answered us (1). */
void
dht_table_heard(struct p2pl_dht *d, const uint8_t *id,
    const struct dht_addr *a, int replied)
{
	struct dht_table *t = table_of(d, a->fam);
	struct dht_node *n;

	if (!dht_addr_usable(a) || bucket_of(d, id) < 0)
		return;
	n = find_addr(d, a);
	if (n != NULL && memcmp(n->id, id, 20) != 0) {
		/* the node at this address has a new id */
		n->used = 0;
		t->n--;
		n = NULL;
	}
	if (n == NULL && replied) {
		/* a node we asked answers from a new address */
		n = find_id(d, t, id);
		if (n != NULL)
			n->a = *a;
	}
	if (n == NULL && find_id(d, t, id) != NULL)
		return;		/* an id we know, from elsewhere */
	if (n == NULL) {
		n = free_slot(d, t, id);
		if (n == NULL)
			return;
		if (!n->used)
			t->n++;
		memset(n, 0, sizeof(*n));
		n->used = 1;
		memcpy(n->id, id, 20);
		n->a = *a;
	}
	n->seen = d->now;
	if (replied) {
		n->confirmed = 1;
		n->fails = 0;
	}
}

void
dht_table_failed(struct p2pl_dht *d, const struct dht_addr *a)
{
	struct dht_node *n = find_addr(d, a);

	if (n != NULL && n->fails < 255)
		n->fails++;
}

int
dht_table_closest(struct p2pl_dht *d, int fam, const uint8_t *target,
    struct dht_node **out, int max)
{
	struct dht_table *t = table_of(d, fam);
	struct dht_node *x;
	int i, j, k, n = 0;

	for (i = 0; i < 160 && t->n > 0; i++)
		for (j = 0; j < P2PL_DHT_K; j++) {
			x = &t->b[i][j];
			if (!x->used || x->fails >= P2PL_DHT_FAILS)
				continue;
			for (k = n; k > 0 &&
			    dht_closer(target, x->id, out[k - 1]->id); k--)
				if (k < max)
					out[k] = out[k - 1];
			if (k < max) {
				out[k] = x;
				if (n < max)
					n++;
			}
		}
	return n;
}

/* Ping nodes not heard from lately (a few per call). */
void
dht_table_refresh(struct p2pl_dht *d)
{
	struct dht_node *x;
	int f, i, j, sent = 0;

	for (f = 0; f < 2; f++)
		for (i = 0; i < 160 && d->tab[f].n > 0; i++)
			for (j = 0; j < P2PL_DHT_K; j++) {
				x = &d->tab[f].b[i][j];
				if (!x->used || (x->confirmed &&
				    d->now - x->seen < GOOD_AGE) ||
				    (x->pinged != 0 &&
				    d->now - x->pinged < 60 * SEC))
					continue;
				if (x->fails >= P2PL_DHT_FAILS) {
					x->used = 0;
					d->tab[f].n--;
					continue;
				}
				if (sent >= 8 || dht_send_query(d, &x->a,
				    P2PL_KRPC_PING, NULL) < 0)
					return;
				x->pinged = d->now;
				sent++;
			}
}

void
dht_token(const struct p2pl_dht *d, const struct dht_addr *a, int old,
    uint8_t out[TOKLEN])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), a->ip, a->fam == 4 ? 4 : 16,
	    old ? d->oldsecret : d->secret, sizeof(d->secret));
	memcpy(out, h, TOKLEN);
}

struct dht_store *
dht_store_find(struct p2pl_dht *d, const uint8_t *ih)
{
	int i;

	for (i = 0; i < P2PL_DHT_STORE_HASHES; i++)
		if (d->store[i].n > 0 && memcmp(d->store[i].ih, ih, 20) == 0)
			return &d->store[i];
	return NULL;
}

void
dht_store_add(struct p2pl_dht *d, const uint8_t *ih, const struct dht_addr *a)
{
	struct dht_store *s = dht_store_find(d, ih);
	int i, old = 0;

	if (s == NULL) {
		for (i = 0; i < P2PL_DHT_STORE_HASHES; i++) {
			if (d->store[i].n == 0)
				break;
			if (d->store[i].t < d->store[old].t)
				old = i;
		}
		s = &d->store[i < P2PL_DHT_STORE_HASHES ? i : old];
		d->st.stored -= s->n;
		s->n = 0;
		memcpy(s->ih, ih, 20);
	}
	s->t = d->now;
	for (i = 0; i < s->n; i++)
		if (dht_addr_eq(&s->p[i].a, a))
			break;
	if (i == s->n && s->n == P2PL_DHT_STORE_PEERS) {
		for (i = old = 0; i < s->n; i++)
			if (s->p[i].t < s->p[old].t)
				old = i;
		i = old;
	} else if (i == s->n) {
		s->n++;
		d->st.stored++;
	}
	s->p[i].a = *a;
	s->p[i].t = d->now;
}

void
dht_store_expire(struct p2pl_dht *d)
{
	struct dht_store *s;
	int i, j;

	for (i = 0; i < P2PL_DHT_STORE_HASHES; i++) {
		s = &d->store[i];
		for (j = 0; j < s->n;) {
			if (d->now - s->p[j].t < PEER_AGE) {
				j++;
				continue;
			}
			s->p[j] = s->p[--s->n];
			d->st.stored--;
		}
	}
}

/* Write the confirmed nodes of one family as compact node info. */
static size_t
put_nodes(struct p2pl_dht *d, int fam, uint8_t *p, int max)
{
	struct dht_table *t = table_of(d, fam);
	struct dht_node *x;
	size_t sz = fam == 4 ? P2PL_KRPC_NODE4 : P2PL_KRPC_NODE6;
	int i, j, n = 0;

	for (i = 0; i < 160; i++)
		for (j = 0; j < P2PL_DHT_K && n < max; j++) {
			x = &t->b[i][j];
			if (!x->used || !x->confirmed)
				continue;
			memcpy(p + n * sz, x->id, 20);
			dht_addr_put(&x->a, p + n * sz + 20);
			n++;
		}
	return n * sz;
}

long
p2pl_dht_save(const struct p2pl_dht *cd, uint8_t *buf, size_t cap)
{
	struct p2pl_dht *d = (struct p2pl_dht *)cd;
	struct p2pl_benc_writer w;
	uint8_t n4[200 * P2PL_KRPC_NODE4], n6[50 * P2PL_KRPC_NODE6];
	size_t l4, l6;

	l4 = put_nodes(d, 4, n4, 200);
	l6 = put_nodes(d, 6, n6, 50);
	p2pl_benc_writer_init(&w, buf, cap);
	p2pl_benc_put_dict(&w);
	p2pl_benc_put_cstr(&w, "id");
	p2pl_benc_put_str(&w, d->id, 20);
	p2pl_benc_put_cstr(&w, "nodes");
	p2pl_benc_put_str(&w, n4, l4);
	p2pl_benc_put_cstr(&w, "nodes6");
	p2pl_benc_put_str(&w, n6, l6);
	p2pl_benc_put_end(&w);
	return p2pl_benc_done(&w);
}

/* Put saved nodes in the table, unconfirmed: they get pinged. */
static void
load_nodes(struct p2pl_dht *d, const uint8_t *p, size_t len, size_t sz)
{
	struct dht_addr a;
	struct dht_node *n;
	size_t i;

	for (i = 0; i + sz <= len; i += sz) {
		dht_addr_get(p + i + 20, sz - 20, &a);
		if (!dht_addr_usable(&a) || find_addr(d, &a) != NULL ||
		    !dht_table_has_room(d, p + i, a.fam))
			continue;
		n = free_slot(d, table_of(d, a.fam), p + i);
		if (!n->used)
			table_of(d, a.fam)->n++;
		memset(n, 0, sizeof(*n));
		n->used = 1;
		memcpy(n->id, p + i, 20);
		n->a = a;
	}
}

int
p2pl_dht_load(struct p2pl_dht *d, const uint8_t *buf, size_t len,
    char *err, size_t errlen)
{
	struct p2pl_benc v[16];
	const uint8_t *id, *n4, *n6;
	size_t idlen, l4 = 0, l6 = 0;

	if (d->st.in > 0 || d->tab[0].n > 0 || d->tab[1].n > 0) {
		p2pl_seterr(err, errlen, "dht state loaded after start");
		return -1;
	}
	if (p2pl_benc_decode(buf, len, v, 16, err, errlen) < 0)
		return -1;
	id = p2pl_benc_get_str(v, "id", &idlen);
	n4 = p2pl_benc_get_str(v, "nodes", &l4);
	n6 = p2pl_benc_get_str(v, "nodes6", &l6);
	if (id == NULL || idlen != 20 || l4 % P2PL_KRPC_NODE4 != 0 ||
	    l6 % P2PL_KRPC_NODE6 != 0) {
		p2pl_seterr(err, errlen, "bad dht state");
		return -1;
	}
	memcpy(d->id, id, 20);
	if (n4 != NULL)
		load_nodes(d, n4, l4, P2PL_KRPC_NODE4);
	if (n6 != NULL)
		load_nodes(d, n6, l6, P2PL_KRPC_NODE6);
	return 0;
}
