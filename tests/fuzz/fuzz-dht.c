/*
 * fuzz-dht.c - a DHT node (lib/dht.h) fed hostile datagrams, and the
 * KRPC parser checked by round trip.
 *
 * The input is a run of records: u8 ctl | u16 len (big-endian) | len
 * bytes of datagram.  ctl bits 0-1 pick the sender (two IPv4 nodes, an
 * IPv6 node, an IPv4-mapped IPv6 one), bit 2 ticks the node after the
 * datagram, bits 4-7 advance the clock by that many 250 ms first.  The
 * node has a bootstrap node and one search running from the start.  The
 * fuzzer cannot guess our transaction ids, so the 4 bytes "TTTT" in a
 * datagram are replaced by the transaction id of the last query the
 * node sent, which lets replies reach the search and the pings.
 */
#include "dht.h"
#include "krpc.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static uint8_t last_tid[4];

static void
on_send(void *arg, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
	struct p2pl_krpc m;
	char err[P2PL_ERRLEN];

	(void)arg;
	(void)to;
	(void)tolen;
	if (p2pl_krpc_parse(buf, len, &m, err, sizeof(err)) < 0)
		abort();	/* we only send what we can parse */
	if (m.y == P2PL_KRPC_QUERY && m.tidlen == 4)
		memcpy(last_tid, m.tid, 4);
}

static void
on_peer(void *arg, const uint8_t ih[20], const struct sockaddr *sa,
    socklen_t salen)
{
	(void)arg;
	(void)ih;
	if (salen > sizeof(struct sockaddr_storage) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		abort();
}

static void
sender(int i, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (i < 2) {
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(0x7f000001);
		s4->sin_port = htons((uint16_t)(6881 + i));
		*len = sizeof(*s4);
		return;
	}
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, i == 2 ? "2001:db8::1" : "::ffff:127.0.0.1",
	    &s6->sin6_addr);
	s6->sin6_port = htons(6881);
	*len = sizeof(*s6);
}

/* parse, encode, parse: the same message */
static void
round_trip(const uint8_t *buf, size_t len)
{
	static uint8_t out[2 * P2PL_KRPC_MAXLEN];
	struct p2pl_krpc a, b;
	char err[P2PL_ERRLEN];
	long n;

	if (p2pl_krpc_parse(buf, len, &a, err, sizeof(err)) < 0)
		return;
	n = p2pl_krpc_encode(&a, out, sizeof(out));
	if (n < 0) {
		if (a.y == P2PL_KRPC_QUERY && a.q == 0)
			return;
		abort();
	}
	if (p2pl_krpc_parse(out, (size_t)n, &b, err, sizeof(err)) < 0 ||
	    a.y != b.y || a.q != b.q || a.tidlen != b.tidlen ||
	    a.toklen != b.toklen || a.nodeslen != b.nodeslen ||
	    a.nodes6len != b.nodes6len || a.nvalues != b.nvalues ||
	    a.port != b.port || a.ecode != b.ecode || a.want != b.want ||
	    a.emsglen != b.emsglen || (a.id && memcmp(a.id, b.id, 20)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ih[20] = "fuzz-dht-info-hash!!";
	struct p2pl_dht_cfg cfg = { .send = on_send, .peer = on_peer };
	struct p2pl_dht_stats st;
	struct sockaddr_storage ss;
	struct p2pl_dht *d;
	uint8_t buf[P2PL_KRPC_MAXLEN + 16], *t;
	uint8_t state[P2PL_DHT_STATE_MAX];
	char err[P2PL_ERRLEN];
	uint64_t now = 1000000;
	socklen_t sl;
	size_t len;
	int ctl;

	memset(cfg.id, 0x42, 20);
	d = p2pl_dht_new(&cfg, err, sizeof(err));
	if (d == NULL)
		abort();
	sender(0, &ss, &sl);
	p2pl_dht_add_node(d, (struct sockaddr *)&ss, sl, err, sizeof(err));
	p2pl_dht_tick(d, now);
	p2pl_dht_search(d, ih, 6881, now, err, sizeof(err));
	while (size >= 3) {
		ctl = data[0];
		len = p2pl_get16(data + 1);
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len <= sizeof(buf)) {
			memcpy(buf, data, len);
			t = len >= 4 ? memmem(buf, len, "TTTT", 4) : NULL;
			if (t != NULL)
				memcpy(t, last_tid, 4);
			round_trip(buf, len);
			now += (uint64_t)(ctl >> 4) * 250000;
			sender(ctl & 3, &ss, &sl);
			p2pl_dht_input(d, buf, len, (struct sockaddr *)&ss, sl,
			    now);
			if (ctl & 4)
				p2pl_dht_tick(d, now);
		}
		data += len;
		size -= len;
	}
	p2pl_dht_tick(d, now + 3000000);
	p2pl_dht_get_stats(d, &st);
	if (st.nodes4 > 160 * P2PL_DHT_K || st.stored < 0 ||
	    p2pl_dht_save(d, state, sizeof(state)) < 0)
		abort();
	p2pl_dht_free(d);
	return 0;
}
