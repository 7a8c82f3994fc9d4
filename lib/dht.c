/* dht.c - a Mainline DHT node without I/O: messages and searches. */
#include "dht-int.h"
#include "util.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALPHA 3			/* queries in flight per search */
#define SEARCH_MAX (60 * SEC)
#define LOGS_PER_SEC 20

const char *const p2pl_dht_routers[] = {
	"router.bittorrent.com:6881",
	"router.utorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"dht.libtorrent.org:25401",
	NULL
};

void
dht_logf(struct p2pl_dht *d, const char *fmt, ...)
{
	char msg[P2PL_ERRLEN];
	va_list ap;

	if (d->cfg.log == NULL)
		return;
	if (d->now - d->log_at >= SEC) {
		d->log_at = d->now;
		d->logs = 0;
	}
	if (d->logs++ >= LOGS_PER_SEC)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->cfg.log(d->cfg.arg, msg);
}

static void
send_msg(struct p2pl_dht *d, const struct dht_addr *a,
    const struct p2pl_krpc *m)
{
	struct sockaddr_storage ss;
	uint8_t buf[1500];
	socklen_t len;
	long n;

	n = p2pl_krpc_encode(m, buf, sizeof(buf));
	if (n < 0)
		return;
	len = dht_addr_to_sa(a, &ss);
	d->st.out++;
	d->cfg.send(d->cfg.arg, (struct sockaddr *)&ss, len, buf, (size_t)n);
}

/* Which families to ask nodes of: the asker's own. */
static int
want_of(const struct dht_addr *a)
{
	return a->fam == 4 ? P2PL_KRPC_WANT4 : P2PL_KRPC_WANT6;
}

int
dht_send_query(struct p2pl_dht *d, const struct dht_addr *a, int q,
    const uint8_t *target)
{
	struct p2pl_krpc m;
	int i;

	for (i = 0; i < NPEND && d->pend[i].used; i++)
		;
	if (i == NPEND)
		return -1;
	d->pend[i].used = 1;
	d->pend[i].tid[0] = 'p';
	d->pend[i].tid[1] = (uint8_t)i;
	randombytes_buf(d->pend[i].tid + 2, 2);
	d->pend[i].a = *a;
	d->pend[i].sent = d->now;
	memset(&m, 0, sizeof(m));
	m.y = P2PL_KRPC_QUERY;
	m.q = q;
	m.tid = d->pend[i].tid;
	m.tidlen = 4;
	m.id = d->id;
	m.target = target;
	send_msg(d, a, &m);
	return 0;
}

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
	m.want = want_of(&n->a);
	if (q == P2PL_KRPC_ANNOUNCE_PEER) {
		m.token = n->token;
		m.toklen = n->toklen;
		m.port = s->port;
	}
	send_msg(d, &n->a, &m);
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
static void
search_step(struct p2pl_dht *d, struct dht_search *s)
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

static void
start_search(struct p2pl_dht *d, struct dht_search *s, const uint8_t *ih,
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
	search_step(d, s);
}

static struct dht_search *
search_slot(struct p2pl_dht *d, const uint8_t *ih, int fam)
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
		s = search_slot(d, info_hash, fam);
		if (s == NULL) {
			if (started)
				break;
			p2pl_seterr(err, errlen, "too many dht searches");
			return -1;
		}
		start_search(d, s, info_hash, fam, port, 0);
		started++;
	}
	return 0;
}

/* Nodes in a reply: to the search, and pinged if their bucket has room. */
static void
take_nodes(struct p2pl_dht *d, struct dht_search *s, const uint8_t *p,
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
static int
search_reply(struct p2pl_dht *d, const struct p2pl_krpc *m,
    const struct dht_addr *from)
{
	struct dht_search *s;
	struct dht_snode *n = NULL;
	int i;

	if (m->tid[1] >= P2PL_DHT_SEARCHES)
		return -1;
	s = &d->search[m->tid[1]];
	if (m->tid[0] == 'a')
		return 0;	/* an announce's answer: nothing to do */
	if (!s->used || p2pl_get16(m->tid + 2) != s->gen)
		return -1;
	for (i = 0; i < s->n; i++)
		if (dht_addr_eq(&s->s[i].a, from))
			n = &s->s[i];
	if (n == NULL || n->state != SN_SENT)
		return 0;	/* late, or dropped from the list */
	if (m->y == P2PL_KRPC_ERROR) {
		n->state = SN_FAILED;
		search_step(d, s);
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
		take_nodes(d, s, m->nodes, m->nodeslen, P2PL_KRPC_NODE4);
	else
		take_nodes(d, s, m->nodes6, m->nodes6len, P2PL_KRPC_NODE6);
	if (s->used)
		search_step(d, s);
	return 0;
}

static void
on_reply(struct p2pl_dht *d, const struct p2pl_krpc *m,
    const struct dht_addr *from)
{
	struct dht_pend *p;
	char a[64];
	int ok = -1;

	if (m->tidlen == 4 && (m->tid[0] == 's' || m->tid[0] == 'a'))
		ok = search_reply(d, m, from);
	if (m->tidlen == 4 && m->tid[0] == 'p' && m->tid[1] < NPEND) {
		p = &d->pend[m->tid[1]];
		if (p->used && dht_addr_eq(&p->a, from) &&
		    memcmp(p->tid, m->tid, 4) == 0) {
			p->used = 0;
			ok = 0;
		}
	}
	if (ok < 0) {
		d->st.unexpected++;
		dht_logf(d, "dht: %s: reply to no query of ours",
		    dht_addr_fmt(from, a, sizeof(a)));
		return;
	}
	if (m->y == P2PL_KRPC_ERROR) {
		d->st.errors++;
		dht_logf(d, "dht: %s: error %lld", dht_addr_fmt(from, a,
		    sizeof(a)), (long long)m->ecode);
		dht_table_failed(d, from);
		return;
	}
	dht_table_heard(d, m->id, from, 1);
	if (m->tid[0] == 'p') {
		take_nodes(d, NULL, m->nodes, m->nodeslen, P2PL_KRPC_NODE4);
		take_nodes(d, NULL, m->nodes6, m->nodes6len, P2PL_KRPC_NODE6);
	}
}

static void
send_error(struct p2pl_dht *d, const struct p2pl_krpc *q,
    const struct dht_addr *to, int code, const char *msg)
{
	struct p2pl_krpc m;

	memset(&m, 0, sizeof(m));
	m.y = P2PL_KRPC_ERROR;
	m.tid = q->tid;
	m.tidlen = q->tidlen;
	m.ecode = code;
	m.emsg = (const uint8_t *)msg;
	m.emsglen = strlen(msg);
	send_msg(d, to, &m);
}

/* Compact nodes closest to target, of family fam, into buf. */
static size_t
closest_nodes(struct p2pl_dht *d, int fam, const uint8_t *target,
    uint8_t *buf)
{
	struct dht_node *c[P2PL_DHT_K];
	size_t sz = fam == 4 ? P2PL_KRPC_NODE4 : P2PL_KRPC_NODE6;
	int i, n;

	n = dht_table_closest(d, fam, target, c, P2PL_DHT_K);
	for (i = 0; i < n; i++) {
		memcpy(buf + i * sz, c[i]->id, 20);
		dht_addr_put(&c[i]->a, buf + i * sz + 20);
	}
	return n * sz;
}

static void
on_query(struct p2pl_dht *d, const struct p2pl_krpc *q,
    const struct dht_addr *from)
{
	uint8_t n4[P2PL_DHT_K * P2PL_KRPC_NODE4], n6[P2PL_DHT_K * P2PL_KRPC_NODE6];
	uint8_t tok[TOKLEN], old[TOKLEN], vals[50][18];
	struct dht_store *st;
	struct p2pl_krpc m;
	struct dht_addr pa;
	int i, want;

	if (q->q == 0) {
		send_error(d, q, from, 204, "method unknown");
		return;
	}
	dht_table_heard(d, q->id, from, 0);
	d->st.queries++;
	memset(&m, 0, sizeof(m));
	m.y = P2PL_KRPC_REPLY;
	m.tid = q->tid;
	m.tidlen = q->tidlen;
	m.id = d->id;
	want = q->want ? q->want : want_of(from);
	if (q->q == P2PL_KRPC_FIND_NODE || q->q == P2PL_KRPC_GET_PEERS) {
		if (want & P2PL_KRPC_WANT4) {
			m.nodes = n4;
			m.nodeslen = closest_nodes(d, 4, q->target, n4);
		}
		if (want & P2PL_KRPC_WANT6) {
			m.nodes6 = n6;
			m.nodes6len = closest_nodes(d, 6, q->target, n6);
		}
	}
	if (q->q == P2PL_KRPC_GET_PEERS) {
		dht_token(d, from, 0, tok);
		m.token = tok;
		m.toklen = TOKLEN;
		st = dht_store_find(d, q->target);
		for (i = 0; st != NULL && i < st->n && m.nvalues < 50; i++) {
			if (st->p[i].a.fam != from->fam)
				continue;
			dht_addr_put(&st->p[i].a, vals[m.nvalues]);
			m.values[m.nvalues] = vals[m.nvalues];
			m.valuelen[m.nvalues++] = from->fam == 4 ? 6 : 18;
		}
	}
	if (q->q == P2PL_KRPC_ANNOUNCE_PEER) {
		dht_token(d, from, 0, tok);
		dht_token(d, from, 1, old);
		if (q->toklen != TOKLEN || (memcmp(q->token, tok, TOKLEN) != 0 &&
		    memcmp(q->token, old, TOKLEN) != 0)) {
			send_error(d, q, from, 203, "bad token");
			return;
		}
		pa = *from;
		if (!q->implied_port)
			pa.port = (uint16_t)q->port;
		dht_store_add(d, q->target, &pa);
	}
	send_msg(d, from, &m);
}

void
p2pl_dht_input(struct p2pl_dht *d, const uint8_t *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen, uint64_t now_us)
{
	char err[P2PL_ERRLEN], a[64];
	struct p2pl_krpc m;
	struct dht_addr fa;

	d->now = now_us;
	d->st.in++;
	if (dht_addr_from_sa(from, fromlen, &fa) < 0 || fa.port == 0) {
		d->st.malformed++;
		return;
	}
	if (p2pl_krpc_parse(buf, len, &m, err, sizeof(err)) < 0) {
		d->st.malformed++;
		dht_logf(d, "dht: %s: bad datagram: %s",
		    dht_addr_fmt(&fa, a, sizeof(a)), err);
		return;
	}
	if (m.y == P2PL_KRPC_QUERY)
		on_query(d, &m, &fa);
	else
		on_reply(d, &m, &fa);
}

static void
expire_pend(struct p2pl_dht *d)
{
	int i;

	for (i = 0; i < NPEND; i++) {
		if (!d->pend[i].used || d->now - d->pend[i].sent < QUERY_TIMEOUT)
			continue;
		d->pend[i].used = 0;
		d->st.timeouts++;
		dht_table_failed(d, &d->pend[i].a);
	}
}

/* Ask bootstrap nodes for ourselves while the table is nearly empty. */
static void
bootstrap(struct p2pl_dht *d)
{
	int i;

	if (d->tab[0].n + d->tab[1].n >= P2PL_DHT_K || d->now < d->boot_at)
		return;
	d->boot_at = d->now + 30 * SEC;
	for (i = 0; i < d->nboot; i++)
		dht_send_query(d, &d->boot[i], P2PL_KRPC_FIND_NODE, d->id);
}

/* Look ourselves up now and then, which fills the table near our id. */
static void
self_lookup(struct p2pl_dht *d)
{
	struct dht_search *s;
	int fam;

	if (d->now < d->self_at || d->tab[0].n + d->tab[1].n == 0)
		return;
	d->self_at = d->now + GOOD_AGE;
	for (fam = 4; fam <= 6; fam += 2) {
		if (d->tab[fam == 4 ? 0 : 1].n == 0)
			continue;
		s = search_slot(d, d->id, fam);
		if (s != NULL && !s->used)
			start_search(d, s, d->id, fam, 0, 1);
	}
}

uint64_t
p2pl_dht_tick(struct p2pl_dht *d, uint64_t now_us)
{
	int i, busy = 0;

	d->now = now_us;
	if (d->now >= d->rotate_at) {
		memcpy(d->oldsecret, d->secret, sizeof(d->secret));
		randombytes_buf(d->secret, sizeof(d->secret));
		d->rotate_at = d->now + 5 * 60 * SEC;
	}
	expire_pend(d);
	for (i = 0; i < P2PL_DHT_SEARCHES; i++)
		if (d->search[i].used)
			search_step(d, &d->search[i]);
	bootstrap(d);
	self_lookup(d);
	dht_table_refresh(d);
	dht_store_expire(d);
	for (i = 0; i < P2PL_DHT_SEARCHES; i++)
		busy |= d->search[i].used;
	for (i = 0; i < NPEND; i++)
		busy |= d->pend[i].used;
	return busy ? SEC / 5 : SEC;
}

int
p2pl_dht_add_node(struct p2pl_dht *d, const struct sockaddr *sa,
    socklen_t salen, char *err, size_t errlen)
{
	struct dht_addr a;
	int i;

	if (dht_addr_from_sa(sa, salen, &a) < 0 || !dht_addr_usable(&a)) {
		p2pl_seterr(err, errlen, "unusable dht node address");
		return -1;
	}
	for (i = 0; i < d->nboot; i++)
		if (dht_addr_eq(&d->boot[i], &a))
			return 0;
	if (d->nboot == P2PL_DHT_BOOTSTRAP) {
		p2pl_seterr(err, errlen, "too many dht bootstrap nodes");
		return -1;
	}
	d->boot[d->nboot++] = a;
	d->boot_at = 0;
	return 0;
}

struct p2pl_dht *
p2pl_dht_new(const struct p2pl_dht_cfg *cfg, char *err, size_t errlen)
{
	static const uint8_t zero[20];
	struct p2pl_dht *d;

	if (sodium_init() < 0) {
		p2pl_seterr(err, errlen, "libsodium failed to start");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	if (memcmp(cfg->id, zero, 20) == 0)
		randombytes_buf(d->id, 20);
	else
		memcpy(d->id, cfg->id, 20);
	randombytes_buf(d->secret, sizeof(d->secret));
	memcpy(d->oldsecret, d->secret, sizeof(d->secret));
	return d;
}

void
p2pl_dht_free(struct p2pl_dht *d)
{
	if (d == NULL)
		return;
	sodium_memzero(d->secret, sizeof(d->secret));
	sodium_memzero(d->oldsecret, sizeof(d->oldsecret));
	free(d);
}

const uint8_t *
p2pl_dht_id(const struct p2pl_dht *d)
{
	return d->id;
}

void
p2pl_dht_get_stats(const struct p2pl_dht *d, struct p2pl_dht_stats *st)
{
	const struct dht_node *x;
	int f, i, j;

	*st = d->st;
	st->nodes4 = d->tab[0].n;
	st->nodes6 = d->tab[1].n;
	st->good4 = st->good6 = st->searches = 0;
	for (f = 0; f < 2; f++)
		for (i = 0; i < 160; i++)
			for (j = 0; j < P2PL_DHT_K; j++) {
				x = &d->tab[f].b[i][j];
				if (x->used && x->confirmed &&
				    d->now - x->seen < GOOD_AGE)
					*(f ? &st->good6 : &st->good4) += 1;
			}
	for (i = 0; i < P2PL_DHT_SEARCHES; i++)
		st->searches += d->search[i].used;
}
