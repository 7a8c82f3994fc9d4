/*
 * test-tracker.c - the bencode decoder and writer on good and hostile
 * input, the tracker reply parser, and the tracker client end to end
 * against canned replies from an evhttp server in the same event loop.
 */
#include "bencode.h"
#include "tracker.h"
#include "tap.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NVALS 64

static const uint8_t hash[20] = "\x00\x01 A~-._/?&=%\xff\x80zZ09+";
static const char hash_esc[] = "%00%01%20A~-._%2F%3F%26%3D%25%FF%80zZ09%2B";
static const uint8_t pid[20] = "-P2PL0-abcdefghijklm";

static struct event_base *base;
static char reqs[64][1024];		/* request URIs the server saw */
static int nreqs;

static int
decodes(const char *s, int max)
{
	struct p2pl_benc v[NVALS];
	char err[P2PL_ERRLEN];

	return p2pl_benc_decode((const uint8_t *)s, strlen(s), v,
	    max ? max : NVALS, err, sizeof(err));
}

static void
test_decode_good(void)
{
	const char *s = "d3:bar4:spam3:fooi42e4:listl0:i-3edee1:zi0ee";
	struct p2pl_benc v[NVALS];
	const struct p2pl_benc *l, *x;
	const uint8_t *str;
	char err[P2PL_ERRLEN];
	int64_t i;
	size_t len;
	int n;

	n = p2pl_benc_decode((const uint8_t *)s, strlen(s), v, NVALS, err,
	    sizeof(err));
	ok(n == 12 && v[0].type == P2PL_BENC_DICT && v[0].n == 4 &&
	    v[0].span == 12, "dict decodes into 12 values");
	str = p2pl_benc_get_str(v, "bar", &len);
	ok(str != NULL && len == 4 && memcmp(str, "spam", 4) == 0, "get str");
	ok(p2pl_benc_get_int(v, "foo", &i) == 0 && i == 42, "get int");
	ok(p2pl_benc_get_int(v, "z", &i) == 0 && i == 0, "get after a list");
	ok(p2pl_benc_get_int(v, "bar", &i) == -1 &&
	    p2pl_benc_get(v, "nope") == NULL, "wrong type, missing key");
	l = p2pl_benc_get(v, "list");
	x = p2pl_benc_child(l);
	ok(l != NULL && l->n == 3 && x->type == P2PL_BENC_STR && x->len == 0 &&
	    p2pl_benc_next(x)->i == -3 &&
	    p2pl_benc_next(p2pl_benc_next(x))->type == P2PL_BENC_DICT,
	    "list items");
	ok(decodes("i9223372036854775807e", 0) == 1 &&
	    decodes("i-9223372036854775808e", 0) == 1 &&
	    decodes("0:", 0) == 1 && decodes("le", 0) == 1 && decodes("de", 0) == 1,
	    "int64 limits, empty string, list and dict");
}

static void
test_decode_hostile(void)
{
	static const char *bad[] = {
		"", "i", "ie", "i-e", "i-0e", "i03e", "i1", "i1x",
		"i9223372036854775808e", "i-9223372036854775809e",
		"i99999999999999999999999e", "5:abc", "99999999999999999999:x",
		"01:a", "-1:a", "1:", "l", "li1e", "d", "d1:ae", "di1e1:ae",
		"dle", "d1:a", "e", "x", "i1ei2e", "1:ab", "l1:ae ", ":",
	};
	char deep[80];
	size_t i;
	int n = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decodes(bad[i], 0) != -1) {
			printf("# accepted: %s\n", bad[i]);
			n++;
		}
	}
	ok(n == 0, "%zu hostile inputs refused", i);
	memset(deep, 'l', 32);
	memset(deep + 32, 'e', 32);
	deep[64] = '\0';
	ok(decodes(deep, 0) == 32, "depth 32 decodes");
	memset(deep, 'l', 33);
	memset(deep + 33, 'e', 33);
	deep[66] = '\0';
	ok(decodes(deep, 0) == -1, "depth 33 refused");
	ok(decodes("li1ei2ei3ee", 4) == 4 && decodes("li1ei2ei3ee", 3) == -1,
	    "value count bounded by the caller's array");
}

static void
test_writer(void)
{
	struct p2pl_benc_writer w;
	uint8_t buf[64];

	p2pl_benc_writer_init(&w, buf, sizeof(buf));
	p2pl_benc_put_dict(&w);
	p2pl_benc_put_cstr(&w, "a");
	p2pl_benc_put_list(&w);
	p2pl_benc_put_int(&w, INT64_MIN);
	p2pl_benc_put_str(&w, "\0x", 2);
	p2pl_benc_put_end(&w);
	p2pl_benc_put_end(&w);
	ok(p2pl_benc_done(&w) == 33 && memcmp(buf,
	    "d1:ali-9223372036854775808e2:\0xee", 33) == 0, "writer output");
	p2pl_benc_writer_init(&w, buf, 10);
	p2pl_benc_put_cstr(&w, "0123456789");
	p2pl_benc_put_int(&w, 1);
	ok(p2pl_benc_done(&w) == -1 && w.len <= 10, "writer overflow");
}

static int
parse(const char *s, size_t n, struct p2pl_addr *out, int *iv, char *err)
{
	return p2pl_tracker_parse_reply((const uint8_t *)s, n ? n : strlen(s),
	    out, 8, iv, err, P2PL_ERRLEN);
}

static void
test_parse_reply(void)
{
	static const char c[] = "d8:intervali1e5:peers24:"
	    "\x7f\0\0\x01\x1a\xe1" "\0\0\0\0\x1a\xe1" "\x0a\0\0\x02\0\0"
	    "\xc0\xa8\x01\x02\xff\xff" "e";
	struct p2pl_addr a[8];
	char err[P2PL_ERRLEN];
	int iv = 0, n;

	n = parse(c, sizeof(c) - 1, a, &iv, err);
	ok(n == 2 && strcmp(a[0].host, "127.0.0.1") == 0 && a[0].port == 6881 &&
	    strcmp(a[1].host, "192.168.1.2") == 0 && a[1].port == 65535 &&
	    iv == 15, "compact peers, zero address and port skipped, "
	    "interval clamped up");
	n = parse("d8:intervali99999e12:min intervali60e5:peers0:e", 0, a,
	    &iv, err);
	ok(n == 0 && iv == 1800, "interval clamped down");
	n = parse("d8:intervali20e12:min intervali60ee", 0, a, &iv, err);
	ok(n == 0 && iv == 60, "min interval honoured");
	n = parse("d5:peers5:abcdee", 0, a, &iv, err);
	ok(n == -1 && strstr(err, "compact peers") != NULL, "odd compact: %s",
	    err);
	n = parse("d14:failure reason4:no\nxe", 0, a, &iv, err);
	ok(n == -1 && strcmp(err, "tracker said: no?x") == 0,
	    "failure reason: %s", err);
	n = parse("d5:peersl"
	    "d2:ip8:10.0.0.14:porti80ee"
	    "d2:ip11:example.com4:porti80ee"
	    "d2:ip3:::14:porti70000ee"
	    "d2:ip3:::14:porti443ee"
	    "ee", 0, a, &iv, err);
	ok(n == 2 && strcmp(a[0].host, "10.0.0.1") == 0 && a[0].port == 80 &&
	    strcmp(a[1].host, "::1") == 0 && a[1].port == 443 && iv == 1800,
	    "dict peers: names and bad ports skipped (%d)", n);
	ok(parse("le", 0, a, &iv, err) == -1 &&
	    parse("d", 0, a, &iv, err) == -1,
	    "not a dict: %s", err);
}

/* The canned reply for one request path, written with the writer. */
static int
canned(const char *path, struct evbuffer *b)
{
	struct p2pl_benc_writer w;
	static uint8_t buf[1024];
	uint8_t v6[36] = { 0 };

	p2pl_benc_writer_init(&w, buf, sizeof(buf));
	p2pl_benc_put_dict(&w);
	if (strcmp(path, "/fail") == 0 || strcmp(path, "/fail400") == 0) {
		p2pl_benc_put_cstr(&w, "failure reason");
		p2pl_benc_put_cstr(&w, "go away");
	} else {
		p2pl_benc_put_cstr(&w, "interval");
		p2pl_benc_put_int(&w, 1);
		p2pl_benc_put_cstr(&w, "peers");
		if (strcmp(path, "/v6") == 0) {
			p2pl_benc_put_list(&w);
			p2pl_benc_put_dict(&w);
			p2pl_benc_put_cstr(&w, "ip");
			p2pl_benc_put_cstr(&w, "10.1.2.3");
			p2pl_benc_put_cstr(&w, "port");
			p2pl_benc_put_int(&w, 1234);
			p2pl_benc_put_end(&w);
			p2pl_benc_put_end(&w);
			v6[0] = 0x20;
			v6[1] = 0x01;
			v6[15] = 5;
			v6[16] = 0x1f;
			v6[17] = 0x90;
			p2pl_benc_put_cstr(&w, "peers6");
			p2pl_benc_put_str(&w, v6, sizeof(v6));
		} else
			p2pl_benc_put_str(&w, "\x7f\0\0\x01\x1a\xe1"
			    "\x7f\0\0\x02\x1a\xe2", 12);
	}
	p2pl_benc_put_end(&w);
	return evbuffer_add(b, buf, (size_t)p2pl_benc_done(&w));
}

static void
serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b = evbuffer_new();
	char path[256];
	size_t n = strcspn(uri, "?");
	static char big[300 * 1024];

	(void)arg;
	if (nreqs < 64)
		snprintf(reqs[nreqs++], sizeof(reqs[0]), "%s", uri);
	snprintf(path, sizeof(path), "%.*s", (int)(n < 255 ? n : 255), uri);
	if (strcmp(path, "/slow") == 0)
		;	/* no reply: evhttp_free() drops the request */
	else if (strcmp(path, "/404") == 0)
		evhttp_send_error(req, 404, NULL);
	else if (strcmp(path, "/loop") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", "/loop");
		evhttp_send_reply(req, 302, "Found", b);
	} else if (strcmp(path, "/big") == 0) {
		memset(big, 'x', sizeof(big));
		evbuffer_add(b, big, sizeof(big));
		evhttp_send_reply(req, 200, "OK", b);
	} else {
		canned(path, b);
		evhttp_send_reply(req, strcmp(path, "/fail400") == 0 ? 400 :
		    200, "OK", b);
	}
	evbuffer_free(b);
}

struct result {
	struct p2pl_tracker *t;
	int npeers, nerr, want, free_in_cb;
	struct p2pl_addr peers[P2PL_TRACKER_PEERS];
	char why[P2PL_ERRLEN];
};

static void
done_one(struct result *r)
{
	if (r->npeers + r->nerr >= r->want)
		event_base_loopbreak(base);
}

static void
cb_peers(void *arg, const struct p2pl_addr *p, int n)
{
	struct result *r = arg;

	memcpy(r->peers, p, (size_t)n * sizeof(*p));
	r->npeers++;
	r->peers[n].port = 0;
	done_one(r);
}

static void
cb_error(void *arg, const char *why)
{
	struct result *r = arg;

	snprintf(r->why, sizeof(r->why), "%s", why);
	r->nerr++;
	if (r->free_in_cb) {
		p2pl_tracker_free(r->t);
		r->t = NULL;
	}
	done_one(r);
}

/* Announce to path on the test server until want callbacks came. */
static void
announce(int port, const char *path, struct result *r, int want, int secs)
{
	struct p2pl_tracker_cb cb = { r, cb_peers, cb_error };
	struct timeval tv = { secs, 0 };
	char url[512], err[P2PL_ERRLEN];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	r->want = want;
	r->t = p2pl_tracker_new(base, NULL, url, hash, pid, 6881, &cb, err,
	    sizeof(err));
	if (r->t == NULL) {
		ok(0, "tracker_new: %s", err);
		return;
	}
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static const char *
last_req(void)
{
	return nreqs > 0 ? reqs[nreqs - 1] : "";
}

static void
test_client(int port)
{
	struct result r = { 0 };
	char want[1024];

	announce(port, "/announce", &r, 1, 10);
	snprintf(want, sizeof(want), "/announce?info_hash=%s&peer_id=-P2PL0-"
	    "abcdefghijklm&port=6881&uploaded=0&downloaded=0&left=0&"
	    "compact=1&numwant=50&event=started", hash_esc);
	ok(strcmp(last_req(), want) == 0, "exact first request: %s",
	    last_req());
	ok(r.npeers == 1 && strcmp(r.peers[0].host, "127.0.0.1") == 0 &&
	    r.peers[0].port == 6881 && strcmp(r.peers[1].host, "127.0.0.2") ==
	    0 && r.peers[1].port == 6882 && r.peers[2].port == 0,
	    "compact peers reported");
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(port, "/announce?key=k%20y", &r, 1, 10);
	ok(strncmp(last_req(), "/announce?key=k%20y&info_hash=%00%01", 36) ==
	    0 && r.npeers == 1, "query appended with &: %s", last_req());
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(port, "/v6", &r, 1, 10);
	ok(r.npeers == 1 && strcmp(r.peers[0].host, "10.1.2.3") == 0 &&
	    r.peers[0].port == 1234 && strcmp(r.peers[1].host, "2001::5") ==
	    0 && r.peers[1].port == 8080 && r.peers[2].port == 0,
	    "dict peers and peers6 (zero address skipped)");
	p2pl_tracker_free(r.t);
}

static void
test_client_errors(int port)
{
	struct result r = { 0 };
	int before;

	r.free_in_cb = 1;
	announce(port, "/fail", &r, 1, 10);
	ok(r.nerr == 1 && r.t == NULL && strcmp(r.why,
	    "tracker said: go away") == 0, "failure reason, freed in the "
	    "callback: %s", r.why);

	memset(&r, 0, sizeof(r));
	announce(port, "/fail400", &r, 1, 10);
	ok(r.nerr == 1 && strcmp(r.why, "tracker said: go away") == 0,
	    "failure reason with status 400: %s", r.why);
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(port, "/404", &r, 1, 10);
	ok(r.nerr == 1 && strcmp(r.why, "http 404") == 0, "404: %s", r.why);
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	before = nreqs;
	announce(port, "/loop", &r, 1, 10);
	ok(r.nerr == 1 && strstr(r.why, "edirect") != NULL &&
	    nreqs - before == 4, "redirect loop stops after 3: %s (%d "
	    "requests)", r.why, nreqs - before);
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(port, "/big", &r, 1, 10);
	ok(r.nerr == 1 && strcmp(r.why, "reply over 262144 bytes") == 0,
	    "oversized reply cut off: %s", r.why);
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(port, "/slow", &r, 1, 1);
	ok(r.nerr == 0 && r.npeers == 0 && strncmp(last_req(), "/slow?", 6) ==
	    0, "slow reply pending");
	p2pl_tracker_free(r.t);

	memset(&r, 0, sizeof(r));
	announce(1, "/announce", &r, 1, 15);
	ok(r.nerr == 1 && r.why[0] != '\0', "connection refused: %s", r.why);
	p2pl_tracker_free(r.t);
}

/* The second announce: after 15 s, without event=started, with counts. */
static void
test_reannounce(int port)
{
	struct p2pl_tracker_cb cb = { NULL, cb_peers, cb_error };
	struct result a = { 0 }, b = { 0 };
	struct timeval tv = { 1, 0 };
	char err[P2PL_ERRLEN], url[256];
	const char *qa = NULL, *qb = NULL;
	uint64_t t0 = p2pl_mono_us();
	int i;

	/* one succeeds, one fails: both try again 15 s later */
	a.want = b.want = 1000;
	cb.arg = &a;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/again", port);
	a.t = p2pl_tracker_new(base, NULL, url, hash, pid, 6881, &cb, err,
	    sizeof(err));
	cb.arg = &b;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/404?x", port);
	b.t = p2pl_tracker_new(base, NULL, url, hash, pid, 6881, &cb, err,
	    sizeof(err));
	p2pl_tracker_set_counts(a.t, 1000, 2000);
	while ((a.npeers < 2 || b.nerr < 2) &&
	    p2pl_mono_us() - t0 < 25000000) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	for (i = 0; i < nreqs; i++) {
		if (strncmp(reqs[i], "/again?", 7) == 0)
			qa = reqs[i];
		if (strncmp(reqs[i], "/404?x&", 7) == 0)
			qb = reqs[i];
	}
	ok(a.npeers == 2 && p2pl_mono_us() - t0 > 14500000,
	    "announced again after 15 s");
	ok(qa != NULL && strstr(qa, "&uploaded=1000&downloaded=2000&") &&
	    strstr(qa, "event=") == NULL, "second request: %s", qa);
	ok(b.nerr == 2 && qb != NULL && strstr(qb, "&event=started") != NULL,
	    "retry after a failure still says started");
	p2pl_tracker_free(a.t);
	p2pl_tracker_free(b.t);
}

int
main(void)
{
	struct evhttp *http;
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct p2pl_tracker_cb cb = { NULL, cb_peers, cb_error };
	char err[P2PL_ERRLEN];

	signal(SIGPIPE, SIG_IGN);
	test_decode_good();
	test_decode_hostile();
	test_writer();
	test_parse_reply();

	base = event_base_new();
	http = evhttp_new(base);
	bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (bs == NULL || getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sa, &salen) == -1)
		return 1;
	evhttp_set_gencb(http, serve, NULL);
	ok(p2pl_tracker_new(base, NULL, "ftp://x/", hash, pid, 1, &cb, err,
	    sizeof(err)) == NULL && p2pl_tracker_new(base, NULL, "http://", hash,
	    pid, 1, &cb, err, sizeof(err)) == NULL, "non-http url refused");
	test_client(ntohs(sa.sin_port));
	test_client_errors(ntohs(sa.sin_port));
	if (getenv("P2PL_QUICK") == NULL)
		test_reannounce(ntohs(sa.sin_port));
	evhttp_free(http);
	event_base_free(base);
	return tap_done();
}
