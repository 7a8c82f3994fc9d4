/* statparse.c - a small, strict reader for stats lines (see statparse.h). */
#include "statparse.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	const char *s, *end, *start;
	struct p2pl_statline *sl;
	char *err;
	size_t errlen;
};

static int
bad(struct rd *r, const char *what)
{
	p2pl_seterr(r->err, r->errlen, "stats line: %s at byte %ld", what,
	    (long)(r->s - r->start));
	return -1;
}

static void
ws(struct rd *r)
{
	while (r->s < r->end && (*r->s == ' ' || *r->s == '\t' ||
	    *r->s == '\r' || *r->s == '\n'))
		r->s++;
}

/* A JSON string into out (cut to P2PL_SL_STR - 1 bytes). */
static int
string(struct rd *r, char *out)
{
	size_t n = 0;
	int c, i, h;

	if (r->s >= r->end || *r->s != '"')
		return bad(r, "expected a string");
	r->s++;
	for (;;) {
		if (r->s >= r->end)
			return bad(r, "unterminated string");
		c = (unsigned char)*r->s++;
		if (c == '"')
			break;
		if (c < 0x20)
			return bad(r, "control character in a string");
		if (c == '\\') {
			if (r->s >= r->end)
				return bad(r, "unterminated string");
			c = (unsigned char)*r->s++;
			switch (c) {
			case '"': case '\\': case '/':
				break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (r->end - r->s < 4)
					return bad(r, "short \\u escape");
				for (h = 0, i = 0; i < 4; i++) {
					if (p2pl_hexval(r->s[i]) < 0)
						return bad(r, "bad \\u escape");
					h = h << 4 | p2pl_hexval(r->s[i]);
				}
				r->s += 4;
				c = h >= 0x20 && h < 0x7f ? h : '?';
				break;
			default:
				return bad(r, "bad escape");
			}
		}
		if (c < 0x20 || c == 0x7f)
			c = '?';	/* nothing that moves a terminal */
		if (n + 1 < P2PL_SL_STR)
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int
number(struct rd *r, double *v)
{
	char buf[64], *e;
	size_t n = 0;

	while (r->s + n < r->end && n < sizeof(buf) - 1 &&
	    strchr("+-0123456789.eE", r->s[n]) != NULL)
		n++;
	if (n == 0 || n == sizeof(buf) - 1)
		return bad(r, "bad number");
	memcpy(buf, r->s, n);
	buf[n] = '\0';
	*v = strtod(buf, &e);
	if (e != buf + n || !isfinite(*v))
		return bad(r, "bad number");
	r->s += n;
	return 0;
}

static int
word(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->s) < n || memcmp(r->s, w, n) != 0)
		return bad(r, "unexpected character");
	r->s += n;
	return 0;
}

static int object(struct rd *r, struct p2pl_sl_obj *o, int nested);

/* After an array's item: 1 at a ',' (another follows), 0 at the ']',
 * -1 otherwise. */
static int
after_item(struct rd *r)
{
	ws(r);
	if (r->s < r->end && *r->s == ',') {
		r->s++;
		return 1;
	}
	if (r->s < r->end && *r->s == ']') {
		r->s++;
		return 0;
	}
	return bad(r, "expected , or ]");
}

/* After its '[': an array of numbers, or (pairs set) of arrays of
 * numbers; the numbers are counted into *n, not kept. */
static int
numbers(struct rd *r, int pairs, int *n)
{
	double v;
	int more;

	ws(r);
	if (r->s < r->end && *r->s == ']') {
		r->s++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (pairs) {
			if (r->s >= r->end || *r->s != '[')
				return bad(r, "expected [");
			r->s++;
			if (numbers(r, 0, n) == -1)
				return -1;
		} else {
			if (number(r, &v) == -1)
				return -1;
			(*n)++;
		}
		if ((more = after_item(r)) != 1)
			return more;
	}
}

/* A scalar, or (top level only) an array of objects, of numbers, or of
 * arrays of numbers. */
static int
value(struct rd *r, struct p2pl_sl_field *f, int nested)
{
	int more;

	if (r->s >= r->end)
		return bad(r, "missing value");
	switch (*r->s) {
	case '"':
		f->type = P2PL_SL_STRV;
		return string(r, f->str);
	case 't':
		f->type = P2PL_SL_BOOL;
		f->num = 1;
		return word(r, "true");
	case 'f':
		f->type = P2PL_SL_BOOL;
		return word(r, "false");
	case 'n':
		f->type = P2PL_SL_NULL;
		return word(r, "null");
	case '[':
		break;
	default:
		f->type = P2PL_SL_NUM;
		return number(r, &f->num);
	}
	if (nested)
		return bad(r, "nested array");
	f->type = P2PL_SL_ARRAY;
	f->first = r->sl->nitems;
	r->s++;
	ws(r);
	if (r->s < r->end && *r->s == ']') {
		r->s++;
		return 0;
	}
	if (r->s < r->end && *r->s != '{') {
		f->type = P2PL_SL_NUMS;
		f->first = 0;
		return numbers(r, *r->s == '[', &f->n);
	}
	for (;;) {
		ws(r);
		if (r->sl->nitems >= P2PL_SL_ITEMS)
			return bad(r, "too many objects");
		if (object(r, &r->sl->items[r->sl->nitems++], 1) == -1)
			return -1;
		f->n++;
		if ((more = after_item(r)) != 1)
			return more;
	}
}

static int
object(struct rd *r, struct p2pl_sl_obj *o, int nested)
{
	struct p2pl_sl_field *f;

	o->n = 0;
	if (r->s >= r->end || *r->s != '{')
		return bad(r, "expected an object");
	r->s++;
	ws(r);
	if (r->s < r->end && *r->s == '}') {
		r->s++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (o->n >= P2PL_SL_FIELDS)
			return bad(r, "too many fields");
		f = &o->f[o->n];
		memset(f, 0, sizeof(*f));
		if (string(r, f->key) == -1)
			return -1;
		ws(r);
		if (r->s >= r->end || *r->s != ':')
			return bad(r, "expected :");
		r->s++;
		ws(r);
		if (value(r, f, nested) == -1)
			return -1;
		o->n++;
		ws(r);
		if (r->s < r->end && *r->s == ',') {
			r->s++;
			continue;
		}
		if (r->s < r->end && *r->s == '}') {
			r->s++;
			return 0;
		}
		return bad(r, "expected , or }");
	}
}

int
p2pl_statparse(const char *s, size_t len, struct p2pl_statline *sl,
    char *err, size_t errlen)
{
	struct rd r = { s, s + len, s, sl, err, errlen };

	sl->nitems = 0;
	sl->top.n = 0;
	if (len > P2PL_SL_LINE_MAX)
		return bad(&r, "line too long");
	ws(&r);
	if (object(&r, &sl->top, 0) == -1)
		return -1;
	ws(&r);
	if (r.s != r.end)
		return bad(&r, "trailing bytes");
	return 0;
}

static const struct p2pl_sl_field *
find(const struct p2pl_sl_obj *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

double
p2pl_sl_num(const struct p2pl_sl_obj *o, const char *key, double def)
{
	const struct p2pl_sl_field *f = find(o, key);

	return f != NULL && f->type == P2PL_SL_NUM ? f->num : def;
}

const char *
p2pl_sl_str(const struct p2pl_sl_obj *o, const char *key)
{
	const struct p2pl_sl_field *f = find(o, key);

	return f != NULL && f->type == P2PL_SL_STRV ? f->str : "";
}

const struct p2pl_sl_obj *
p2pl_sl_array(const struct p2pl_statline *sl, const char *key, int *n)
{
	const struct p2pl_sl_field *f = find(&sl->top, key);

	if (f == NULL || f->type != P2PL_SL_ARRAY || f->n == 0) {
		*n = 0;
		return NULL;
	}
	*n = f->n;
	return &sl->items[f->first];
}
