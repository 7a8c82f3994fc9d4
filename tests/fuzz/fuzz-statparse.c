/*
 * fuzz-statparse.c - p2pl_statparse on hostile stats lines: it must
 * not crash, and what it accepts must stay within its bounds, with every
 * string terminated and free of control characters.
 */
#include "statparse.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void
check_str(const char *s)
{
	size_t n = strnlen(s, P2PL_SL_STR);

	if (n >= P2PL_SL_STR)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void
check_obj(const struct p2pl_statline *sl, const struct p2pl_sl_obj *o,
    int nested)
{
	const struct p2pl_sl_field *f;

	if (o->n < 0 || o->n > P2PL_SL_FIELDS)
		abort();
	for (int i = 0; i < o->n; i++) {
		f = &o->f[i];
		check_str(f->key);
		if (f->type == P2PL_SL_STRV)
			check_str(f->str);
		if (f->type == P2PL_SL_ARRAY && (nested || f->first < 0 ||
		    f->n < 0 || f->first + f->n > sl->nitems))
			abort();
		if (f->type == P2PL_SL_NUMS && (nested || f->n < 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p2pl_statline sl;
	const struct p2pl_sl_obj *a;
	char err[P2PL_ERRLEN];
	int n;

	if (p2pl_statparse((const char *)data, size, &sl, err,
	    sizeof(err)) == -1)
		return 0;
	if (sl.nitems < 0 || sl.nitems > P2PL_SL_ITEMS)
		abort();
	check_obj(&sl, &sl.top, 0);
	for (int i = 0; i < sl.nitems; i++)
		check_obj(&sl, &sl.items[i], 1);
	p2pl_sl_num(&sl.top, "pieces", 0);
	check_str(p2pl_sl_str(&sl.top, "prog"));
	p2pl_sl_array(&sl, "delay_hist", &n);
	a = p2pl_sl_array(&sl, "neighbours", &n);
	if ((a == NULL) != (n == 0) || (a != NULL && a + n > sl.items +
	    sl.nitems))
		abort();
	return 0;
}
