/* bencode.c - bencoding decoder for hostile input, and a buffer writer. */
#include "bencode.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/*
 * Read a decimal number up to term at *pp: no leading zeros, "-" only if
 * neg_ok (and never "-0"), magnitude at most lim (lim + 1 when negative,
 * for INT64_MIN).  Advances *pp past term.
 */
static int
read_num(const uint8_t **pp, const uint8_t *end, uint8_t term, int neg_ok,
    uint64_t lim, uint64_t *mag, int *neg)
{
	const uint8_t *p = *pp, *start;
	uint64_t v = 0, d;

	*neg = 0;
	if (neg_ok && p < end && *p == '-') {
		*neg = 1;
		lim++;
		p++;
	}
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		d = (uint64_t)(*p - '0');
		if (d > lim || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
		p++;
	}
	if (p == start || p == end || *p != term)
		return -1;
	if (*start == '0' && (p - start > 1 || *neg))
		return -1;
	*pp = p + 1;
	*mag = v;
	return 0;
}

/* Decode the integer or string at *pp into x. */
static int
scalar(const uint8_t **pp, const uint8_t *end, struct p2pl_benc *x,
    char *err, size_t errlen)
{
	const uint8_t *p = *pp;
	uint64_t mag;
	int neg;

	if (*p == 'i') {
		p++;
		if (read_num(&p, end, 'e', 1, INT64_MAX, &mag, &neg) == -1) {
			p2pl_seterr(err, errlen, "bad bencoded integer");
			return -1;
		}
		x->type = P2PL_BENC_INT;
		x->i = neg && mag > 0 ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
	} else {
		if (read_num(&p, end, ':', 0, (uint64_t)(end - p), &mag,
		    &neg) == -1 || mag > (uint64_t)(end - p)) {
			p2pl_seterr(err, errlen, "bad string length");
			return -1;
		}
		x->type = P2PL_BENC_STR;
		x->s = p;
		x->len = (size_t)mag;
		p += mag;
	}
	*pp = p;
	return 0;
}

/* Close the innermost container; its slot is at index top. */
static int
close_container(struct p2pl_benc *v, int top, int nv, char *err,
    size_t errlen)
{
	struct p2pl_benc *c = &v[top];

	if (c->type == P2PL_BENC_DICT) {
		if (c->n % 2 != 0) {
			p2pl_seterr(err, errlen, "dict key without a value");
			return -1;
		}
		c->n /= 2;
	}
	c->span = nv - top;
	return 0;
}

int
p2pl_benc_decode(const uint8_t *buf, size_t len, struct p2pl_benc *v,
    int max, char *err, size_t errlen)
{
	const uint8_t *p = buf, *end = buf + len;
	int stack[P2PL_BENC_DEPTH], depth = 0, nv = 0;
	struct p2pl_benc *x, *parent;

	do {
		if (p == end) {
			p2pl_seterr(err, errlen, "truncated bencode");
			return -1;
		}
		if (depth > 0 && *p == 'e') {
			if (close_container(v, stack[--depth], nv, err,
			    errlen) == -1)
				return -1;
			p++;
			continue;
		}
		if (nv >= max) {
			p2pl_seterr(err, errlen, "too many bencoded values");
			return -1;
		}
		if (depth > 0) {
			parent = &v[stack[depth - 1]];
			if (parent->type == P2PL_BENC_DICT &&
			    parent->n % 2 == 0 && (*p < '0' || *p > '9')) {
				p2pl_seterr(err, errlen,
				    "dict key is not a string");
				return -1;
			}
			parent->n++;
		}
		x = &v[nv++];
		memset(x, 0, sizeof(*x));
		x->span = 1;
		if (*p == 'l' || *p == 'd') {
			if (depth == P2PL_BENC_DEPTH) {
				p2pl_seterr(err, errlen,
				    "bencode nested too deep");
				return -1;
			}
			x->type = *p == 'l' ? P2PL_BENC_LIST : P2PL_BENC_DICT;
			stack[depth++] = nv - 1;
			p++;
		} else if (*p == 'i' || (*p >= '0' && *p <= '9')) {
			if (scalar(&p, end, x, err, errlen) == -1)
				return -1;
		} else {
			p2pl_seterr(err, errlen, "unexpected byte 0x%02x in "
			    "bencode", *p);
			return -1;
		}
	} while (depth > 0);
	if (p != end) {
		p2pl_seterr(err, errlen, "trailing bytes after bencode");
		return -1;
	}
	return nv;
}

const struct p2pl_benc *
p2pl_benc_child(const struct p2pl_benc *v)
{
	return v + 1;
}

const struct p2pl_benc *
p2pl_benc_next(const struct p2pl_benc *v)
{
	return v + v->span;
}

int
p2pl_benc_streq(const struct p2pl_benc *v, const char *s)
{
	size_t n = strlen(s);

	return v->type == P2PL_BENC_STR && v->len == n &&
	    memcmp(v->s, s, n) == 0;
}

const struct p2pl_benc *
p2pl_benc_get(const struct p2pl_benc *d, const char *key)
{
	const struct p2pl_benc *k;
	int i;

	if (d == NULL || d->type != P2PL_BENC_DICT)
		return NULL;
	k = p2pl_benc_child(d);
	for (i = 0; i < d->n; i++) {
		if (p2pl_benc_streq(k, key))
			return p2pl_benc_next(k);
		k = p2pl_benc_next(p2pl_benc_next(k));
	}
	return NULL;
}

int
p2pl_benc_get_int(const struct p2pl_benc *d, const char *key, int64_t *out)
{
	const struct p2pl_benc *v = p2pl_benc_get(d, key);

	if (v == NULL || v->type != P2PL_BENC_INT)
		return -1;
	*out = v->i;
	return 0;
}

const uint8_t *
p2pl_benc_get_str(const struct p2pl_benc *d, const char *key, size_t *len)
{
	const struct p2pl_benc *v = p2pl_benc_get(d, key);

	if (v == NULL || v->type != P2PL_BENC_STR)
		return NULL;
	*len = v->len;
	return v->s;
}

void
p2pl_benc_writer_init(struct p2pl_benc_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->overflow = 0;
}

static void
put(struct p2pl_benc_writer *w, const void *d, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, d, n);
	w->len += n;
}

void
p2pl_benc_put_str(struct p2pl_benc_writer *w, const void *s, size_t n)
{
	char num[32];

	put(w, num, (size_t)snprintf(num, sizeof(num), "%zu:", n));
	put(w, s, n);
}

void
p2pl_benc_put_cstr(struct p2pl_benc_writer *w, const char *s)
{
	p2pl_benc_put_str(w, s, strlen(s));
}

void
p2pl_benc_put_int(struct p2pl_benc_writer *w, int64_t i)
{
	char num[32];

	put(w, num, (size_t)snprintf(num, sizeof(num), "i%" PRId64 "e", i));
}

void
p2pl_benc_put_dict(struct p2pl_benc_writer *w)
{
	put(w, "d", 1);
}

void
p2pl_benc_put_list(struct p2pl_benc_writer *w)
{
	put(w, "l", 1);
}

void
p2pl_benc_put_end(struct p2pl_benc_writer *w)
{
	put(w, "e", 1);
}

long
p2pl_benc_done(const struct p2pl_benc_writer *w)
{
	return w->overflow ? -1 : (long)w->len;
}
