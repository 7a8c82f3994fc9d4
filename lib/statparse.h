/*
 * statparse.h - read a stats line back: the JSON object a p2pl program
 * writes per interval (p2pl(7), "STATS LINES"), as p2pl-top reads it from
 * control sockets, a relay's /stats, or standard input.
 *
 * The input is untrusted.  Accepted is one JSON object whose values are
 * numbers, strings, true, false, null, arrays of objects whose values
 * are scalars (one level: the "neighbours"), or arrays of numbers or of
 * arrays of numbers (the "delay_hist"), whose numbers are counted, not
 * kept.  Anything else, a line over
 * P2PL_SL_LINE_MAX bytes, more than P2PL_SL_FIELDS fields in an object or
 * P2PL_SL_ITEMS objects in all arrays, is refused.  Keys and strings are
 * kept up to P2PL_SL_STR - 1 bytes (longer ones are cut); \u escapes of
 * control characters and non-ASCII become '?'.
 */
#ifndef P2PL_STATPARSE_H
#define P2PL_STATPARSE_H

#include <stddef.h>

#define P2PL_SL_LINE_MAX (256 * 1024)
#define P2PL_SL_FIELDS 48
#define P2PL_SL_ITEMS 256
#define P2PL_SL_STR 64

enum { P2PL_SL_NULL, P2PL_SL_NUM, P2PL_SL_STRV, P2PL_SL_BOOL, P2PL_SL_ARRAY,
    P2PL_SL_NUMS };

struct p2pl_sl_field {
	char key[P2PL_SL_STR];
	int type;
	double num;			/* NUM, BOOL (0 or 1) */
	char str[P2PL_SL_STR];		/* STRV */
	int first, n;			/* ARRAY: items[first .. first+n);
					   NUMS: n numbers, not kept */
};

struct p2pl_sl_obj {
	struct p2pl_sl_field f[P2PL_SL_FIELDS];
	int n;
};

struct p2pl_statline {
	struct p2pl_sl_obj top;
	struct p2pl_sl_obj items[P2PL_SL_ITEMS];
	int nitems;
};

/* Parse len bytes (no newline needed); -1 with err set when refused. */
int p2pl_statparse(const char *s, size_t len, struct p2pl_statline *sl,
    char *err, size_t errlen);
/* A field's value: the number (def if absent or not a number). */
double p2pl_sl_num(const struct p2pl_sl_obj *o, const char *key, double def);
/* The string ("" if absent or not a string). */
const char *p2pl_sl_str(const struct p2pl_sl_obj *o, const char *key);
/* An array's objects: the first, and how many in *n (0 if absent). */
const struct p2pl_sl_obj *p2pl_sl_array(const struct p2pl_statline *sl,
    const char *key, int *n);

#endif
