/*
 * dht-int.h - the insides of a DHT node, shared by dht.c (messages and
 * timers), dhtsearch.c (searches) and dhttab.c (addresses, routing
 * table, peer store, tokens, saved state).  Not an API.
 */
#ifndef P2PL_DHT_INT_H
#define P2PL_DHT_INT_H

#include "dht.h"
#include "krpc.h"

#include <stdint.h>

#define SEC 1000000ULL
#define NPEND 64		/* pings and find_nodes in flight */
#define QUERY_TIMEOUT (2 * SEC)
#define GOOD_AGE (15 * 60 * SEC)	/* a node heard from this recently */
#define PEER_AGE (30 * 60 * SEC)	/* stored peers expire */
#define TOKLEN 8

/* An address: fam 4 or 6, the IPv4 address in ip[0..3]. */
struct dht_addr {
	uint8_t fam;
	uint8_t ip[16];
	uint16_t port;
};

struct dht_node {
	uint8_t id[20];
	struct dht_addr a;
	uint8_t used, confirmed, fails;
	uint64_t seen;		/* last query or reply from it */
	uint64_t pinged;	/* last ping we sent it */
};

struct dht_table {
	struct dht_node b[160][P2PL_DHT_K];
	int n;
};

/* a ping or find_node in flight, outside any search */
struct dht_pend {
	uint8_t used, tid[4];
	struct dht_addr a;
	uint64_t sent;
};

enum { SN_NEW, SN_SENT, SN_REPLIED, SN_FAILED };

struct dht_snode {
	uint8_t id[20];
	struct dht_addr a;
	uint8_t state, tries, noid, toklen;
	uint8_t token[P2PL_KRPC_TOKMAX];
	uint64_t sent;
};

struct dht_search {
	uint8_t used, internal, fam;
	uint8_t ih[20];
	uint16_t port, gen;
	uint64_t started;
	int n;			/* s[0..n-1], closest first */
	struct dht_snode s[P2PL_DHT_SEARCH_NODES];
	int npeers;		/* peers reported (seen[] holds 64 of them) */
	struct dht_addr seen[64];
};

struct dht_speer {
	struct dht_addr a;
	uint64_t t;
};

struct dht_store {
	uint8_t ih[20];
	int n;
	uint64_t t;		/* last announce */
	struct dht_speer p[P2PL_DHT_STORE_PEERS];
};

struct p2pl_dht {
	struct p2pl_dht_cfg cfg;
	uint8_t id[20];
	uint64_t now;
	struct dht_table tab[2];	/* IPv4, IPv6 */
	struct dht_pend pend[NPEND];
	struct dht_search search[P2PL_DHT_SEARCHES];
	struct dht_store store[P2PL_DHT_STORE_HASHES];
	struct dht_addr boot[P2PL_DHT_BOOTSTRAP];
	int nboot;
	uint8_t secret[32], oldsecret[32];
	uint64_t rotate_at, boot_at, self_at, log_at;
	int logs;		/* messages logged since log_at */
	struct p2pl_dht_stats st;
};

/* dhttab.c */
int dht_addr_from_sa(const struct sockaddr *sa, socklen_t len,
    struct dht_addr *a);
socklen_t dht_addr_to_sa(const struct dht_addr *a,
    struct sockaddr_storage *ss);
int dht_addr_usable(const struct dht_addr *a);
int dht_addr_eq(const struct dht_addr *a, const struct dht_addr *b);
char *dht_addr_fmt(const struct dht_addr *a, char *out, size_t outlen);
/* compact peer (6 or 18 bytes) or node address part */
void dht_addr_put(const struct dht_addr *a, uint8_t *p);
int dht_addr_get(const uint8_t *p, size_t len, struct dht_addr *a);
/* is a closer to target than b */
int dht_closer(const uint8_t *target, const uint8_t *a, const uint8_t *b);

void dht_table_heard(struct p2pl_dht *d, const uint8_t *id,
    const struct dht_addr *a, int replied);
void dht_table_failed(struct p2pl_dht *d, const struct dht_addr *a);
int dht_table_has_room(struct p2pl_dht *d, const uint8_t *id, int fam);
/* the closest usable nodes of family fam to target, up to max */
int dht_table_closest(struct p2pl_dht *d, int fam, const uint8_t *target,
    struct dht_node **out, int max);
void dht_table_refresh(struct p2pl_dht *d);

void dht_token(const struct p2pl_dht *d, const struct dht_addr *a, int old,
    uint8_t out[TOKLEN]);
void dht_store_add(struct p2pl_dht *d, const uint8_t *ih,
    const struct dht_addr *a);
struct dht_store *dht_store_find(struct p2pl_dht *d, const uint8_t *ih);
void dht_store_expire(struct p2pl_dht *d);

/* Which family to ask nodes of: the asker's own. */
static inline int
dht_want_of(const struct dht_addr *a)
{
	return a->fam == 4 ? P2PL_KRPC_WANT4 : P2PL_KRPC_WANT6;
}

/* dht.c */
void dht_send_msg(struct p2pl_dht *d, const struct dht_addr *a,
    const struct p2pl_krpc *m);
void dht_logf(struct p2pl_dht *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int dht_send_query(struct p2pl_dht *d, const struct dht_addr *a, int q,
    const uint8_t *target);

/* dhtsearch.c */
void dht_search_start(struct p2pl_dht *d, struct dht_search *s,
    const uint8_t *ih, int fam, uint16_t port, int internal);
/* the running search for ih in fam, else a free slot, else NULL */
struct dht_search *dht_search_slot(struct p2pl_dht *d, const uint8_t *ih,
    int fam);
void dht_search_step(struct p2pl_dht *d, struct dht_search *s);
/* a reply or error with a search's transaction id; -1 if it is none */
int dht_search_reply(struct p2pl_dht *d, const struct p2pl_krpc *m,
    const struct dht_addr *from);
/* nodes from a reply: to search s (may be NULL), pinged if there's room */
void dht_take_nodes(struct p2pl_dht *d, struct dht_search *s,
    const uint8_t *p, size_t len, size_t sz);

#endif
