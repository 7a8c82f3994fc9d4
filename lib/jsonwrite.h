/*
 * jsonwrite.h - write one JSON object into a caller's buffer: what stats
 * lines (statline.h), the control socket and /stats are made with.
 *
 * Fields are added in order; strings are escaped.  Nothing is allocated;
 * an object that does not fit makes p2pl_json_close() return -1.
 */
#ifndef P2PL_JSONWRITE_H
#define P2PL_JSONWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

/* A growing JSON object: open, add fields, close. */
struct p2pl_json {
	char *buf;
	size_t len, cap;
	int first;
};

void p2pl_json_open(struct p2pl_json *j, char *buf, size_t cap);
void p2pl_json_u64(struct p2pl_json *j, const char *k, uint64_t v);
void p2pl_json_num(struct p2pl_json *j, const char *k, double v);
/* v is written with JSON escaping. */
void p2pl_json_str(struct p2pl_json *j, const char *k, const char *v);
/* An array of objects under k: array, then item ... item_end per
 * object, then array_end. */
void p2pl_json_array(struct p2pl_json *j, const char *k);
void p2pl_json_array_end(struct p2pl_json *j);
void p2pl_json_item(struct p2pl_json *j);
void p2pl_json_item_end(struct p2pl_json *j);
/* The log histogram's bins that are not empty, under k, as an array of
 * [upper bound in ms, count] pairs in increasing order. */
void p2pl_json_loghist(struct p2pl_json *j, const char *k,
    const struct p2pl_loghist *h);
/* Closes the object; returns its length or -1 if it did not fit. */
long p2pl_json_close(struct p2pl_json *j);

#endif
