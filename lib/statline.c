/* statline.c - a node's fields and neighbours in a stats line. */
#include "statline.h"

#include <stdio.h>

static const char *const roles[] = { "viewer", "publisher", "relay" };

static const char *
role_name(int role)
{
	return role >= 0 && role < 3 ? roles[role] : "unknown";
}

/* One neighbour's object in the array. */
static void
neighbour(struct p2pl_json *j, const struct p2pl_peer *p,
    const struct p2pl_hello *h)
{
	const struct p2pl_peer_stats *ps = p2pl_peer_stats(p);
	char addr[80], id[2 * 4 + 1];
	int64_t behind = p2pl_peer_behind(p);

	snprintf(id, sizeof(id), "%02x%02x%02x%02x", h->id[0], h->id[1],
	    h->id[2], h->id[3]);
	p2pl_addr_format(p2pl_peer_addr(p), addr, sizeof(addr));
	p2pl_json_item(j);
	p2pl_json_str(j, "addr", addr);
	p2pl_json_str(j, "id", id);
	p2pl_json_str(j, "dir", p2pl_peer_outgoing(p) ? "out" : "in");
	p2pl_json_str(j, "role", role_name(p2pl_peer_role(p)));
	p2pl_json_u64(j, "down_rate", ps->rate_in);
	p2pl_json_u64(j, "up_rate", ps->rate_out);
	p2pl_json_u64(j, "down_bytes", ps->bytes_in);
	p2pl_json_u64(j, "up_bytes", ps->bytes_out);
	p2pl_json_u64(j, "pieces_in", ps->pieces_in);
	p2pl_json_u64(j, "pieces_out", ps->pieces_out);
	p2pl_json_u64(j, "dups", ps->dups);
	p2pl_json_num(j, "rtt", (double)p2pl_peer_rtt(p) / 1e6);
	p2pl_json_num(j, "behind", behind < 0 ? -1 : (double)behind / 1e6);
	p2pl_json_item_end(j);
}

void
p2pl_statline_node(struct p2pl_json *j, const struct p2pl_node *n)
{
	struct p2pl_node_stats ns;
	const struct p2pl_peer_stats *ps;
	const struct p2pl_hello *h;
	struct p2pl_peer *p;
	char id[2 * 4 + 1];
	const uint8_t *id8;
	int pass, listed = 0, all = 0;

	p2pl_node_stats(n, &ns);
	id8 = p2pl_node_id(n);
	snprintf(id, sizeof(id), "%02x%02x%02x%02x", id8[0], id8[1], id8[2],
	    id8[3]);
	p2pl_json_str(j, "id", id);
	p2pl_json_u64(j, "bitrate", ns.bitrate);
	p2pl_json_u64(j, "peers", (uint64_t)ns.peers);
	p2pl_json_u64(j, "down_bytes", ns.bytes_in);
	p2pl_json_u64(j, "up_bytes", ns.bytes_out);
	p2pl_json_u64(j, "down_rate", ns.rate_in);
	p2pl_json_u64(j, "up_rate", ns.rate_out);
	p2pl_json_u64(j, "bad", ns.bad);
	p2pl_json_u64(j, "dups", ns.dups);
	p2pl_json_u64(j, "requests", ns.requests);
	p2pl_json_u64(j, "banned", ns.banned);
	/* those moving bytes first, then the idle, P2PL_STATLINE_NEIGHBOURS
	 * at most: the rest are only counted */
	for (p = p2pl_node_peers(n); p != NULL; p = p2pl_peer_next(p))
		if (p2pl_peer_hello(p) != NULL)
			all++;
	if (all > P2PL_STATLINE_NEIGHBOURS)
		p2pl_json_u64(j, "neighbours_unlisted",
		    (uint64_t)(all - P2PL_STATLINE_NEIGHBOURS));
	p2pl_json_array(j, "neighbours");
	for (pass = 0; pass < 2; pass++)
		for (p = p2pl_node_peers(n); p != NULL; p = p2pl_peer_next(p)) {
			if ((h = p2pl_peer_hello(p)) == NULL)
				continue;	/* not one until its hello */
			ps = p2pl_peer_stats(p);
			if ((ps->rate_in + ps->rate_out == 0) != pass)
				continue;
			if (listed++ < P2PL_STATLINE_NEIGHBOURS)
				neighbour(j, p, h);
		}
	p2pl_json_array_end(j);
}
