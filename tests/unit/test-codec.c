/* test-codec.c - base32, rates, addresses, URIs, the wire codec, keys. */
#include "key.h"
#include "secure.h"
#include "tap.h"
#include "uri.h"
#include "util.h"
#include "wire.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_base32(void)
{
	uint8_t in[32], out[40];
	char s[64];
	size_t n;

	/* RFC 4648 test vector, lowercase and unpadded */
	n = p2pl_base32_encode((const uint8_t *)"foobar", 6, s, sizeof(s));
	ok(n == 10 && strcmp(s, "mzxw6ytboi") == 0, "base32 of foobar is %s", s);
	ok(p2pl_base32_decode("MZXW6YTBOI", 10, out, sizeof(out)) == 6 &&
	    memcmp(out, "foobar", 6) == 0, "base32 decodes upper case");
	ok(p2pl_base32_decode("mzxw6ytb0i", 10, out, sizeof(out)) == -1,
	    "base32 refuses 0");
	ok(p2pl_base32_decode("mzxw6ytbox", 10, out, sizeof(out)) == -1,
	    "base32 refuses non-zero padding bits");
	ok(p2pl_base32_decode("mzxw6ytboi", 10, out, 5) == -1,
	    "base32 refuses a short buffer");
	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)(i * 37);
	n = p2pl_base32_encode(in, 32, s, sizeof(s));
	ok(n == 52 && p2pl_base32_decode(s, n, out, sizeof(out)) == 32 &&
	    memcmp(in, out, 32) == 0, "a 32-byte key round-trips in 52 chars");
	ok(p2pl_base32_encode(in, 32, s, 52) == 0, "encode refuses a short buffer");
}

static void
test_rate(void)
{
	struct p2pl_rate r;
	char err[P2PL_ERRLEN];

	ok(p2pl_rate_parse("800k", &r, err, sizeof(err)) == 0 &&
	    r.kind == P2PL_RATE_FIXED && r.bps == 800000, "800k");
	ok(p2pl_rate_parse("1.5M", &r, err, sizeof(err)) == 0 &&
	    r.bps == 1500000 && p2pl_rate_bytes(&r, 0) == 187500, "1.5M");
	ok(p2pl_rate_parse("2G", &r, err, sizeof(err)) == 0 &&
	    r.bps == 2000000000ull, "2G");
	ok(p2pl_rate_parse("1.5x", &r, err, sizeof(err)) == 0 &&
	    r.kind == P2PL_RATE_MULT && p2pl_rate_bytes(&r, 800000) == 150000,
	    "1.5x of 800 kbit/s is 150000 bytes/s");
	ok(p2pl_rate_parse("0", &r, err, sizeof(err)) == 0 &&
	    p2pl_rate_bytes(&r, 1000) == 0, "0 uploads nothing");
	ok(p2pl_rate_parse("unlimited", &r, err, sizeof(err)) == 0 &&
	    p2pl_rate_bytes(&r, 1000) == UINT64_MAX, "unlimited");
	ok(p2pl_rate_parse("fast", &r, err, sizeof(err)) == -1 &&
	    strstr(err, "bad rate") != NULL, "refuses 'fast': %s", err);
	ok(p2pl_rate_parse("-1k", &r, err, sizeof(err)) == -1, "refuses -1k");
	ok(p2pl_rate_parse("1kk", &r, err, sizeof(err)) == -1, "refuses 1kk");
	ok(p2pl_rate_parse("nan", &r, err, sizeof(err)) == -1, "refuses nan");
	ok(p2pl_rate_parse("1e300", &r, err, sizeof(err)) == -1, "refuses 1e300");
}

static void
test_addr(void)
{
	struct p2pl_addr a;
	char err[P2PL_ERRLEN], s[300];

	ok(p2pl_addr_parse("127.0.0.1:7000", NULL, 0, &a, err, sizeof(err)) == 0 &&
	    strcmp(a.host, "127.0.0.1") == 0 && a.port == 7000, "ipv4:port");
	ok(p2pl_addr_parse("[::1]:7001", NULL, 0, &a, err, sizeof(err)) == 0 &&
	    strcmp(a.host, "::1") == 0 && a.port == 7001 &&
	    strcmp(p2pl_addr_format(&a, s, sizeof(s)), "[::1]:7001") == 0,
	    "[v6]:port round-trips");
	ok(p2pl_addr_parse("7000", "", 0, &a, err, sizeof(err)) == 0 &&
	    a.host[0] == '\0' && a.port == 7000, "bare port with a default host");
	ok(p2pl_addr_parse("7000", NULL, 0, &a, err, sizeof(err)) == -1,
	    "bare port refused without a default host");
	ok(p2pl_addr_parse("::1:7000", NULL, 0, &a, err, sizeof(err)) == -1,
	    "bare ipv6 refused");
	ok(p2pl_addr_parse("h:0", NULL, 0, &a, err, sizeof(err)) == -1 &&
	    p2pl_addr_parse("h:0", NULL, 1, &a, err, sizeof(err)) == 0,
	    "port 0 only when allowed");
	ok(p2pl_addr_parse("h:65536", NULL, 0, &a, err, sizeof(err)) == -1,
	    "port 65536 refused");
	ok(p2pl_addr_parse("a b:1", NULL, 0, &a, err, sizeof(err)) == -1,
	    "space in host refused");
}

static void
test_uri(void)
{
	struct p2pl_uri u, v;
	char err[P2PL_ERRLEN], s[P2PL_URI_MAX], key[64], in[P2PL_URI_MAX + 16];
	uint8_t k[32];
	int n;

	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	p2pl_base32_encode(k, 32, key, sizeof(key));
	snprintf(in, sizeof(in), "p2pl:%s?peer=127.0.0.1:7000&peer=%%5B::1%%5D:7001"
	    "&x=later&tr=http%%3A%%2F%%2Ft.example%%3A6969%%2Fannounce", key);
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == 0, "parses %s", in);
	ok(memcmp(u.key, k, 32) == 0 && u.npeers == 2 && u.ntrackers == 1 &&
	    u.peers[1].port == 7001 && strcmp(u.peers[1].host, "::1") == 0 &&
	    strcmp(u.trackers[0], "http://t.example:6969/announce") == 0,
	    "key, two peers and a percent-decoded tracker");
	n = p2pl_uri_format(&u, s, sizeof(s));
	ok(n > 0 && p2pl_uri_parse(s, &v, err, sizeof(err)) == 0 &&
	    memcmp(&u, &v, sizeof(u)) == 0, "format round-trips: %s", s);
	ok(p2pl_uri_format(&u, s, 60) == -1, "format refuses a short buffer");
	snprintf(in, sizeof(in), "p2pl:%s", key);
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == 0 && u.npeers == 0,
	    "a bare key parses");
	ok(p2pl_uri_parse("http://x", &u, err, sizeof(err)) == -1 &&
	    strstr(err, "not a p2pl uri"), "other schemes refused");
	in[20] = '0';
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == -1 &&
	    strstr(err, "bad stream key"), "bad key refused: %s", err);
	snprintf(in, sizeof(in), "p2pl:%s?peer=1.2.3.4:5%%", key);
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == -1, "truncated %% refused");
	snprintf(in, sizeof(in), "p2pl:%s?tr=ftp://x", key);
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == -1, "ftp tracker refused");
	n = snprintf(in, sizeof(in), "p2pl:%s?", key);
	for (int i = 0; i < 17; i++)
		n += snprintf(in + n, sizeof(in) - (size_t)n, "peer=h:%d&", i + 1);
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == -1 &&
	    strstr(err, "too many peers"), "17 peers refused");
	memset(in, 'a', sizeof(in));
	memcpy(in, "p2pl:", 5);
	in[sizeof(in) - 1] = '\0';
	ok(p2pl_uri_parse(in, &u, err, sizeof(err)) == -1 &&
	    strstr(err, "longer than"), "over-long uri refused");
}

static void
test_wire(void)
{
	struct p2pl_hello h = { .version = 1, .role = P2PL_ROLE_RELAY,
	    .port = 7000 }, g;
	uint8_t buf[256], type, b[8];
	const uint8_t *body;
	size_t len, n;
	char err[P2PL_ERRLEN];
	uint64_t from;
	uint32_t lat;

	memset(h.key, 7, sizeof(h.key));
	memset(h.id, 9, sizeof(h.id));
	n = p2pl_wire_hello(buf, &h);
	n += p2pl_wire_subscribe(buf + n, 1234, 800);
	ok(p2pl_wire_looks_like_hello(buf, 3) && p2pl_wire_looks_like_hello(buf, n),
	    "a hello looks like one");
	ok(!p2pl_wire_looks_like_hello((const uint8_t *)"GET / HTTP/1.1", 14),
	    "http does not look like a hello");
	ok(p2pl_wire_next(buf, 4, &type, &body, &len, err, sizeof(err)) == 0 &&
	    p2pl_wire_next(buf, 60, &type, &body, &len, err, sizeof(err)) == 0,
	    "partial messages wait for more");
	ok(p2pl_wire_next(buf, n, &type, &body, &len, err, sizeof(err)) == 61 &&
	    type == P2PL_MSG_HELLO && len == P2PL_HELLO_LEN &&
	    p2pl_wire_parse_hello(body, len, &g, err, sizeof(err)) == 0 &&
	    memcmp(&g, &h, sizeof(g)) == 0, "hello round-trips");
	ok(p2pl_wire_next(buf + 61, n - 61, &type, &body, &len, err,
	    sizeof(err)) == 17 && type == P2PL_MSG_SUBSCRIBE &&
	    p2pl_wire_parse_subscribe(body, len, &from, &lat, err,
	    sizeof(err)) == 0 && from == 1234 && lat == 800,
	    "subscribe round-trips");
	buf[P2PL_MSG_HDR + 4] = 2;
	p2pl_wire_next(buf, n, &type, &body, &len, err, sizeof(err));
	ok(p2pl_wire_parse_hello(body, len, &g, err, sizeof(err)) == -1 &&
	    strstr(err, "version 2"), "other versions refused: %s", err);
	p2pl_put32(b, P2PL_MSG_MAX);
	ok(p2pl_wire_next(b, 5, &type, &body, &len, err, sizeof(err)) == -1,
	    "over-long message refused: %s", err);
	p2pl_put32(b, 0);
	ok(p2pl_wire_next(b, 5, &type, &body, &len, err, sizeof(err)) == -1,
	    "empty message refused");
	ok(p2pl_wire_parse_u64(b, 7, &from, err, sizeof(err)) == -1,
	    "short u64 body refused");
}

static void
test_key(void)
{
	char dir[] = "/tmp/p2pl-key.XXXXXX", path[64], link[64], err[P2PL_ERRLEN];
	struct p2pl_key a, b;
	struct stat st;
	int created;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/k", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	ok(p2pl_key_load(path, &a, &created, err, sizeof(err)) == 0 && created &&
	    stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "key created with mode 0600");
	ok(p2pl_key_load(path, &b, &created, err, sizeof(err)) == 0 && !created &&
	    memcmp(a.pk, b.pk, 32) == 0 && memcmp(a.sk, b.sk, 64) == 0,
	    "key reloads the same");
	symlink(path, link);
	ok(p2pl_key_load(link, &b, &created, err, sizeof(err)) == -1 &&
	    strstr(err, "symbolic link"), "links refused: %s", err);
	chmod(path, 0640);
	ok(p2pl_key_load(path, &b, &created, err, sizeof(err)) == -1 &&
	    strstr(err, "readable by others"), "group-readable refused");
	ok(p2pl_key_parse((const uint8_t *)"p2pl-secret-key-1 x\n", 20, &b) == -1,
	    "short key refused");
	unlink(link);
	unlink(path);
	rmdir(dir);
	p2pl_key_wipe(&a);
	p2pl_key_wipe(&b);
}

/* Two ends of a channel, keyed for stream key k (the server's with kb). */
static void
pair(struct p2pl_sec *a, struct p2pl_sec *b, const uint8_t *k,
    const uint8_t *kb)
{
	uint8_t apk[32];

	p2pl_sec_init(a, 1);
	p2pl_sec_init(b, 0);
	memcpy(apk, a->pk, 32);
	p2pl_sec_exchange(a, b->pk);
	p2pl_sec_exchange(b, apk);
	p2pl_sec_bind(a, k);
	p2pl_sec_bind(b, kb);
}

static void
test_secure(void)
{
	struct p2pl_sec a, b;
	uint8_t k1[32] = { 1 }, k2[32] = { 2 }, msg[100], f[2][200];
	uint8_t out[P2PL_SEC_CHUNK];
	size_t n0, n1;
	long n;

	memset(msg, 'm', sizeof(msg));
	pair(&a, &b, k1, k1);
	n0 = p2pl_sec_seal(&a, msg, sizeof(msg), f[0]);
	n1 = p2pl_sec_seal(&a, msg, 10, f[1]);
	ok(n0 == 2 + 100 + 16 && memmem(f[0], n0, msg, 16) == NULL,
	    "a sealed frame hides its bytes");
	ok(p2pl_sec_open(&b, f[0], n0, out, 1) == 100 &&
	    p2pl_sec_open(&b, f[0], n0, out, 0) == 100 &&
	    memcmp(out, msg, 100) == 0, "it opens at the other end (peek too)");
	ok(p2pl_sec_open(&b, f[0], n0, out, 0) == -1, "a replayed frame fails");
	ok((n = p2pl_sec_open(&b, f[1], n1, out, 0)) == 10, "the next one opens");
	n0 = p2pl_sec_seal(&b, msg, 50, f[0]);
	ok(p2pl_sec_open(&a, f[0], n0, out, 0) == 50, "and the other way");
	n0 = p2pl_sec_seal(&a, msg, 50, f[0]);
	f[0][20] ^= 1;
	ok(p2pl_sec_open(&b, f[0], n0, out, 0) == -1, "a changed frame fails");
	pair(&a, &b, k1, k2);
	n0 = p2pl_sec_seal(&a, msg, 50, f[0]);
	ok(p2pl_sec_open(&b, f[0], n0, out, 0) == -1,
	    "an end with another stream's key cannot open it");
	f[0][0] = 0xff;
	ok(p2pl_sec_frame_size(f[0]) == -1, "an oversized frame is refused");
	f[0][0] = 0;
	f[0][1] = 16;
	ok(p2pl_sec_frame_size(f[0]) == -1, "an empty frame is refused");
}

int
main(void)
{
	test_base32();
	test_rate();
	test_addr();
	test_uri();
	test_wire();
	test_key();
	test_secure();
	return tap_done();
}
