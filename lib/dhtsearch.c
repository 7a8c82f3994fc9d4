/* dhtsearch.c - the DHT node's searches: iterative get_peers, announce. */
#include "dht-int.h"
#include "util.h"

#include <sodium.h>
#include <string.h>

#define ALPHA 3			/* queries in flight per search */
#define SEARCH_MAX (60 * SEC)

static void
search_query(struct p2pl_dht *d, struct dht_search *s, struct dht_snode *n,
    int q)
{
	struct p2pl_krpc m;
	uint8_t tid[4];

	tid[0] = q == P2PL_KRPC_ANNOUNCE_PEER ? 'a' : 's';
	tid[1] = (uint8_t)(s - d->search);
	p2pl_put16(tid + 2, s->gen);
	memset(&m, 0, sizeof(m));
	m.y = P2PL_KRPC_QUERY;
	m.q = q;
	m.tid = tid;
	m.tidlen = 4;
	m.id = d->id;
	m.target = s->ih;
	m.want = dht_want_of(&n->a);
	if (q == P2PL_KRPC_ANNOUNCE_PEER) {
		m.token = n->token;
		m.toklen = n->toklen;
		m.port = s->port;
	}
	dht_send_msg(d, &n->a, &m);
}

/* Add a node to a search's list, kept closest first. */
static void
search_add(struct p2pl_dht *d, struct dht_search *s, const uint8_t *id,
    const struct dht_addr *a, int noid)
{
	int i, k;

	if (!dht_addr_usable(a) || a->fam != s->fam ||
	    (!noid && memcmp(id, d->id, 20) == 0))
		return;
	for (i = 0; i < s->n; i++)
		if (dht_addr_eq(&s->s[i].a, a) ||
		    (!noid && !s->s[i].noid && memcmp(s->s[i].id, id, 20) == 0))
			return;
	for (k = s->n; k > 0 && !noid && (s->s[k - 1].noid ||
	    dht_closer(s->ih, id, s->s[k - 1].id)); k--)
		;
	if (k >= P2PL_DHT_SEARCH_NODES)
		return;
	if (s->n == P2PL_DHT_SEARCH_NODES)
		s->n--;
	memmove(&s->s[k + 1], &s->s[k], (size_t)(s->n - k) * sizeof(s->s[0]));
	memset(&s->s[k], 0, sizeof(s->s[0]));
	if (!noid)
		memcpy(s->s[k].id, id, 20);
	s->s[k].noid = (uint8_t)noid;
	s->s[k].a = *a;
	s->n++;
}

static void
search_seed(struct p2pl_dht *d, struct dht_search *s)
{
	struct dht_node *c[P2PL_DHT_SEARCH_NODES];
	int i, n;

	n = dht_table_closest(d, s->fam, s->ih, c, P2PL_DHT_SEARCH_NODES);
	for (i = 0; i < n; i++)
		search_add(d, s, c[i]->id, &c[i]->a, 0);
	for (i = 0; i < d->nboot && s->n < P2PL_DHT_K; i++)
		search_add(d, s, NULL, &d->boot[i], 1);
}

static void
search_finish(struct p2pl_dht *d, struct dht_search *s)
{
	int i, k, announced = 0;

	for (i = k = 0; i < s->n && k < P2PL_DHT_K; i++) {
		if (s->s[i].state != SN_REPLIED)
			continue;
		k++;
		if (s->port != 0 && s->s[i].toklen > 0) {
			search_query(d, s, &s->s[i], P2PL_KRPC_ANNOUNCE_PEER);
			announced++;
		}
	}
	s->used = 0;
	if (!s->internal && d->cfg.done != NULL)
		d->cfg.done(d->cfg.arg, s->ih, s->npeers, announced);
}

/* Time out, send what may be sent, finish when the K closest answered. */
void
dht_search_step(struct p2pl_dht *d, struct dht_search *s)
{
	struct dht_snode *n;
	int i, k, inflight = 0, pending = 0;

	if (s->n == 0)
		search_seed(d, s);
	for (i = 0; i < s->n; i++) {
		n = &s->s[i];
		if (n->state != SN_SENT)
			continue;
		if (d->now - n->sent < QUERY_TIMEOUT) {
			inflight++;
			continue;
		}
		d->st.timeouts++;
		dht_table_failed(d, &n->a);
		n->state = n->tries < 2 ? SN_NEW : SN_FAILED;
	}
	for (i = k = 0; i < s->n && k < P2PL_DHT_K; i++) {
		n = &s->s[i];
		if (n->state == SN_FAILED)
			continue;
		k++;
		if (n->state == SN_SENT)
			pending++;
		if (n->state != SN_NEW)
			continue;
		pending++;
		if (inflight >= ALPHA)
			continue;
		n->state = SN_SENT;
		n->tries++;
		n->sent = d->now;
		inflight++;
		search_query(d, s, n, P2PL_KRPC_GET_PEERS);
	}
	if ((pending == 0 && s->n > 0) || d->now - s->started >= SEARCH_MAX)
		search_finish(d, s);
}

void
dht_search_start(struct p2pl_dht *d, struct dht_search *s, const uint8_t *ih,
    int fam, uint16_t port, int internal)
{
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->internal = (uint8_t)internal;
	s->fam = (uint8_t)fam;
	memcpy(s->ih, ih, 20);
	s->port = port;
	randombytes_buf(&s->gen, sizeof(s->gen));
	s->started = d->now;
	dht_search_step(d, s);
}

struct dht_search *
dht_search_slot(struct p2pl_dht *d, const uint8_t *ih, int fam)
{
	int i, free = -1;

	for (i = 0; i < P2PL_DHT_SEARCHES; i++) {
		if (d->search[i].used && d->search[i].fam == fam &&
		    memcmp(d->search[i].ih, ih, 20) == 0)
			return &d->search[i];
		if (!d->search[i].used && free < 0)
			free = i;
	}
	return free < 0 ? NULL : &d->search[free];
}

/* Families worth searching: those with nodes or bootstrap addresses. */
static int
has_family(struct p2pl_dht *d, int fam)
{
	int i;

	if (d->tab[fam == 4 ? 0 : 1].n > 0)
		return 1;
	for (i = 0; i < d->nboot; i++)
		if (d->boot[i].fam == fam)
			return 1;
	return 0;
}

int
p2pl_dht_search(struct p2pl_dht *d, const uint8_t info_hash[20],
    uint16_t port, uint64_t now_us, char *err, size_t errlen)
{
	struct dht_search *s;
	int fam, started = 0;

	d->now = now_us;
	for (fam = 4; fam <= 6; fam += 2) {
		if (!has_family(d, fam) && !(fam == 4 && !has_family(d, 6)))
			continue;
		s = dht_search_slot(d, info_hash, fam);
		if (s == NULL) {
			if (started)
				break;
			p2pl_seterr(err, errlen, "too many dht searches");
			return -1;
		}
		dht_search_start(d, s, info_hash, fam, port, 0);
		started++;
	}
	return 0;
}

/* Nodes in a reply: to the search, and pinged if their bucket has room. */
void
dht_take_nodes(struct p2pl_dht *d, struct dht_search *s, const uint8_t *p,
    size_t len, size_t sz)
{
	struct dht_addr a;
	size_t i;

	for (i = 0; p != NULL && i + sz <= len; i += sz) {
		dht_addr_get(p + i + 20, sz - 20, &a);
		if (!dht_addr_usable(&a) || memcmp(p + i, d->id, 20) == 0)
			continue;
		if (s != NULL)
			search_add(d, s, p + i, &a, 0);
		if (dht_table_has_room(d, p + i, a.fam))
			dht_send_query(d, &a, P2PL_KRPC_PING, NULL);
	}
}

static void
take_values(struct p2pl_dht *d, struct dht_search *s,
    const struct p2pl_krpc *m)
{
	struct sockaddr_storage ss;
	struct dht_addr a;
	socklen_t len;
	int i, j;

	for (i = 0; i < m->nvalues; i++) {
		dht_addr_get(m->values[i], m->valuelen[i], &a);
		if (!dht_addr_usable(&a))
			continue;
		for (j = 0; j < s->npeers && j < 64; j++)
			if (dht_addr_eq(&s->seen[j], &a))
				break;
		if (j < s->npeers && j < 64)
			continue;
		if (s->npeers < 64)
			s->seen[s->npeers] = a;
		s->npeers++;
		len = dht_addr_to_sa(&a, &ss);
		if (!s->internal && d->cfg.peer != NULL)
			d->cfg.peer(d->cfg.arg, s->ih,
			    (struct sockaddr *)&ss, len);
	}
}

/* A reply or error to a search's query; 0 if it was one. */
int
dht_search_reply(struct p2pl_dht *d, const struct p2pl_krpc *m,
    const struct dht_addr *from)
{
	struct dht_search *s;
	struct dht_snode *n = NULL;
	int i;

	if (m->tid[1] >= P2PL_DHT_SEARCHES)
		return -1;
	s = &d->search[m->tid[1]];
	if (p2pl_get16(m->tid + 2) != s->gen)
		return -1;
	if (m->tid[0] == 'a')
		return 0;	/* an announce's answer: nothing to do */
	if (!s->used)
		return -1;
	for (i = 0; i < s->n; i++)
		if (dht_addr_eq(&s->s[i].a, from))
			n = &s->s[i];
	if (n == NULL || n->state != SN_SENT)
		return 0;	/* late, or dropped from the list */
	if (m->y == P2PL_KRPC_ERROR) {
		n->state = SN_FAILED;
		dht_search_step(d, s);
		return 0;
	}
	n->state = SN_REPLIED;
	n->noid = 0;
	memcpy(n->id, m->id, 20);
	n->toklen = (uint8_t)m->toklen;
	if (m->toklen > 0)
		memcpy(n->token, m->token, m->toklen);
	take_values(d, s, m);
	if (s->fam == 4)
		dht_take_nodes(d, s, m->nodes, m->nodeslen, P2PL_KRPC_NODE4);
	else
		dht_take_nodes(d, s, m->nodes6, m->nodes6len, P2PL_KRPC_NODE6);
	if (s->used)
		dht_search_step(d, s);
	return 0;
}
