/* peerio.c - plaintext peer connections for the test tools; see peerio.h. */
#include "peerio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
sin_of(const char *host, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int
peerio_connect(const char *src, const char *host, int port,
    const uint8_t *key)
{
	struct sockaddr_in sa;
	int fd, e;

	(void)key;
	if (sin_of(host, port, &sa) == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (src != NULL) {
		struct sockaddr_in me;

		if (sin_of(src, 0, &me) == -1 ||
		    bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	tune(fd);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
peerio_listen(const char *host, int port, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if (sin_of(host, port, &sa) == -1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*bound = ntohs(sa.sin_port);
	return fd;
}

int
peerio_accept(int lfd, const uint8_t *key)
{
	int fd;

	(void)key;
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return -1;
	tune(fd);
	return fd;
}

int
peerio_send(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t w;

	while (len > 0) {
		w = send(fd, p, len, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			/* a peer that reads nothing for a second is given up */
			if (poll(&pfd, 1, 1000) <= 0)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t
peerio_recv(int fd, void *buf, size_t cap)
{
	return recv(fd, buf, cap, 0);
}

void
peerio_close(int fd)
{
	close(fd);
}
