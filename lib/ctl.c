/* ctl.c - the control socket p2pl-top reads stats from. */
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENTS_MAX 32		/* answers being written at once */

struct p2pl_ctl {
	struct evconnlistener *lev;
	p2pl_ctl_fn fn;
	void *arg;
	int clients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

int
p2pl_ctl_dir(char *buf, size_t len, int create, char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/p2pl", xdg);
	else
		n = snprintf(buf, len, "/tmp/p2pl-%lu", (unsigned long)getuid());
	if (n < 0 || (size_t)n >= len) {
		p2pl_seterr(err, errlen, "control directory name too long");
		return -1;
	}
	if (create && mkdir(buf, 0700) == -1 && errno != EEXIST) {
		p2pl_seterr(err, errlen, "cannot make %s: %s", buf,
		    strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) == -1) {
		p2pl_seterr(err, errlen, "%s: %s", buf, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0) {
		p2pl_seterr(err, errlen, "%s is not a private directory of "
		    "ours (want mode 0700, owner uid %lu)", buf,
		    (unsigned long)getuid());
		return -1;
	}
	return 0;
}

static void
client_done(struct bufferevent *bev, void *arg)
{
	struct p2pl_ctl *c = arg;

	bufferevent_free(bev);
	c->clients--;
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	client_done(bev, arg);
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct p2pl_ctl *c = arg;
	struct bufferevent *bev;
	struct timeval tv = { 2, 0 };

	(void)sa;
	(void)salen;
	if (c->clients >= CLIENTS_MAX ||
	    (bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->clients++;
	c->fn(c->arg, bufferevent_get_output(bev));
	bufferevent_setcb(bev, NULL, client_done, client_event, c);
	bufferevent_set_timeouts(bev, NULL, &tv);
	bufferevent_enable(bev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_done(bev, c);
}

struct p2pl_ctl *
p2pl_ctl_new(struct event_base *base, const char *prog, p2pl_ctl_fn fn,
    void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct p2pl_ctl *c;
	char dir[sizeof(sun.sun_path)];
	int fd, n;

	if (p2pl_ctl_dir(dir, sizeof(dir), 1, err, errlen) == -1)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		p2pl_seterr(err, errlen, "out of memory");
		return NULL;
	}
	c->fn = fn;
	c->arg = arg;
	n = snprintf(c->path, sizeof(c->path), "%s/%s.%ld.sock", dir, prog,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		p2pl_seterr(err, errlen, "control socket name too long");
		free(c);
		return NULL;
	}
	memcpy(sun.sun_path, c->path, (size_t)n + 1);
	unlink(c->path);	/* a dead process's, with our pid */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(c->path, 0600) == -1 || listen(fd, 16) == -1 ||
	    (c->lev = evconnlistener_new(base, on_accept, c,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd)) == NULL) {
		p2pl_seterr(err, errlen, "control socket %s: %s", c->path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void
p2pl_ctl_free(struct p2pl_ctl *c)
{
	if (c == NULL)
		return;
	evconnlistener_free(c->lev);
	unlink(c->path);
	free(c);
}

const char *
p2pl_ctl_path(const struct p2pl_ctl *c)
{
	return c->path;
}
