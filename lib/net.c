/*
 * net.c - the libevent driver of a protocol node: the node's callbacks
 * (bytes to a connection, pieces delivered, peers dropped), the listener
 * and accepting, dialling candidates, seeds and trackers, the tick, and
 * a driver's life.  One connection's bytes and frames are in netconn.c.
 */
#include "net-int.h"

void
p2pl__net_log(struct p2pl_net *net, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (net->cb.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	net->cb.log(net->cb.arg, level, msg);
}

static void
schedule(struct p2pl_net *net, uint64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000), (suseconds_t)(us % 1000000) };

	evtimer_add(net->tick_ev, &tv);
}

/*
 * Tick once the callbacks of this turn of the loop are done: the reads
 * of many connections that woke together share one tick.
 */
void
p2pl__net_tick_soon(struct p2pl_net *net)
{
	event_active(net->tick_ev, EV_TIMEOUT, 1);
}

void
p2pl__net_tick(struct p2pl_net *net)
{
	struct p2pl_node_stats st;

	schedule(net, p2pl_node_tick(net->node, p2pl_wall_us()));
	p2pl__net_dial_more(net);
	if (net->ntrackers > 0) {
		p2pl_node_stats(net->node, &st);
		for (int i = 0; i < net->ntrackers; i++)
			p2pl_tracker_set_counts(net->trackers[i].t,
			    st.bytes_out, st.bytes_in);
	}
}

static void
dial(struct p2pl_net *net, const struct p2pl_addr *a)
{
	struct bufferevent *bev;
	struct conn *c;
	char name[300];

	bev = bufferevent_socket_new(net->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return;
	if ((c = p2pl__conn_new(net, bev, 1, a, NULL)) == NULL) {
		bufferevent_free(bev);
		p2pl_node_dial_failed(net->node, a, 0, p2pl_wall_us());
		return;
	}
	p2pl__net_log(net, P2PL_LOG_DEBUG, "%s: dialling",
	    p2pl_addr_format(a, name, sizeof(name)));
	if (bufferevent_socket_connect_hostname(bev, net->dns, AF_UNSPEC,
	    a->host, a->port) == -1)
		p2pl__conn_close(c, "cannot connect", 0);
}

/* Keep want_out outgoing connections, from the node's candidates. */
void
p2pl__net_dial_more(struct p2pl_net *net)
{
	struct p2pl_addr a;
	uint64_t now = p2pl_wall_us();

	while (p2pl_node_outgoing(net->node) < net->want_out &&
	    p2pl_node_pick(net->node, now, &a) == 0)
		dial(net, &a);
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct p2pl_net *net = arg;
	struct bufferevent *bev;
	struct p2pl_addr a;
	int one = 1;

	(void)lis;
	(void)salen;
	memset(&a, 0, sizeof(a));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, a.host, sizeof(a.host));
		a.port = ntohs(s6->sin6_port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &s4->sin_addr, a.host, sizeof(a.host));
		a.port = ntohs(s4->sin_port);
	}
	if (p2pl_node_banned(net->node, a.host, p2pl_wall_us())) {
		evutil_closesocket(fd);	/* it misbehaved: not again yet */
		p2pl__net_log(net, P2PL_LOG_DEBUG, "%s:%u: banned, refused",
		    a.host, a.port);
		return;
	}
	bev = bufferevent_socket_new(net->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	if (p2pl__conn_new(net, bev, 0, &a, NULL) == NULL) {
		bufferevent_free(bev);	/* full: refused */
		return;
	}
	p2pl__net_log(net, P2PL_LOG_DEBUG, "%s:%u: accepted", a.host, a.port);
}

static void
lis_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(((struct p2pl_net *)arg)->lis);
}

/* Out of descriptors: stop accepting for a second instead of spinning. */
static void
on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct p2pl_net *net = arg;
	struct timeval tv = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	p2pl__net_log(net, P2PL_LOG_WARN, "accept: %s",
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(lis);
	evtimer_add(net->lis_ev, &tv);
}

struct evconnlistener *
p2pl_listen(struct event_base *base, const struct p2pl_addr *a,
    evconnlistener_cb cb, void *arg, struct p2pl_addr *bound, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct evconnlistener *lis;
	char port[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints, &res);
	if (rc != 0) {
		p2pl_seterr(err, errlen, "%s: %s", a->host, gai_strerror(rc));
		return NULL;
	}
	lis = evconnlistener_new_bind(base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (lis == NULL) {
		p2pl_seterr(err, errlen, "cannot listen on %s:%u: %s", a->host,
		    a->port, strerror(errno));
		return NULL;
	}
	*bound = *a;
	if (getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&ss,
	    &sslen) == 0)
		bound->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	return lis;
}

int
p2pl_net_listen(struct p2pl_net *net, const struct p2pl_addr *a,
    struct p2pl_addr *bound, char *err, size_t errlen)
{
	net->lis = p2pl_listen(net->base, a, on_accept, net, bound, err,
	    errlen);
	if (net->lis == NULL)
		return -1;
	evconnlistener_set_error_cb(net->lis, on_accept_error);
	p2pl_net_set_port(net, bound->port);
	return 0;
}

void
p2pl_net_set_port(struct p2pl_net *net, uint16_t port)
{
	p2pl_node_set_port(net->node, port);
	net->port = port;
}

int
p2pl_net_adopt(struct p2pl_net *net, struct bufferevent *bev,
    const struct p2pl_addr *remote, const struct p2pl_sec *sec)
{
	struct conn *c = p2pl__conn_new(net, bev, 0, remote, sec);

	if (c == NULL)
		return -1;
	/* its first frames are waiting already */
	p2pl__conn_read(bev, c);
	return 0;
}

int
p2pl_net_add_seed(struct p2pl_net *net, const struct p2pl_addr *a)
{
	if (net->nseeds == SEEDS_MAX)
		return -1;
	net->seeds[net->nseeds++] = *a;
	p2pl_node_add_candidate(net->node, a, 1);
	p2pl__net_dial_more(net);
	return 0;
}

void
p2pl_net_add_peers(struct p2pl_net *net, const struct p2pl_addr *a, int n)
{
	for (int i = 0; i < n; i++)
		p2pl_node_add_candidate(net->node, &a[i], 0);
	p2pl__net_dial_more(net);
}

int
p2pl_net_set_download(struct p2pl_net *net, uint64_t bytes_per_s)
{
	size_t rate = bytes_per_s > EV_RATE_LIMIT_MAX ? EV_RATE_LIMIT_MAX :
	    (size_t)bytes_per_s;

	net->down_cfg = ev_token_bucket_cfg_new(rate, rate / 4 + P2PL_MSG_MAX,
	    EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, NULL);
	if (net->down_cfg == NULL)
		return -1;
	net->down = bufferevent_rate_limit_group_new(net->base, net->down_cfg);
	return net->down == NULL ? -1 : 0;
}

void
p2pl_net_set_outgoing(struct p2pl_net *net, int n)
{
	net->want_out = n;
}

void
p2pl_swarm_id(const uint8_t key[P2PL_KEYLEN], uint8_t id[20])
{
	static const char ctx[] = "p2pl-swarm-1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 20);
	crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof(ctx) - 1);
	crypto_generichash_update(&st, key, P2PL_KEYLEN);
	crypto_generichash_final(&st, id, 20);
}

static void
tracker_peers(void *arg, const struct p2pl_addr *peers, int n)
{
	struct tracked *t = arg;

	if (t->failing)
		p2pl__net_log(t->net, P2PL_LOG_WARN,
		    "tracker %s: answers again", t->url);
	else
		p2pl__net_log(t->net, P2PL_LOG_INFO, "tracker %s: %d peers",
		    t->url, n);
	t->failing = 0;
	p2pl_net_add_peers(t->net, peers, n);
}

static void
tracker_error(void *arg, const char *why)
{
	struct tracked *t = arg;

	/* one line per outage, not one per retry */
	p2pl__net_log(t->net, t->failing ? P2PL_LOG_INFO : P2PL_LOG_WARN,
	    "tracker %s: %s", t->url, why);
	t->failing = 1;
}

int
p2pl_net_add_tracker(struct p2pl_net *net, const char *url, char *err,
    size_t errlen)
{
	struct tracked *t = &net->trackers[net->ntrackers];
	struct p2pl_tracker_cb cb = { t, tracker_peers, tracker_error };
	uint8_t hash[20], id[20];

	if (net->ntrackers == TRACKERS_MAX) {
		p2pl_seterr(err, errlen, "too many trackers");
		return -1;
	}
	memcpy(id, "-PL0001-", 8);
	randombytes_buf(id + 8, 12);
	p2pl_swarm_id(net->key, hash);
	t->net = net;
	snprintf(t->url, sizeof(t->url), "%s", url);
	t->t = p2pl_tracker_new(net->base, net->dns, url, hash, id, net->port, &cb, err,
	    errlen);
	if (t->t == NULL)
		return -1;
	net->ntrackers++;
	return 0;
}

void
p2pl_net_publish(struct p2pl_net *net, struct p2pl_piece *p)
{
	p2pl_node_publish(net->node, p, p2pl_wall_us());
	p2pl__net_tick(net);
}

static void
node_send(void *arg, void *conn, const uint8_t *data, size_t len,
    struct p2pl_piece *piece)
{
	struct conn *c = conn;

	(void)arg;
	(void)piece;	/* sealing copies it anyway */
	if (evbuffer_get_length(c->pending) == 0 && c->sec.keyed)
		event_active(c->seal_ev, 0, 0);
	evbuffer_add(c->pending, data, len);
}

static size_t
node_backlog(void *arg, void *conn)
{
	(void)arg;
	const struct conn *c = conn;

	return evbuffer_get_length(bufferevent_get_output(c->bev)) +
	    evbuffer_get_length(c->held) + evbuffer_get_length(c->pending);
}

static void
node_deliver(void *arg, struct p2pl_piece *p)
{
	struct p2pl_net *net = arg;

	if (net->cb.deliver != NULL)
		net->cb.deliver(net->cb.arg, p);
}

static void
node_drop(void *arg, void *conn, const char *why)
{
	struct conn *c = conn;

	(void)arg;
	p2pl__conn_close(c, why, c->peer != NULL && p2pl_peer_banned(c->peer));
}

/* P2PL_NET_DELAY: milliseconds, 0 to 10000, into *us; -1 if bad. */
static int
delay_env(uint64_t *us, char *err, size_t errlen)
{
	const char *s = getenv("P2PL_NET_DELAY");
	char *end;
	long ms;

	*us = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	ms = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || ms < 0 || ms > 10000) {
		p2pl_seterr(err, errlen, "P2PL_NET_DELAY: want milliseconds "
		    "from 0 to 10000, not \"%.32s\"", s);
		return -1;
	}
	*us = (uint64_t)ms * 1000;
	return 0;
}

/*
 * Descriptors for that many peers: the soft limit raised toward the
 * hard one until it holds them, the connections still waiting for their
 * HELLO and FD_SPARE more.  Returns how many peers fit: peers, or fewer
 * when the hard limit is short.
 */
static int
fd_room(int peers, rlim_t *limit)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)peers + FD_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return peers;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ?
		    rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	*limit = rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return peers;
	return rl.rlim_cur > FD_SPARE + PEERS_MIN ?
	    (int)(rl.rlim_cur - FD_SPARE) : PEERS_MIN;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	p2pl__net_tick(arg);
}

struct p2pl_net *
p2pl_net_new(struct event_base *base, const struct p2pl_node_cfg *cfg,
    const struct p2pl_net_cb *cb, char *err, size_t errlen)
{
	struct p2pl_net *net;
	struct p2pl_node_cb ncb = {
		.send = node_send, .backlog = node_backlog,
		.deliver = node_deliver, .drop = node_drop,
	};
	struct p2pl_node_cfg ncfg = *cfg;
	uint64_t delay;
	rlim_t limit = 0;
	int room;

	if (delay_env(&delay, err, errlen) == -1)
		return NULL;
	if (ncfg.max_peers == 0)
		ncfg.max_peers = cfg->role == P2PL_ROLE_VIEWER ?
		    P2PL_NET_VIEWER_PEERS : P2PL_NET_SERVER_PEERS;
	room = fd_room(ncfg.max_peers, &limit);
	if ((net = calloc(1, sizeof(*net))) == NULL)
		goto fail;
	net->delay = delay;
	net->base = base;
	net->cb = *cb;
	memcpy(net->key, cfg->key, P2PL_KEYLEN);
	ncb.arg = net;
	if (room < ncfg.max_peers)
		p2pl__net_log(net, P2PL_LOG_WARN, "%llu descriptors (ulimit -n) "
		    "hold %d connections, not %d: keeping at most %d",
		    (unsigned long long)limit, room, ncfg.max_peers, room);
	ncfg.max_peers = room;
	net->node = p2pl_node_new(&ncfg, &ncb);
	net->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (net->dns == NULL)	/* no resolv.conf: numeric addresses only */
		net->dns = evdns_base_new(base, 0);
	net->tick_ev = evtimer_new(base, on_tick, net);
	net->lis_ev = evtimer_new(base, lis_resume, net);
	net->stage = evbuffer_new();
	net->want_out = WANT_OUT;
	if (delay > 0)
		p2pl__net_log(net, P2PL_LOG_WARN, "P2PL_NET_DELAY: holding "
		    "every connection's outgoing bytes %llu ms (a testing knob)",
		    (unsigned long long)(delay / 1000));
	if (net->node == NULL || net->dns == NULL || net->tick_ev == NULL ||
	    net->lis_ev == NULL || net->stage == NULL)
		goto fail;
	p2pl__net_tick(net);
	return net;
fail:
	p2pl_seterr(err, errlen, "out of memory");
	p2pl_net_free(net);
	return NULL;
}

struct p2pl_node *
p2pl_net_node(struct p2pl_net *net)
{
	return net->node;
}

void
p2pl_net_free(struct p2pl_net *net)
{
	if (net == NULL)
		return;
	/* conns are found through the node's peers; close them first */
	while (p2pl_node_first_conn(net->node) != NULL) {
		struct conn *c = p2pl_node_first_conn(net->node);
		p2pl_node_peer_del(net->node, c->peer);
		p2pl__conn_free(c);
	}
	for (int i = 0; i < net->ntrackers; i++)
		p2pl_tracker_free(net->trackers[i].t);
	if (net->lis != NULL)
		evconnlistener_free(net->lis);
	if (net->tick_ev != NULL)
		event_free(net->tick_ev);
	if (net->down != NULL)
		bufferevent_rate_limit_group_free(net->down);
	if (net->down_cfg != NULL)
		ev_token_bucket_cfg_free(net->down_cfg);
	if (net->lis_ev != NULL)
		event_free(net->lis_ev);
	if (net->dns != NULL)
		evdns_base_free(net->dns, 0);
	if (net->stage != NULL)
		evbuffer_free(net->stage);
	p2pl_node_free(net->node);
	free(net);
}
