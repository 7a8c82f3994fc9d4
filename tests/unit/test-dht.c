/*
 * test-dht.c - lib/dht and lib/krpc: KRPC round trips, twenty in-process
 * nodes wired by their send callbacks that bootstrap, announce and find
 * each other, hostile datagrams refused and counted, and saved state.
 */
#include "dht.h"
#include "krpc.h"
#include "util.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define NNODES 20
#define N6 10			/* IPv6 nodes, indexes V6 and up */
#define V6 100
#define QMAX 20000

struct dgram {
	int from, to;
	size_t len;
	uint8_t buf[1500];
};

static struct p2pl_dht *nodes[NNODES], *nodes6[N6];
static struct dgram *queue;
static int qlen, dropped;
static uint64_t now = 1000000;
static int found[V6 + N6], done[V6 + N6], announced[V6 + N6];
static struct sockaddr_in peer_seen[NNODES];
static struct sockaddr_in6 peer6_seen[N6];
/* the last datagram sent to the outsider (index NNODES) */
static uint8_t last_out[1500];
static size_t last_out_len;

static void
addr_of(int i, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(0x0a000001 + (uint32_t)i);
	sa->sin_port = htons(6881);
}

/* 2001:db8::(i + 1), port 6881 */
static void
addr6_of(int i, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::", &sa->sin6_addr);
	sa->sin6_addr.s6_addr[15] = (uint8_t)(i + 1);
	sa->sin6_port = htons(6881);
}

static int
index_of(const struct sockaddr *sa)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET6)
		return V6 + s6->sin6_addr.s6_addr[15] - 1;
	if (sa->sa_family != AF_INET)
		return -1;
	return (int)(ntohl(s->sin_addr.s_addr) - 0x0a000001);
}

static void
on_send(void *arg, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
	int from = (int)(intptr_t)arg, t = index_of(to);

	(void)tolen;
	if (t == NNODES) {
		memcpy(last_out, buf, len);
		last_out_len = len;
		return;
	}
	if (t < 0 || (t > NNODES && (t < V6 || t >= V6 + N6)) ||
	    qlen == QMAX || len > 1500) {
		dropped++;
		return;
	}
	queue[qlen].from = from;
	queue[qlen].to = t;
	queue[qlen].len = len;
	memcpy(queue[qlen].buf, buf, len);
	qlen++;
}

static void
on_peer(void *arg, const uint8_t ih[20], const struct sockaddr *sa,
    socklen_t salen)
{
	int i = (int)(intptr_t)arg;

	(void)ih;
	if (i < NNODES && salen == sizeof(struct sockaddr_in))
		memcpy(&peer_seen[i], sa, salen);
	if (i >= V6 && salen == sizeof(struct sockaddr_in6))
		memcpy(&peer6_seen[i - V6], sa, salen);
	found[i]++;
}

static void
on_done(void *arg, const uint8_t ih[20], int peers, int nann)
{
	int i = (int)(intptr_t)arg;

	(void)ih;
	(void)peers;
	done[i]++;
	announced[i] += nann;
}

/* Deliver everything queued (and what that sends), then tick all. */
static void
run(int rounds)
{
	struct sockaddr_in sa;
	struct sockaddr_in6 sa6;
	struct dgram *q;
	int i, r, n;

	q = malloc(sizeof(*q) * QMAX);
	for (r = 0; r < rounds; r++) {
		now += 100000;
		while (qlen > 0) {
			n = qlen;
			memcpy(q, queue, sizeof(*q) * (size_t)n);
			qlen = 0;
			for (i = 0; i < n; i++) {
				if (q[i].to >= V6 && nodes6[0] != NULL) {
					addr6_of(q[i].from - V6, &sa6);
					p2pl_dht_input(nodes6[q[i].to - V6],
					    q[i].buf, q[i].len,
					    (struct sockaddr *)&sa6,
					    sizeof(sa6), now);
				}
				if (q[i].to >= NNODES)
					continue;
				addr_of(q[i].from, &sa);
				p2pl_dht_input(nodes[q[i].to], q[i].buf,
				    q[i].len, (struct sockaddr *)&sa,
				    sizeof(sa), now);
			}
		}
		for (i = 0; i < NNODES; i++)
			p2pl_dht_tick(nodes[i], now);
		for (i = 0; i < N6 && nodes6[0] != NULL; i++)
			p2pl_dht_tick(nodes6[i], now);
	}
	free(q);
}

static void
test_krpc(void)
{
	static const uint8_t id[20] = "abcdefghij0123456789";
	static const uint8_t ih[20] = "mnopqrstuvwxyz012345";
	char err[P2PL_ERRLEN];
	struct p2pl_krpc m, p;
	uint8_t buf[1500];
	long n;

	memset(&m, 0, sizeof(m));
	m.y = P2PL_KRPC_QUERY;
	m.q = P2PL_KRPC_ANNOUNCE_PEER;
	m.tid = (const uint8_t *)"aa";
	m.tidlen = 2;
	m.id = id;
	m.target = ih;
	m.token = (const uint8_t *)"tok";
	m.toklen = 3;
	m.port = 6881;
	m.want = P2PL_KRPC_WANT4 | P2PL_KRPC_WANT6;
	n = p2pl_krpc_encode(&m, buf, sizeof(buf));
	ok(n > 0, "announce_peer encodes");
	ok(p2pl_krpc_parse(buf, (size_t)n, &p, err, sizeof(err)) == 0 &&
	    p.q == m.q && p.port == 6881 && p.toklen == 3 &&
	    memcmp(p.target, ih, 20) == 0 && p.want == m.want,
	    "and parses back");
	ok(memcmp(buf, "d1:ad2:id20:", 12) == 0, "keys in sorted order");
	ok(p2pl_krpc_encode(&m, buf, 20) < 0, "a short buffer is refused");
}

/* Feed one datagram to node 5 from the outsider 10.0.0.21. */
static void
feed(const char *s, size_t len)
{
	struct sockaddr_in sa;

	addr_of(NNODES, &sa);
	last_out_len = 0;
	p2pl_dht_input(nodes[5], (const uint8_t *)s, len,
	    (struct sockaddr *)&sa, sizeof(sa), now);
}

#define FEED(s) feed((s), strlen(s))

static int
last_error(int64_t code)
{
	char err[P2PL_ERRLEN];
	struct p2pl_krpc m;

	return last_out_len > 0 && p2pl_krpc_parse(last_out, last_out_len, &m,
	    err, sizeof(err)) == 0 && m.y == P2PL_KRPC_ERROR &&
	    m.ecode == code;
}

static void
test_hostile(void)
{
	static const char *bad[] = {
		"", "xyz", "i42e", "le", "d1:t2:aae",
		"d1:t2:aa1:y1:xe",
		"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",
		"d1:rd2:id20:abcdefghij01234567895:nodes5:abcdee1:t2:aa1:y1:re",
		"d1:rd2:id20:abcdefghij01234567896:valuesli1eee1:t2:aa1:y1:re",
		"d1:t17:aaaaaaaaaaaaaaaaa1:y1:e1:eli201e1:xee",
	};
	struct p2pl_dht_stats a, b;
	char big[5000];
	size_t i;

	p2pl_dht_get_stats(nodes[5], &a);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		feed(bad[i], strlen(bad[i]));
	memset(big, 'x', sizeof(big));
	feed(big, sizeof(big));
	p2pl_dht_get_stats(nodes[5], &b);
	ok(b.malformed - a.malformed == sizeof(bad) / sizeof(bad[0]) + 1,
	    "malformed datagrams refused and counted (%llu)",
	    (unsigned long long)(b.malformed - a.malformed));
	FEED("d1:rd2:id20:abcdefghij0123456789e1:t4:zzzz1:y1:re");
	FEED("d1:rd2:id20:abcdefghij0123456789e1:t4:s\x01zz1:y1:re");
	p2pl_dht_get_stats(nodes[5], &a);
	ok(a.unexpected - b.unexpected == 2, "replies to nothing counted");
	FEED("d1:ad2:id20:abcdefghij0123456789e1:q4:evil1:t2:aa1:y1:qe");
	ok(last_error(204), "unknown method: error 204");
	FEED("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz012345"
	    "4:porti80e5:token8:xxxxxxxxe1:q13:announce_peer1:t2:aa1:y1:qe");
	ok(last_error(203), "announce_peer with a bad token: error 203");
	FEED("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
	ok(last_out_len > 0 && memmem(last_out, last_out_len, "1:y1:r", 6),
	    "and the node still answers a ping");
}

static void
test_state(void)
{
	struct p2pl_dht_cfg cfg = { .send = on_send };
	struct p2pl_dht_stats st;
	struct p2pl_dht *d;
	char err[P2PL_ERRLEN];
	uint8_t buf[P2PL_DHT_STATE_MAX];
	long n;

	n = p2pl_dht_save(nodes[1], buf, sizeof(buf));
	ok(n > 0, "state saved (%ld bytes)", n);
	cfg.arg = (void *)(intptr_t)NNODES;
	d = p2pl_dht_new(&cfg, err, sizeof(err));
	ok(d != NULL && p2pl_dht_load(d, buf, (size_t)n, err, sizeof(err)) == 0,
	    "and loaded");
	p2pl_dht_get_stats(d, &st);
	ok(memcmp(p2pl_dht_id(d), p2pl_dht_id(nodes[1]), 20) == 0 &&
	    st.nodes4 > 0, "with the id and %d nodes", st.nodes4);
	p2pl_dht_free(d);
	d = p2pl_dht_new(&cfg, err, sizeof(err));
	ok(d != NULL && p2pl_dht_load(d, (const uint8_t *)"d2:id3:abce", 11,
	    err, sizeof(err)) < 0, "bad state refused: %s", err);
	p2pl_dht_free(d);
}

/* BEP 32: ten IPv6 nodes find each other and a peer by nodes6 alone */
static void
test_ipv6(void)
{
	static const uint8_t ih[20] = "p2pl-test-ipv6-hash!";
	struct p2pl_dht_cfg cfg = { .send = on_send, .peer = on_peer,
	    .done = on_done };
	struct p2pl_dht_stats st;
	struct sockaddr_in6 sa;
	char err[P2PL_ERRLEN];
	int i, min = 1000, v4 = 0;

	for (i = 0; i < N6; i++) {
		cfg.arg = (void *)(intptr_t)(V6 + i);
		nodes6[i] = p2pl_dht_new(&cfg, err, sizeof(err));
		if (nodes6[i] == NULL)
			exit(1);
		addr6_of(0, &sa);
		if (i > 0)
			p2pl_dht_add_node(nodes6[i], (struct sockaddr *)&sa,
			    sizeof(sa), err, sizeof(err));
	}
	run(300);
	for (i = 0; i < N6; i++) {
		p2pl_dht_get_stats(nodes6[i], &st);
		if (st.nodes6 < min)
			min = st.nodes6;
		v4 += st.nodes4;
	}
	ok(min >= 5 && v4 == 0, "IPv6 nodes know 5 or more others (fewest %d)",
	    min);
	p2pl_dht_search(nodes6[2], ih, 7001, now, err, sizeof(err));
	run(100);
	ok(done[V6 + 2] == 1 && announced[V6 + 2] >= 1,
	    "an IPv6 node announces to %d", announced[V6 + 2]);
	p2pl_dht_search(nodes6[8], ih, 0, now, err, sizeof(err));
	run(100);
	addr6_of(2, &sa);
	sa.sin6_port = htons(7001);
	ok(found[V6 + 8] == 1 && memcmp(&peer6_seen[8].sin6_addr,
	    &sa.sin6_addr, 16) == 0 && peer6_seen[8].sin6_port == sa.sin6_port,
	    "and another finds it by its 18-byte value");
	for (i = 0; i < N6; i++)
		p2pl_dht_free(nodes6[i]);
}

int
main(void)
{
	static const uint8_t ih[20] = "p2pl-test-info-hash!";
	struct p2pl_dht_cfg cfg = { .send = on_send, .peer = on_peer,
	    .done = on_done };
	struct p2pl_dht_stats st;
	struct sockaddr_in sa;
	char err[P2PL_ERRLEN];
	int i, min = 1000;

	queue = malloc(sizeof(*queue) * QMAX);
	test_krpc();
	for (i = 0; i < NNODES; i++) {
		cfg.arg = (void *)(intptr_t)i;
		nodes[i] = p2pl_dht_new(&cfg, err, sizeof(err));
		if (nodes[i] == NULL)
			return 1;
		addr_of(0, &sa);
		if (i > 0)
			p2pl_dht_add_node(nodes[i], (struct sockaddr *)&sa,
			    sizeof(sa), err, sizeof(err));
	}
	run(300);
	for (i = 0; i < NNODES; i++) {
		p2pl_dht_get_stats(nodes[i], &st);
		if (st.nodes4 < min)
			min = st.nodes4;
	}
	ok(min >= 8, "every node knows 8 or more others (fewest %d)", min);

	ok(p2pl_dht_search(nodes[3], ih, 7000, now, err, sizeof(err)) == 0,
	    "node 3 announces");
	run(100);
	ok(done[3] == 1 && announced[3] >= 1, "to %d nodes", announced[3]);
	ok(p2pl_dht_search(nodes[17], ih, 0, now, err, sizeof(err)) == 0,
	    "node 17 looks up");
	run(100);
	addr_of(3, &sa);
	sa.sin_port = htons(7000);
	ok(done[17] == 1 && found[17] == 1 &&
	    memcmp(&peer_seen[17], &sa, sizeof(sa)) == 0,
	    "and finds node 3's address and port once");
	ok(found[3] == 0, "node 3 found no one");
	test_hostile();
	test_state();
	test_ipv6();
	ok(dropped == 0, "no datagram dropped by the test network");
	for (i = 0; i < NNODES; i++)
		p2pl_dht_free(nodes[i]);
	free(queue);
	return tap_done();
}
