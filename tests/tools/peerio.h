/*
 * peerio.h - the one place where the test tools open, read and write peer
 * connections, in the encrypted channel of lib/secure.h: the tools speak
 * the protocol through it.  key is the stream's public key, which binds
 * the channel.
 *
 * Not a library module: it is compiled into each tool that includes it.
 */
#ifndef PEERIO_H
#define PEERIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Connect to host:port from source address src (NULL: any); the fd is
 * non-blocking once connected.  -1 with errno set. */
int peerio_connect(const char *src, const char *host, int port,
    const uint8_t *key);
/* Listen on host:port (0: any free port); the bound port to *bound. */
int peerio_listen(const char *host, int port, int *bound);
/* Accept one connection (non-blocking fd), -1 if none waits. */
int peerio_accept(int lfd, const uint8_t *key);
/* Send all len bytes (waits while the socket is full); -1 on error. */
int peerio_send(int fd, const void *buf, size_t len);
/* Receive up to cap bytes of the opened stream: >0, 0 at EOF, -1 with
 * errno (EAGAIN too: no whole frame yet; EPROTO: a frame did not open). */
ssize_t peerio_recv(int fd, void *buf, size_t cap);
void peerio_close(int fd);

#endif
