/*
 * fuzz-source.c - p2pl_source on hostile media files: each input is
 * opened, remuxed and cut, then opened and run again as after a lost
 * camera, so that its timestamps, whatever they are, go through the
 * shifting that keeps the output's increasing.  Every chunk must be whole
 * MPEG-TS packets within the piece size.
 */
#include "source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PIECE 4096

static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/p2pl-fuzz-source.%d", (int)getpid());
	p2pl_source_loglevel(0);
	return 0;
}

static int
check(void *arg, const uint8_t *data, size_t len, unsigned flags)
{
	size_t i;

	(void)arg;
	(void)flags;
	if (len == 0 || len % 188 != 0 || len > PIECE)
		abort();
	for (i = 0; i < len; i += 188)
		if (data[i] != 0x47)
			abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, 0 };
	struct p2pl_source *src;
	char err[256];
	int fd, i;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if ((src = p2pl_source_new(path, &cfg, err, sizeof(err))) == NULL)
		abort();
	for (i = 0; i < 2; i++) {
		if (p2pl_source_reopen(src, NULL, err, sizeof(err)) < 0)
			break;
		p2pl_source_run(src, check, NULL, NULL, err, sizeof(err));
	}
	p2pl_source_free(src);
	return 0;
}
