/* krpc.c - KRPC messages of the Mainline DHT: parse and encode. */
#include "krpc.h"
#include "bencode.h"
#include "util.h"

#include <string.h>

#define NVALS 512		/* bencode slots for one datagram */

static const char *const methods[] = {
	NULL, "ping", "find_node", "get_peers", "announce_peer"
};

const char *
p2pl_krpc_method(int q)
{
	if (q < P2PL_KRPC_PING || q > P2PL_KRPC_ANNOUNCE_PEER)
		return NULL;
	return methods[q];
}

/* A string of exactly n bytes under key (n 0: any length), or NULL. */
static const uint8_t *
str_n(const struct p2pl_benc *d, const char *key, size_t n, size_t *len)
{
	const uint8_t *s;
	size_t l;

	s = p2pl_benc_get_str(d, key, &l);
	if (s == NULL || (n != 0 && l != n))
		return NULL;
	if (len != NULL)
		*len = l;
	return s;
}

/* "want": a list of strings; n4 and n6 are known. */
static int
parse_want(const struct p2pl_benc *a, struct p2pl_krpc *m)
{
	const struct p2pl_benc *w, *c;
	int i;

	w = p2pl_benc_get(a, "want");
	if (w == NULL)
		return 0;
	if (w->type != P2PL_BENC_LIST)
		return -1;
	c = p2pl_benc_child(w);
	for (i = 0; i < w->n; i++, c = p2pl_benc_next(c)) {
		if (p2pl_benc_streq(c, "n4"))
			m->want |= P2PL_KRPC_WANT4;
		else if (p2pl_benc_streq(c, "n6"))
			m->want |= P2PL_KRPC_WANT6;
	}
	return 0;
}

static int
parse_query(const struct p2pl_benc *top, struct p2pl_krpc *m, char *err,
    size_t errlen)
{
	const struct p2pl_benc *a, *q;
	int64_t port, implied;
	int i;

	q = p2pl_benc_get(top, "q");
	a = p2pl_benc_get(top, "a");
	if (q == NULL || q->type != P2PL_BENC_STR || a == NULL ||
	    a->type != P2PL_BENC_DICT) {
		p2pl_seterr(err, errlen, "query without q or a");
		return -1;
	}
	for (i = P2PL_KRPC_PING; i <= P2PL_KRPC_ANNOUNCE_PEER; i++)
		if (p2pl_benc_streq(q, methods[i]))
			m->q = i;
	m->id = str_n(a, "id", 20, NULL);
	if (m->id == NULL) {
		p2pl_seterr(err, errlen, "query without a 20-byte id");
		return -1;
	}
	if (parse_want(a, m) < 0) {
		p2pl_seterr(err, errlen, "want is not a list");
		return -1;
	}
	switch (m->q) {
	case P2PL_KRPC_FIND_NODE:
		m->target = str_n(a, "target", 20, NULL);
		break;
	case P2PL_KRPC_GET_PEERS:
	case P2PL_KRPC_ANNOUNCE_PEER:
		m->target = str_n(a, "info_hash", 20, NULL);
		break;
	default:
		return 0;
	}
	if (m->target == NULL) {
		p2pl_seterr(err, errlen, "%s without a 20-byte target",
		    methods[m->q]);
		return -1;
	}
	if (m->q != P2PL_KRPC_ANNOUNCE_PEER)
		return 0;
	m->token = str_n(a, "token", 0, &m->toklen);
	if (m->token == NULL || m->toklen == 0 ||
	    m->toklen > P2PL_KRPC_TOKMAX) {
		p2pl_seterr(err, errlen, "announce_peer without a good token");
		return -1;
	}
	if (p2pl_benc_get_int(a, "implied_port", &implied) == 0 &&
	    implied == 1)
		m->implied_port = 1;
	if (p2pl_benc_get_int(a, "port", &port) < 0 || port < 0 ||
	    port > 65535 || (port == 0 && !m->implied_port)) {
		p2pl_seterr(err, errlen, "announce_peer without a good port");
		return -1;
	}
	m->port = (int)port;
	return 0;
}

static int
parse_values(const struct p2pl_benc *r, struct p2pl_krpc *m)
{
	const struct p2pl_benc *v, *c;
	int i;

	v = p2pl_benc_get(r, "values");
	if (v == NULL)
		return 0;
	if (v->type != P2PL_BENC_LIST)
		return -1;
	c = p2pl_benc_child(v);
	for (i = 0; i < v->n; i++, c = p2pl_benc_next(c)) {
		if (c->type != P2PL_BENC_STR || (c->len != 6 && c->len != 18))
			return -1;
		if (m->nvalues < P2PL_KRPC_VALUES) {
			m->values[m->nvalues] = c->s;
			m->valuelen[m->nvalues++] = (uint8_t)c->len;
		}
	}
	return 0;
}

static int
parse_reply(const struct p2pl_benc *top, struct p2pl_krpc *m, char *err,
    size_t errlen)
{
	const struct p2pl_benc *r;

	r = p2pl_benc_get(top, "r");
	if (r == NULL || r->type != P2PL_BENC_DICT) {
		p2pl_seterr(err, errlen, "reply without an r dict");
		return -1;
	}
	m->id = str_n(r, "id", 20, NULL);
	if (m->id == NULL) {
		p2pl_seterr(err, errlen, "reply without a 20-byte id");
		return -1;
	}
	if (p2pl_benc_get(r, "token") != NULL) {
		m->token = str_n(r, "token", 0, &m->toklen);
		if (m->token == NULL || m->toklen == 0 ||
		    m->toklen > P2PL_KRPC_TOKMAX) {
			p2pl_seterr(err, errlen, "bad token in reply");
			return -1;
		}
	}
	if ((p2pl_benc_get(r, "nodes") != NULL &&
	    (str_n(r, "nodes", 0, &m->nodeslen) == NULL ||
	    m->nodeslen % P2PL_KRPC_NODE4 != 0)) ||
	    (p2pl_benc_get(r, "nodes6") != NULL &&
	    (str_n(r, "nodes6", 0, &m->nodes6len) == NULL ||
	    m->nodes6len % P2PL_KRPC_NODE6 != 0))) {
		p2pl_seterr(err, errlen, "nodes not in whole entries");
		return -1;
	}
	m->nodes = m->nodeslen ? str_n(r, "nodes", 0, NULL) : NULL;
	m->nodes6 = m->nodes6len ? str_n(r, "nodes6", 0, NULL) : NULL;
	if (parse_values(r, m) < 0) {
		p2pl_seterr(err, errlen, "values not 6- or 18-byte strings");
		return -1;
	}
	return 0;
}

static int
parse_error(const struct p2pl_benc *top, struct p2pl_krpc *m, char *err,
    size_t errlen)
{
	const struct p2pl_benc *e, *c;

	e = p2pl_benc_get(top, "e");
	if (e == NULL || e->type != P2PL_BENC_LIST || e->n < 1 ||
	    p2pl_benc_child(e)->type != P2PL_BENC_INT) {
		p2pl_seterr(err, errlen, "error without a code");
		return -1;
	}
	c = p2pl_benc_child(e);
	m->ecode = c->i;
	c = p2pl_benc_next(c);
	if (e->n >= 2 && c->type == P2PL_BENC_STR) {
		m->emsg = c->s;
		m->emsglen = c->len;
	}
	return 0;
}

int
p2pl_krpc_parse(const uint8_t *buf, size_t len, struct p2pl_krpc *m,
    char *err, size_t errlen)
{
	struct p2pl_benc v[NVALS];
	const uint8_t *y;
	size_t ylen;

	memset(m, 0, sizeof(*m));
	if (len > P2PL_KRPC_MAXLEN) {
		p2pl_seterr(err, errlen, "datagram of %zu bytes", len);
		return -1;
	}
	if (p2pl_benc_decode(buf, len, v, NVALS, err, errlen) < 0)
		return -1;
	if (v[0].type != P2PL_BENC_DICT) {
		p2pl_seterr(err, errlen, "not a dict");
		return -1;
	}
	m->tid = str_n(v, "t", 0, &m->tidlen);
	if (m->tid == NULL || m->tidlen == 0 || m->tidlen > P2PL_KRPC_TIDMAX) {
		p2pl_seterr(err, errlen, "no good transaction id");
		return -1;
	}
	y = str_n(v, "y", 1, &ylen);
	if (y != NULL && y[0] == 'q') {
		m->y = P2PL_KRPC_QUERY;
		return parse_query(v, m, err, errlen);
	}
	if (y != NULL && y[0] == 'r') {
		m->y = P2PL_KRPC_REPLY;
		return parse_reply(v, m, err, errlen);
	}
	if (y != NULL && y[0] == 'e') {
		m->y = P2PL_KRPC_ERROR;
		return parse_error(v, m, err, errlen);
	}
	p2pl_seterr(err, errlen, "y is not q, r or e");
	return -1;
}

static void
put_query_args(struct p2pl_benc_writer *w, const struct p2pl_krpc *m)
{
	p2pl_benc_put_cstr(w, "a");
	p2pl_benc_put_dict(w);
	p2pl_benc_put_cstr(w, "id");
	p2pl_benc_put_str(w, m->id, 20);
	if (m->q == P2PL_KRPC_ANNOUNCE_PEER && m->implied_port) {
		p2pl_benc_put_cstr(w, "implied_port");
		p2pl_benc_put_int(w, 1);
	}
	if (m->q == P2PL_KRPC_GET_PEERS || m->q == P2PL_KRPC_ANNOUNCE_PEER) {
		p2pl_benc_put_cstr(w, "info_hash");
		p2pl_benc_put_str(w, m->target, 20);
	}
	if (m->q == P2PL_KRPC_ANNOUNCE_PEER) {
		p2pl_benc_put_cstr(w, "port");
		p2pl_benc_put_int(w, m->port);
	}
	if (m->q == P2PL_KRPC_FIND_NODE) {
		p2pl_benc_put_cstr(w, "target");
		p2pl_benc_put_str(w, m->target, 20);
	}
	if (m->q == P2PL_KRPC_ANNOUNCE_PEER) {
		p2pl_benc_put_cstr(w, "token");
		p2pl_benc_put_str(w, m->token, m->toklen);
	}
	if (m->want) {
		p2pl_benc_put_cstr(w, "want");
		p2pl_benc_put_list(w);
		if (m->want & P2PL_KRPC_WANT4)
			p2pl_benc_put_cstr(w, "n4");
		if (m->want & P2PL_KRPC_WANT6)
			p2pl_benc_put_cstr(w, "n6");
		p2pl_benc_put_end(w);
	}
	p2pl_benc_put_end(w);
}

static void
put_reply(struct p2pl_benc_writer *w, const struct p2pl_krpc *m)
{
	int i;

	p2pl_benc_put_cstr(w, "r");
	p2pl_benc_put_dict(w);
	p2pl_benc_put_cstr(w, "id");
	p2pl_benc_put_str(w, m->id, 20);
	if (m->nodes != NULL) {
		p2pl_benc_put_cstr(w, "nodes");
		p2pl_benc_put_str(w, m->nodes, m->nodeslen);
	}
	if (m->nodes6 != NULL) {
		p2pl_benc_put_cstr(w, "nodes6");
		p2pl_benc_put_str(w, m->nodes6, m->nodes6len);
	}
	if (m->token != NULL) {
		p2pl_benc_put_cstr(w, "token");
		p2pl_benc_put_str(w, m->token, m->toklen);
	}
	if (m->nvalues > 0) {
		p2pl_benc_put_cstr(w, "values");
		p2pl_benc_put_list(w);
		for (i = 0; i < m->nvalues && i < P2PL_KRPC_VALUES; i++)
			p2pl_benc_put_str(w, m->values[i], m->valuelen[i]);
		p2pl_benc_put_end(w);
	}
	p2pl_benc_put_end(w);
}

long
p2pl_krpc_encode(const struct p2pl_krpc *m, uint8_t *buf, size_t cap)
{
	struct p2pl_benc_writer w;

	if (m->tid == NULL || m->tidlen == 0 ||
	    (m->y != P2PL_KRPC_ERROR && m->id == NULL) ||
	    (m->y == P2PL_KRPC_QUERY && p2pl_krpc_method(m->q) == NULL))
		return -1;
	p2pl_benc_writer_init(&w, buf, cap);
	p2pl_benc_put_dict(&w);
	if (m->y == P2PL_KRPC_QUERY)
		put_query_args(&w, m);
	if (m->y == P2PL_KRPC_ERROR) {
		p2pl_benc_put_cstr(&w, "e");
		p2pl_benc_put_list(&w);
		p2pl_benc_put_int(&w, m->ecode);
		p2pl_benc_put_str(&w, m->emsg ? (const void *)m->emsg : "",
		    m->emsglen);
		p2pl_benc_put_end(&w);
	}
	if (m->y == P2PL_KRPC_QUERY) {
		p2pl_benc_put_cstr(&w, "q");
		p2pl_benc_put_cstr(&w, methods[m->q]);
	}
	if (m->y == P2PL_KRPC_REPLY)
		put_reply(&w, m);
	p2pl_benc_put_cstr(&w, "t");
	p2pl_benc_put_str(&w, m->tid, m->tidlen);
	p2pl_benc_put_cstr(&w, "y");
	p2pl_benc_put_cstr(&w, m->y == P2PL_KRPC_QUERY ? "q" :
	    m->y == P2PL_KRPC_REPLY ? "r" : "e");
	p2pl_benc_put_end(&w);
	return p2pl_benc_done(&w);
}
