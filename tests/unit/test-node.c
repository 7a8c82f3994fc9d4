/*
 * test-node.c - the protocol core with no sockets: a publisher node and
 * viewer nodes joined by in-memory links, driven by a fake clock.
 */
#include "node.h"
#include "node-int.h"
#include "tap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000000ull

/* One direction of a connection: bytes waiting for the other side. */
struct link {
	struct p2pl_node *node;		/* the receiving node */
	struct p2pl_peer *peer;		/* its peer for this connection */
	uint8_t buf[1 << 20];
	size_t len;
	int tamper;			/* flip a payload byte in the next piece */
	int drop_seq_set;
	uint64_t drop_seq;		/* lose this piece in transit */
	int dead;
	char why[P2PL_ERRLEN];
};

struct side {
	uint64_t delivered[4096];
	int n;
};

static struct p2pl_key key;

static void
cb_send(void *arg, void *conn, const uint8_t *d, size_t len,
    struct p2pl_piece *p)
{
	struct link *l = conn;

	(void)arg;
	if (p != NULL && l->drop_seq_set && p->seq == l->drop_seq)
		return;
	if (l->len + len > sizeof(l->buf))
		abort();
	memcpy(l->buf + l->len, d, len);
	if (p != NULL && l->tamper) {
		l->buf[l->len + P2PL_MSG_HDR + P2PL_PIECE_HDR + 3] ^= 0x40;
		l->tamper = 0;
	}
	l->len += len;
}

static size_t
cb_backlog(void *arg, void *conn)
{
	(void)arg;
	(void)conn;
	return 0;
}

static void
cb_deliver(void *arg, struct p2pl_piece *p)
{
	struct side *s = arg;

	s->delivered[s->n++] = p->seq;
}

static void
cb_drop(void *arg, void *conn, const char *why)
{
	(void)arg;
	((struct link *)conn)->dead = 1;
	snprintf(((struct link *)conn)->why, P2PL_ERRLEN, "%s", why);
}

static struct p2pl_node *
node(int role, struct side *s, uint64_t latency, const char *rate)
{
	struct p2pl_node_cfg cfg = { .role = role, .play = s != NULL,
	    .latency = latency };
	struct p2pl_node_cb cb = { s, cb_send, cb_backlog, cb_deliver, cb_drop,
	    NULL };

	memcpy(cfg.key, key.pk, 32);
	if (rate != NULL)
		p2pl_rate_parse(rate, &cfg.up, NULL, 0);
	return p2pl_node_new(&cfg, &cb);
}

/* Connect a (dialling) to b: two links, one per direction. */
static void
connect_nodes(struct p2pl_node *a, struct p2pl_node *b, struct link *ab,
    struct link *ba, uint64_t now)
{
	memset(ab, 0, sizeof(*ab));
	memset(ba, 0, sizeof(*ba));
	ab->node = b;
	ba->node = a;
	/* a's peer sends on ab; b's peer sends on ba */
	ba->peer = p2pl_node_peer_new(a, ab, 1, NULL, now);
	ab->peer = p2pl_node_peer_new(b, ba, 0, NULL, now);
}

/* As connect_nodes, b seeing a at ra and a having dialled b at rb. */
static void
connect_at(struct p2pl_node *a, struct p2pl_node *b, struct link *ab,
    struct link *ba, const char *ra, const char *rb, uint64_t now)
{
	struct p2pl_addr A, B;

	p2pl_addr_parse(ra, "", 0, &A, NULL, 0);
	p2pl_addr_parse(rb, "", 0, &B, NULL, 0);
	memset(ab, 0, sizeof(*ab));
	memset(ba, 0, sizeof(*ba));
	ab->node = b;
	ba->node = a;
	ba->peer = p2pl_node_peer_new(a, ab, 1, &B, now);
	ab->peer = p2pl_node_peer_new(b, ba, 0, &A, now);
}

/* Deliver what waits on l; -1 if the receiver refused it. */
static int
pump(struct link *l, uint64_t now)
{
	long r;

	if (l->dead || l->len == 0)
		return 0;
	r = p2pl_peer_input(l->peer, l->buf, l->len, now);
	if (r < 0) {
		l->dead = 1;
		snprintf(l->why, sizeof(l->why), "%s", p2pl_peer_error(l->peer));
		return -1;
	}
	memmove(l->buf, l->buf + r, l->len - (size_t)r);
	l->len -= (size_t)r;
	return 0;
}

static int
pump_all(struct link *ab, struct link *ba, uint64_t now)
{
	int rc = 0;

	for (int i = 0; i < 4; i++)
		rc |= pump(ab, now) | pump(ba, now);
	return rc;
}

static struct p2pl_piece *
mk(uint64_t seq, uint64_t stamp, unsigned flags, size_t len)
{
	uint8_t data[8192];

	memset(data, (int)(seq & 0xff), sizeof(data));
	return p2pl_piece_make(&key, seq, stamp, flags, data, len, NULL, 0);
}

static void
test_live(void)
{
	struct side v = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	static struct link ab, ba;
	uint64_t now = T0;
	int i, inorder = 1;

	connect_nodes(vw, pub, &ab, &ba, now);
	pump_all(&ab, &ba, now);
	/* nothing before the first join point is played */
	p2pl_node_publish(pub, mk(99, now, 0, 1000), now);
	for (i = 0; i < 30; i++) {
		now += 40000;
		p2pl_node_publish(pub, mk(100 + (uint64_t)i, now,
		    i % 10 == 0 ? P2PL_PIECE_JOIN : 0, 2000), now);
		pump_all(&ab, &ba, now + 1000);
	}
	for (i = 0; i < v.n; i++)
		inorder &= v.delivered[i] == 100 + (uint64_t)i;
	ok(v.n == 30 && inorder, "viewer played 100..129 in order (%d)", v.n);

	/* a late viewer starts at the newest join point, 120 */
	struct side late = { 0 };
	struct p2pl_node *lv = node(P2PL_ROLE_VIEWER, &late, 1000000, NULL);
	static struct link cd, dc;
	connect_nodes(lv, pub, &cd, &dc, now);
	pump_all(&cd, &dc, now);
	ok(late.n == 0, "a newcomer is told what the publisher holds");
	/* after the pull delay it asks for those pieces, and starts */
	for (int t = 0; t <= 100000; t += 10000) {
		p2pl_node_tick(lv, now + (uint64_t)t);
		pump_all(&cd, &dc, now + (uint64_t)t);
	}
	ok(late.n == 10 && late.delivered[0] == 120 && late.delivered[9] == 129,
	    "late viewer started at join point 120 (%d pieces, first %llu)",
	    late.n, late.n ? (unsigned long long)late.delivered[0] : 0);

	/* a tampered piece: the peer is refused, nothing of it is played */
	ba.tamper = 1;
	now += 40000;
	p2pl_node_publish(pub, mk(130, now, 0, 2000), now);
	ok(pump_all(&ab, &ba, now) == -1 && strstr(ba.why, "bad signature on "
	    "piece 130") && v.delivered[v.n - 1] == 129,
	    "tampered piece refused: %s", ba.why);
	struct p2pl_node_stats st;
	p2pl_node_stats(vw, &st);
	ok(st.bad == 1, "the bad piece is counted");
	p2pl_node_free(lv);
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

static void
test_gap_and_restart(void)
{
	struct side v = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 500000, NULL);
	static struct link ab, ba;
	struct p2pl_node_stats st;
	uint64_t now = T0, wait;

	connect_nodes(vw, pub, &ab, &ba, now);
	pump_all(&ab, &ba, now);
	ba.drop_seq_set = 1;
	ba.drop_seq = 3;
	for (uint64_t s = 1; s <= 6; s++) {
		now += 40000;
		p2pl_node_publish(pub, mk(s, now, s == 1 ? P2PL_PIECE_JOIN : 0,
		    500), now);
		pump_all(&ab, &ba, now);
	}
	ok(v.n == 2, "pieces after the gap wait (%d played)", v.n);
	wait = p2pl_node_tick(vw, now);
	ok(wait <= 500000, "the node asks to wake by the deadline (in %llu us)",
	    (unsigned long long)wait);
	/* piece 4 was stamped T0+160ms; its deadline is 500 ms later; the
	 * viewer asks the publisher for 3, which the link loses again */
	for (uint64_t t = now; t <= now + 400000; t += 10000) {
		p2pl_node_tick(vw, t);
		pump_all(&ab, &ba, t);
	}
	p2pl_node_stats(vw, &st);
	ok(v.n == 2 && st.requests >= 1, "before the deadline 3 is asked for, "
	    "4 waits (%llu requests)", (unsigned long long)st.requests);
	p2pl_node_tick(vw, now + 520000);
	p2pl_node_stats(vw, &st);
	ok(v.n == 5 && v.delivered[2] == 4 && st.skipped == 1,
	    "at the deadline 3 is skipped and 4..6 played");
	now += 520000;

	/* a restarted publisher: sequence jumps, played at once */
	now += 5000000;
	p2pl_node_publish(pub, mk(90000, now, P2PL_PIECE_JOIN |
	    P2PL_PIECE_RESTART, 500), now);
	pump_all(&ab, &ba, now);
	p2pl_node_stats(vw, &st);
	ok(v.n == 6 && v.delivered[5] == 90000 && st.skipped == 1,
	    "a restart piece is played at once, not counted as skipped");
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

/*
 * A request answered is forgotten whole: when the same want slot serves a
 * piece P2PL_RING later, the holder's count of our requests is not taken
 * down a second time (it went negative, and the scheduler then sent every
 * request to that holder, past REQ_PER_PEER).
 */
static void
test_request_count(void)
{
	struct side v = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	static struct link ab, ba;
	struct p2pl_node_stats st;
	uint64_t now = T0;

	connect_nodes(vw, pub, &ab, &ba, now);
	pump_all(&ab, &ba, now);
	ba.drop_seq_set = 1;
	ba.drop_seq = 2;
	for (uint64_t s = 1; s <= 3; s++) {
		now += 40000;
		p2pl_node_publish(pub, mk(s, now, s == 1 ? P2PL_PIECE_JOIN : 0,
		    500), now);
		pump_all(&ab, &ba, now);
	}
	now += 60000;
	p2pl_node_tick(vw, now);
	p2pl_node_stats(vw, &st);
	/* ba.peer is the viewer's side of its link to the publisher */
	ok(st.requests == 1 && ba.peer->reqs == 1,
	    "the lost piece is asked for (%d outstanding)", ba.peer->reqs);
	p2pl__sched_got(vw, 2);		/* as when piece 2 arrives */
	ok(ba.peer->reqs == 0, "its arrival settles the request (%d)",
	    ba.peer->reqs);
	p2pl__sched_heard(vw, 2 + P2PL_RING, now, NULL);
	ok(ba.peer->reqs == 0, "a piece a ring later leaves the count at 0 (%d)",
	    ba.peer->reqs);
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

/*
 * A neighbour claims the 64 pieces after the newest before they exist.
 * The requests for them go unanswered, by it and by the publisher, which
 * is held to have every piece heard of but is never struck for that; the
 * liar is; once those pieces come stamped well after the claim the liar
 * is dropped; and a viewer never drops its only source.
 */
static void
test_claims(void)
{
	struct side v = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	struct p2pl_node *liar = node(P2PL_ROLE_VIEWER, NULL, 1000000, NULL);
	static struct link ab, ba, lv, vl;
	uint8_t msg[P2PL_MSG_HDR + 8];
	uint64_t now = T0, s;
	struct p2pl_peer *pp, *lp;

	connect_nodes(vw, pub, &ab, &ba, now);
	connect_nodes(liar, vw, &lv, &vl, now);
	pump_all(&ab, &ba, now);
	pump_all(&lv, &vl, now);
	pp = ba.peer;	/* the viewer's peer: the publisher */
	lp = lv.peer;	/* the viewer's peer: the liar */
	for (s = 1; s <= 5; s++) {
		now += 40000;
		p2pl_node_publish(pub, mk(s, now, s == 1 ? P2PL_PIECE_JOIN : 0,
		    500), now);
		pump_all(&ab, &ba, now);
	}
	ok(v.n == 5, "the viewer plays 1..5 (%d)", v.n);
	for (s = 6; s < 6 + 64; s++) {
		memcpy(lv.buf + lv.len, msg, p2pl_wire_u64(msg, P2PL_MSG_HAVE, s));
		lv.len += P2PL_MSG_HDR + 8;
	}
	pump(&lv, now);
	for (int t = 0; t < 3; t++) {
		now += 100000;
		p2pl_node_tick(vw, now);
		vl.len = 0;	/* the liar serves nothing */
		pump_all(&ab, &ba, now);
	}
	ok(pp->strikes == 0 && !ab.dead, "asked for what it has not made, "
	    "the publisher pays nothing (%d points)", pp->strikes);
	ok(lp->strikes > 0 && lp->strikes < STRIKE_MAX,
	    "the unanswered claims cost the liar (%d points)", lp->strikes);
	/* the publisher makes them from 1.2 s after the claim on */
	now += 900000;
	for (s = 6; s <= 30 && !vl.dead; s++) {
		now += 40000;
		p2pl_node_publish(pub, mk(s, now, 0, 500), now);
		pump_all(&ab, &ba, now);
		p2pl_node_tick(vw, now);
	}
	ok(vl.dead && strstr(vl.why, "before they exist") != NULL && !ab.dead,
	    "the liar is dropped once the pieces come later than its claim "
	    "(%s), the publisher kept", vl.dead ? vl.why : "not dropped");
	ok(v.delivered[v.n - 1] == s - 1, "the viewer plays on (%d pieces)",
	    v.n);
	p2pl__strike(pp, STRIKE_MAX, "a test", now);
	p2pl_node_tick(vw, now);
	ok(!ab.dead && pp->state == PEER_READY,
	    "the only source is never dropped for points");
	p2pl_node_free(liar);
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

static void
test_handshake(void)
{
	struct side v = { 0 };
	struct p2pl_key other;
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw;
	static struct link ab, ba;
	uint8_t seed[32] = { 1 };

	/* a viewer of another stream */
	crypto_sign_seed_keypair(other.pk, other.sk, seed);
	struct p2pl_key saved = key;
	key = other;
	vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	key = saved;
	connect_nodes(vw, pub, &ab, &ba, T0);
	ok(pump_all(&ab, &ba, T0) == -1 && (strstr(ab.why, "another stream") ||
	    strstr(ba.why, "another stream")), "another stream's peer refused");
	p2pl_node_peer_del(pub, ab.peer);	/* the publisher's side */
	p2pl_node_free(vw);

	/* silence after the handshake times out */
	vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	connect_nodes(vw, pub, &ab, &ba, T0);
	pump_all(&ab, &ba, T0);
	p2pl_node_tick(pub, T0 + 31000000);
	ok(ba.dead && strcmp(ba.why, "timed out") == 0, "idle peer dropped");
	p2pl_node_peer_del(pub, ab.peer);	/* the publisher's side */
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

static void
test_rate(void)
{
	struct side v = { 0 };
	/* 800 kbit/s = 100000 bytes/s; burst: one 128 KiB message */
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, "800k");
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 10000000, NULL);
	static struct link ab, ba;
	struct p2pl_node_stats st;
	uint64_t now = T0;

	connect_nodes(vw, pub, &ab, &ba, now);
	p2pl_node_tick(pub, now);
	pump_all(&ab, &ba, now);
	for (uint64_t s = 1; s <= 100; s++)
		p2pl_node_publish(pub, mk(s, now, s == 1 ? P2PL_PIECE_JOIN : 0,
		    8000), now);
	pump_all(&ab, &ba, now);
	p2pl_node_stats(pub, &st);
	ok(st.pieces_out < 20, "a burst is capped (%llu of 100 pieces sent)",
	    (unsigned long long)st.pieces_out);
	uint64_t before = st.bytes_out;
	for (int i = 1; i <= 200; i++)
		p2pl_node_tick(pub, now + (uint64_t)i * 10000);
	p2pl_node_stats(pub, &st);
	ok(st.bytes_out - before <= 200000 + 8200 && st.bytes_out - before >
	    150000, "two seconds later ~200000 bytes more (%llu)",
	    (unsigned long long)(st.bytes_out - before));
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

/* The ban list: who is refused after a bad piece, and for how long. */
static void
test_ban(void)
{
	struct side v = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	struct p2pl_node *vw = node(P2PL_ROLE_VIEWER, &v, 1000000, NULL);
	static struct link ab, ba;
	struct p2pl_addr a, got;
	uint64_t now = T0;

	/* the viewer dialled the publisher at 10.0.0.1:7000; a forged piece */
	connect_at(vw, pub, &ab, &ba, "10.0.0.9:7100", "10.0.0.1:7000", now);
	pump_all(&ab, &ba, now);
	ba.tamper = 1;
	p2pl_node_publish(pub, mk(500, now, P2PL_PIECE_JOIN, 1000), now);
	ok(pump_all(&ab, &ba, now) == -1, "forged piece refused: %s", ba.why);
	p2pl_node_peer_del(vw, ba.peer);
	p2pl_node_peer_del(pub, ab.peer);
	ok(!p2pl_node_banned(vw, "10.0.0.1", now),
	    "a peer we dialled does not get its whole host banned");
	p2pl_addr_parse("10.0.0.1:7000", "", 0, &a, NULL, 0);
	p2pl_node_add_candidate(vw, &a, 1);
	ok(p2pl_node_pick(vw, now, &got) == -1, "its address is not dialled");

	/* it comes back from the same host, another port, the same id */
	now += 1000000;
	connect_at(pub, vw, &ab, &ba, "10.0.0.1:40000", "10.0.0.9:7100", now);
	ok(pump_all(&ab, &ba, now) == -1 && strstr(ab.why, "banned"),
	    "same host and id refused at its hello: %s", ab.why);
	p2pl_node_peer_del(vw, ab.peer);
	p2pl_node_peer_del(pub, ba.peer);
	/* the same id from elsewhere: ids are not proof, it is let in */
	connect_at(pub, vw, &ab, &ba, "10.0.0.2:40000", "10.0.0.9:7100", now);
	ok(pump_all(&ab, &ba, now) == 0 && !ab.dead,
	    "same id from another host is let in");
	p2pl_node_peer_del(vw, ab.peer);
	p2pl_node_peer_del(pub, ba.peer);
	/* after the ban's time, welcome again */
	now += 301000000;
	connect_at(pub, vw, &ab, &ba, "10.0.0.1:40001", "10.0.0.9:7100", now);
	ok(pump_all(&ab, &ba, now) == 0 && !ab.dead, "let in once the ban ended");
	ok(p2pl_node_pick(vw, now, &got) == 0 &&
	    strcmp(got.host, "10.0.0.1") == 0 && got.port == 7000,
	    "and dialled again");
	/* a peer that connected to us and then breaks the protocol: its
	 * whole host is refused, checked before accepting */
	ab.len = 0;
	p2pl_wire_header(ab.buf, P2PL_MSG_PEX, 3);
	memcpy(ab.buf + P2PL_MSG_HDR, "\x01\x09\x09", 3);
	ab.len = P2PL_MSG_HDR + 3;
	ok(pump(&ab, now) == -1 && p2pl_node_banned(vw, "10.0.0.1", now) &&
	    !p2pl_node_banned(vw, "10.0.0.2", now),
	    "an incoming peer's malformed message bans its host: %s", ab.why);
	ok(!p2pl_node_banned(vw, "10.0.0.1", now + 301000000),
	    "for 5 minutes");
	struct p2pl_node_stats st;
	p2pl_node_stats(vw, &st);
	ok(st.banned == 2, "two bans counted (%llu)",
	    (unsigned long long)st.banned);
	p2pl_node_free(vw);
	p2pl_node_free(pub);
}

/* True when a message of this type waits on l. */
static int
carries(const struct link *l, uint8_t type)
{
	const uint8_t *body;
	size_t off = 0, len;
	uint8_t t;
	long r;

	while ((r = p2pl_wire_next(l->buf + off, l->len - off, &t, &body,
	    &len, NULL, 0)) > 0) {
		if (t == type)
			return 1;
		off += (size_t)r;
	}
	return 0;
}

/* A viewer that uploads nothing announces nothing: it would be asked. */
static void
test_silent(void)
{
	struct side sa = { 0 }, sb = { 0 };
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, NULL);
	static struct link pa, ap, ab[2], ba[2];
	struct p2pl_node *a, *b[2];
	uint64_t now = T0;
	int i, j, heard = 0;

	for (i = 0; i < 2; i++) {
		a = node(P2PL_ROLE_VIEWER, &sa, 1000000, i == 0 ? "0" : NULL);
		connect_nodes(a, pub, &ap, &pa, now);
		pump_all(&ap, &pa, now);
		for (j = 0; j < 2; j++) {
			b[j] = node(P2PL_ROLE_VIEWER, &sb, 1000000, NULL);
			connect_nodes(b[j], a, &ba[j], &ab[j], now);
			pump_all(&ab[j], &ba[j], now);
			ab[j].len = 0;
		}
		/* a join point, then a piece a pushes to one of the two and
		 * tells the other of */
		p2pl_node_publish(pub, mk(200 + 2 * (uint64_t)i, now,
		    P2PL_PIECE_JOIN, 1000), now);
		pump_all(&ap, &pa, now);
		ab[0].len = ab[1].len = 0;
		p2pl_node_publish(pub, mk(201 + 2 * (uint64_t)i, now, 0, 1000),
		    now);
		pump_all(&ap, &pa, now);
		for (j = 0; j < 2; j++) {
			heard |= carries(&ab[j], P2PL_MSG_HAVE) << i;
			p2pl_node_free(b[j]);
		}
		p2pl_node_peer_del(pub, ap.peer);
		p2pl_node_free(a);
	}
	ok(heard == 2, "-u 0 sends no HAVE, the default does (%d)", heard);
	p2pl_node_free(pub);
}

/* Relay-only viewers choose the publisher as parent of every substream;
 * it takes on what its cap allows and pushes those at once. */
static void
test_parents(void)
{
	static struct side sv[3];
	static struct link ab[3], ba[3];
	struct p2pl_node *pub = node(P2PL_ROLE_PUBLISHER, NULL, 0, "2x");
	struct p2pl_node *vw[3];
	struct p2pl_node_stats st;
	uint64_t now = T0, seq;
	int i, k, pushed = 1;

	for (i = 0; i < 3; i++) {
		vw[i] = node(P2PL_ROLE_VIEWER, &sv[i], 1000000,
		    i == 2 ? "0" : NULL);
		vw[i]->cfg.relay_only = 1;
		connect_nodes(vw[i], pub, &ab[i], &ba[i], now);
		pump_all(&ab[i], &ba[i], now);
	}
	/* the viewers choose one after the other */
	for (i = 0; i < 3; i++) {
		now += 300000;
		p2pl_node_tick(vw[i], now);
		pump_all(&ab[i], &ba[i], now);
	}
	ok(ba[0].peer->chose == 0xff && vw[0]->parent[5] == ba[0].peer,
	    "the first has all 8 substreams pushed (%#x)", ba[0].peer->chose);
	ok(ba[1].peer->chose == 0x0f && vw[1]->parent[4] == NULL &&
	    ba[1].peer->refused[4] > now,
	    "the second 4: a 2x publisher pushes 12 (%#x)", ba[1].peer->chose);
	ok(ba[2].peer->chose == 0, "the third none (%#x)", ba[2].peer->chose);
	for (seq = 100; seq <= 140; seq++) {
		now += 50000;
		p2pl_node_publish(pub, mk(seq, now, seq % 20 == 0 ?
		    P2PL_PIECE_JOIN : 0, 1000), now);
		p2pl_node_tick(pub, now);
		for (i = 0; i < 3; i++)
			pump_all(&ab[i], &ba[i], now);
	}
	for (i = 0; i < sv[0].n; i++)
		if (sv[0].delivered[i] != 100 + (uint64_t)i)
			pushed = 0;
	p2pl_node_stats(vw[0], &st);
	ok(pushed && sv[0].n == 41 && st.requests == 0,
	    "every piece reached it on publishing, unasked (%d played from %llu, "
	    "%llu requests)", sv[0].n, sv[0].n ?
	    (unsigned long long)sv[0].delivered[0] : 0ULL,
	    (unsigned long long)st.requests);
	/* a mask beyond the substreams is a broken message */
	now += 1000;
	ab[0].len = p2pl_wire_u64(ab[0].buf, P2PL_MSG_CHOOSE, 0x100);
	ok(pump(&ab[0], now) == -1 && strstr(ab[0].why, "substream"),
	    "CHOOSE of substream 8 refused: %s", ab[0].why);
	for (k = 0, i = 0; k < SUBS; k++)
		i += vw[0]->parent[k] != NULL;
	ok(i == 8, "the viewer's parents stand until the peer is gone");
	for (i = 0; i < 3; i++)
		p2pl_node_free(vw[i]);
	p2pl_node_free(pub);
}

int
main(void)
{
	uint8_t seed[32] = { 42 };

	if (sodium_init() < 0)
		return 1;
	crypto_sign_seed_keypair(key.pk, key.sk, seed);
	test_live();
	test_gap_and_restart();
	test_request_count();
	test_claims();
	test_handshake();
	test_rate();
	test_ban();
	test_parents();
	test_silent();
	return tap_done();
}
