/*
 * ctl.h - the control socket: every running program answers on a Unix
 * socket so that p2pl-top can find and watch it.
 *
 * The socket is DIR/PROG.PID.sock, where DIR is $XDG_RUNTIME_DIR/p2pl
 * when XDG_RUNTIME_DIR is an absolute path, else /tmp/p2pl-UID.  DIR is
 * created with mode 0700 and used only if it is a real directory (not a
 * link) owned by us that nobody else may enter.  A client connects and
 * reads: the program writes its current stats lines (one JSON object per
 * line, per stream) and closes.  See p2pl(7), "CONTROL SOCKET".
 */
#ifndef P2PL_CTL_H
#define P2PL_CTL_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <stddef.h>

struct p2pl_ctl;

/* Appends the program's current stats lines to out. */
typedef void (*p2pl_ctl_fn)(void *arg, struct evbuffer *out);

/*
 * The control directory's path into buf; with create, make it if need
 * be.  -1 with err set if it cannot be made or is not safe to use.
 */
int p2pl_ctl_dir(char *buf, size_t len, int create, char *err,
    size_t errlen);
/* Listen on DIR/PROG.PID.sock; NULL with err set on failure. */
struct p2pl_ctl *p2pl_ctl_new(struct event_base *base, const char *prog,
    p2pl_ctl_fn fn, void *arg, char *err, size_t errlen);
/* Stop listening and remove the socket. */
void p2pl_ctl_free(struct p2pl_ctl *c);
const char *p2pl_ctl_path(const struct p2pl_ctl *c);

#endif
