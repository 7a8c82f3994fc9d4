/* dht.c - a Mainline DHT node without I/O: messages in and out, timers. */
#include "dht-int.h"
#include "util.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
dht_send_msg(struct p2pl_dht *d, const struct dht_addr *a,
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
	dht_send_msg(d, a, &m);
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
		ok = dht_search_reply(d, m, from);
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
		dht_take_nodes(d, NULL, m->nodes, m->nodeslen, P2PL_KRPC_NODE4);
		dht_take_nodes(d, NULL, m->nodes6, m->nodes6len, P2PL_KRPC_NODE6);
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
	dht_send_msg(d, to, &m);
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
	want = q->want ? q->want : dht_want_of(from);
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
	dht_send_msg(d, from, &m);
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
		s = dht_search_slot(d, d->id, fam);
		if (s != NULL && !s->used)
			dht_search_start(d, s, d->id, fam, 0, 1);
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
			dht_search_step(d, &d->search[i]);
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
