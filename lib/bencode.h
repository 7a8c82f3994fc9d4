/*
 * bencode.h - BitTorrent's bencoding (BEP 3): a decoder for hostile
 * input and a small writer.
 *
 * Decoding turns a buffer into a flat array of values in document order,
 * jsmn-style, without recursion and without copying: strings point into
 * the caller's buffer, which must outlive the array.  A list or dict is
 * followed by its children; a dict's children alternate key (always a
 * string) and value.  Each value records how many array slots its whole
 * subtree takes, so p2pl_benc_next() skips to the next sibling.
 *
 * The decoder accepts exactly one value covering the whole buffer and
 * refuses: nesting deeper than P2PL_BENC_DEPTH, more values than the
 * caller's array holds, integers with leading zeros, "-0", or outside
 * int64_t, string lengths with leading zeros or past the end of the
 * buffer, non-string dict keys, and a dict key without a value.  Key
 * order and duplicate keys are not checked (lookups find the first).
 *
 * The writer appends to a fixed caller buffer; writing past its end sets
 * an overflow flag and p2pl_benc_done() reports it, so a sequence of
 * writes needs one check at the end.  Dict keys must be written in sorted
 * order by the caller, as BEP 3 asks.
 */
#ifndef P2PL_BENCODE_H
#define P2PL_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_BENC_DEPTH 32

enum { P2PL_BENC_INT = 1, P2PL_BENC_STR, P2PL_BENC_LIST, P2PL_BENC_DICT };

struct p2pl_benc {
	int type;		/* P2PL_BENC_* */
	int n;			/* LIST: items; DICT: key/value pairs */
	int span;		/* slots for this value and its children */
	int64_t i;		/* INT */
	const uint8_t *s;	/* STR: bytes in the decoded buffer */
	size_t len;		/* STR */
};

/*
 * Decode buf into v[0..max-1]; v[0] is the top value.  Returns the number
 * of slots used, or -1 with a message in err.
 */
int p2pl_benc_decode(const uint8_t *buf, size_t len, struct p2pl_benc *v,
    int max, char *err, size_t errlen);

/* First child of a list or dict (meaningless when its n is 0). */
const struct p2pl_benc *p2pl_benc_child(const struct p2pl_benc *v);
/* The value after v and its children: v's next sibling. */
const struct p2pl_benc *p2pl_benc_next(const struct p2pl_benc *v);

/* The value under key in dict d, or NULL (also when d is not a dict). */
const struct p2pl_benc *p2pl_benc_get(const struct p2pl_benc *d,
    const char *key);
/* The integer under key: 0, or -1 if missing or not an integer. */
int p2pl_benc_get_int(const struct p2pl_benc *d, const char *key,
    int64_t *out);
/* The string under key and its length, or NULL if missing or not one. */
const uint8_t *p2pl_benc_get_str(const struct p2pl_benc *d,
    const char *key, size_t *len);
/* v is a string equal to the C string s. */
int p2pl_benc_streq(const struct p2pl_benc *v, const char *s);

struct p2pl_benc_writer {
	uint8_t *buf;
	size_t len, cap;
	int overflow;
};

void p2pl_benc_writer_init(struct p2pl_benc_writer *w, uint8_t *buf,
    size_t cap);
void p2pl_benc_put_str(struct p2pl_benc_writer *w, const void *s, size_t n);
void p2pl_benc_put_cstr(struct p2pl_benc_writer *w, const char *s);
void p2pl_benc_put_int(struct p2pl_benc_writer *w, int64_t i);
void p2pl_benc_put_dict(struct p2pl_benc_writer *w);
void p2pl_benc_put_list(struct p2pl_benc_writer *w);
/* Close the innermost open dict or list. */
void p2pl_benc_put_end(struct p2pl_benc_writer *w);
/* The number of bytes written, or -1 if anything did not fit. */
long p2pl_benc_done(const struct p2pl_benc_writer *w);

#endif
