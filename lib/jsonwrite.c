/* jsonwrite.c - a JSON object written field by field into a buffer. */
#include "jsonwrite.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
put(struct p2pl_json *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (j->len >= j->cap)
		return;
	va_start(ap, fmt);
	r = vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	j->len = r < 0 ? j->cap : j->len + (size_t)r;
}

static void
key(struct p2pl_json *j, const char *k)
{
	put(j, "%s\"%s\":", j->first ? "" : ",", k);
	j->first = 0;
}

void
p2pl_json_open(struct p2pl_json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->first = 1;
	put(j, "{");
}

void
p2pl_json_u64(struct p2pl_json *j, const char *k, uint64_t v)
{
	key(j, k);
	put(j, "%llu", (unsigned long long)v);
}

void
p2pl_json_num(struct p2pl_json *j, const char *k, double v)
{
	key(j, k);
	if (v < 0)
		put(j, "null");
	else
		put(j, "%.4f", v);
}

void
p2pl_json_str(struct p2pl_json *j, const char *k, const char *v)
{
	key(j, k);
	put(j, "\"");
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			put(j, "\\%c", c);
		else if (c < 0x20)
			put(j, "\\u%04x", c);
		else
			put(j, "%c", c);
	}
	put(j, "\"");
}

void
p2pl_json_array(struct p2pl_json *j, const char *k)
{
	key(j, k);
	put(j, "[");
	j->first = 1;
}

void
p2pl_json_array_end(struct p2pl_json *j)
{
	put(j, "]");
	j->first = 0;
}

void
p2pl_json_item(struct p2pl_json *j)
{
	put(j, "%s{", j->first ? "" : ",");
	j->first = 1;
}

void
p2pl_json_item_end(struct p2pl_json *j)
{
	put(j, "}");
	j->first = 0;
}

long
p2pl_json_close(struct p2pl_json *j)
{
	put(j, "}");
	if (j->len >= j->cap)
		return -1;
	return (long)j->len;
}

void
p2pl_json_loghist(struct p2pl_json *j, const char *k,
    const struct p2pl_loghist *h)
{
	const char *sep = "";
	int64_t b;

	key(j, k);
	put(j, "[");
	for (int i = 0; i < P2PL_LOGHIST_BINS; i++) {
		if (h->bins[i] == 0)
			continue;
		b = p2pl_loghist_bound(i);
		put(j, "%s[%lld.%03lld,%lu]", sep, (long long)(b / 1000),
		    (long long)(b % 1000), (unsigned long)h->bins[i]);
		sep = ",";
	}
	put(j, "]");
}
