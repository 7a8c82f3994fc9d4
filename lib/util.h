/*
 * util.h - small helpers shared by every module: error strings, clocks,
 * big-endian integers, base32, rates and host:port addresses.
 *
 * Library functions report failure by returning -1 and writing a lowercase
 * message without a full stop into a caller-supplied buffer of P2PL_ERRLEN
 * bytes; they never print and never exit.
 */
#ifndef P2PL_UTIL_H
#define P2PL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_ERRLEN 256

/* Format an error message into err (may be NULL). */
void p2pl_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Wall-clock (CLOCK_REALTIME) and monotonic time in microseconds. */
uint64_t p2pl_wall_us(void);
uint64_t p2pl_mono_us(void);

static inline void p2pl_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}
static inline void p2pl_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
static inline void p2pl_put64(uint8_t *p, uint64_t v)
{
	p2pl_put32(p, v >> 32);
	p2pl_put32(p + 4, (uint32_t)v);
}
static inline uint16_t p2pl_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t p2pl_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t p2pl_get64(const uint8_t *p)
{
	return (uint64_t)p2pl_get32(p) << 32 | p2pl_get32(p + 4);
}

/*
 * RFC 4648 base32, lowercase, no padding.  Encode writes a NUL-terminated
 * string and returns its length (0 if out is too small).  Decode accepts
 * either case and returns the number of bytes written, or -1 on a bad
 * character, bad length or short buffer.
 */
/* The value of a hexadecimal digit, or -1. */
int p2pl_hexval(char c);
size_t p2pl_base32_encode(const uint8_t *in, size_t n, char *out, size_t outlen);
int p2pl_base32_decode(const char *in, size_t n, uint8_t *out, size_t outlen);

/*
 * A rate: unlimited, a fixed number of bits per second, or a multiple of
 * the stream's bitrate.  Parsed from "800k", "1.5M", "2G", "1.5x", "0",
 * "unlimited".
 */
struct p2pl_rate {
	int kind;		/* P2PL_RATE_* */
	uint64_t bps;		/* P2PL_RATE_FIXED */
	double mult;		/* P2PL_RATE_MULT */
};
enum { P2PL_RATE_UNLIMITED, P2PL_RATE_FIXED, P2PL_RATE_MULT };

int p2pl_rate_parse(const char *s, struct p2pl_rate *r, char *err, size_t errlen);
/* Bytes per second for a stream of stream_bps bits/s; UINT64_MAX if unlimited. */
uint64_t p2pl_rate_bytes(const struct p2pl_rate *r, uint64_t stream_bps);

/* A host and port as written in URIs and on the command line. */
struct p2pl_addr {
	char host[256];		/* name, IPv4 or IPv6 literal without brackets */
	uint16_t port;
};

/*
 * Parse "HOST:PORT", "[V6]:PORT" or, when defhost is not NULL, a bare
 * "PORT" (host = defhost).  Port 0 is refused unless allow_zero.
 */
int p2pl_addr_parse(const char *s, const char *defhost, int allow_zero,
    struct p2pl_addr *a, char *err, size_t errlen);
/* Format as "host:port" or "[v6]:port"; returns out. */
char *p2pl_addr_format(const struct p2pl_addr *a, char *out, size_t outlen);

#endif
