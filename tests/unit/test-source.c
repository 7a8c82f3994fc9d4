/*
 * test-source.c - p2pl_source on real streams made with the ffmpeg CLI:
 * chunk sizes, join points that start with a PAT and decode, and clear
 * errors for garbage, empty and VP9 inputs.
 */
#include "source.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIECE 16384
#define CAP (PIECE / 188 * 188)

struct chunks {
	uint8_t **data;
	size_t *len;
	unsigned *flags;
	size_t n;
	size_t stop_at;		/* set *stop after this many chunks, 0 = never */
	size_t fail_at;		/* return -1 after this many chunks, 0 = never */
	volatile int *stop;
};

static char dir[] = "/tmp/p2pl-test-source.XXXXXX";
static int failed, ntest;

static void
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failed = 1;
}

/* Run a shell command; its exit status. */
static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *
path(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int
collect(void *arg, const uint8_t *data, size_t len, unsigned flags)
{
	struct chunks *c = arg;

	c->data = realloc(c->data, (c->n + 1) * sizeof(*c->data));
	c->len = realloc(c->len, (c->n + 1) * sizeof(*c->len));
	c->flags = realloc(c->flags, (c->n + 1) * sizeof(*c->flags));
	if (c->data == NULL || c->len == NULL || c->flags == NULL)
		abort();
	if ((c->data[c->n] = malloc(len)) == NULL)
		abort();
	memcpy(c->data[c->n], data, len);
	c->len[c->n] = len;
	c->flags[c->n] = flags;
	c->n++;
	if (c->stop_at != 0 && c->n == c->stop_at)
		*c->stop = 1;
	if (c->fail_at != 0 && c->n == c->fail_at)
		return -1;
	return 0;
}

static void
chunks_free(struct chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->data[i]);
	free(c->data);
	free(c->len);
	free(c->flags);
	memset(c, 0, sizeof(*c));
}

/* Open url and run it to the end into c; the run's result, err set. */
static int
run(const char *url, struct chunks *c, char *desc, size_t desclen,
    uint64_t *bitrate, char *err, size_t errlen)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, 10 };
	struct p2pl_source *src;
	volatile int stop = 0;
	int rc;

	c->stop = &stop;
	if ((src = p2pl_source_open(url, &cfg, err, errlen)) == NULL)
		return -2;
	if (desc != NULL)
		snprintf(desc, desclen, "%s", p2pl_source_describe(src));
	rc = p2pl_source_run(src, collect, c, &stop, err, errlen);
	if (bitrate != NULL)
		*bitrate = p2pl_source_bitrate(src);
	p2pl_source_free(src);
	return rc;
}

/* Open must fail with an error containing want. */
static void
refused(const char *url, const char *want, const char *what)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, 10 };
	struct p2pl_source *src;
	char err[256] = "";

	src = p2pl_source_open(url, &cfg, err, sizeof(err));
	printf("# %s: %s\n", what, err);
	ok(src == NULL && strstr(err, want) != NULL, "%s refused with \"%s\"",
	    what, want);
	p2pl_source_free(src);
}

static size_t
count_join(const struct chunks *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += (c->flags[i] & P2PL_CHUNK_JOIN) != 0;
	return n;
}

static int
sizes_ok(const struct chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->len[i] == 0 || c->len[i] % 188 != 0 || c->len[i] > CAP)
			return 0;
	return 1;
}

/* Every join chunk starts with a PAT: sync byte, PID 0, unit start. */
static int
joins_start_with_pat(const struct chunks *c)
{
	const uint8_t *p;
	size_t i;

	for (i = 0; i < c->n; i++) {
		p = c->data[i];
		if (!(c->flags[i] & P2PL_CHUNK_JOIN))
			continue;
		if (p[0] != 0x47 || (p[1] & 0x5f) != 0x40 || p[2] != 0)
			return 0;
	}
	return 1;
}

/* The chunks from the nth join point on decode without an error. */
static int
decodes_from(const struct chunks *c, size_t nth)
{
	const char *ts = path("tail.ts"), *log = path("tail.err");
	struct stat sb;
	size_t i, j = 0;
	FILE *f;
	int rc;

	for (i = 0; i < c->n; i++)
		if ((c->flags[i] & P2PL_CHUNK_JOIN) && ++j == nth)
			break;
	if (i == c->n || (f = fopen(ts, "wb")) == NULL)
		return 0;
	for (; i < c->n; i++)
		fwrite(c->data[i], 1, c->len[i], f);
	fclose(f);
	rc = sh("ffmpeg -nostdin -v error -xerror -i %s -f null - 2>%s", ts,
	    log);
	if (stat(log, &sb) == -1)
		return 0;
	if (rc != 0 || sb.st_size != 0)
		sh("sed -n '1,5s/^/# /p' %s", log);
	return rc == 0 && sb.st_size == 0;
}

/* Run a 4-second input with a 1-second GOP (or audio) and check it all. */
static void
test_stream(const char *url, const char *what, const char *want)
{
	struct chunks c = { 0 };
	char err[256] = "", desc[256] = "";
	uint64_t bitrate = 0;
	size_t njoin;
	int rc;

	rc = run(url, &c, desc, sizeof(desc), &bitrate, err, sizeof(err));
	njoin = count_join(&c);
	printf("# %s: \"%s\", %zu chunks, %zu join, %llu bit/s%s%s\n", what,
	    desc, c.n, njoin, (unsigned long long)bitrate, err[0] ? ": " : "",
	    err);
	ok(rc == 0 && c.n > 0, "%s: runs to the end", what);
	ok(strstr(desc, want) != NULL, "%s: described as %s", what, want);
	ok(sizes_ok(&c), "%s: chunks are whole TS packets, at most %d bytes",
	    what, CAP);
	ok(njoin >= 3 && njoin <= 5, "%s: about 4 join chunks (%zu)", what,
	    njoin);
	ok(c.n > 0 && c.flags[0] & P2PL_CHUNK_JOIN, "%s: first chunk joins",
	    what);
	ok(joins_start_with_pat(&c), "%s: join chunks start with a PAT", what);
	ok(decodes_from(&c, 2), "%s: decodes from the 2nd join chunk", what);
	ok(decodes_from(&c, njoin), "%s: decodes from the last join chunk",
	    what);
	ok(bitrate > 0, "%s: bit rate known", what);
	chunks_free(&c);
}

/* Standard input: the same stream through "-"; then stop and callback. */
static void
test_stdin(const char *file)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, 10 };
	struct p2pl_source *src;
	struct chunks c = { 0 }, d = { 0 };
	volatile int stop = 0;
	char err[256] = "";
	int fd, save, rc;

	save = dup(0);
	fd = open(file, O_RDONLY);
	dup2(fd, 0);
	close(fd);
	rc = run(file, &c, NULL, 0, NULL, err, sizeof(err));
	lseek(0, 0, SEEK_SET);
	rc |= run("-", &d, NULL, 0, NULL, err, sizeof(err));
	ok(rc == 0 && c.n > 0 && count_join(&c) == count_join(&d),
	    "stdin: same join points as the file (%zu)", count_join(&d));
	chunks_free(&c);
	chunks_free(&d);

	lseek(0, 0, SEEK_SET);
	c.stop_at = 3;
	rc = run("-", &c, NULL, 0, NULL, err, sizeof(err));
	ok(rc == 0 && c.n == 3, "stop ends the run (%zu chunks)", c.n);
	chunks_free(&c);

	lseek(0, 0, SEEK_SET);
	src = p2pl_source_open("-", &cfg, err, sizeof(err));
	c.fail_at = 2;
	c.stop = &stop;
	rc = src ? p2pl_source_run(src, collect, &c, &stop, err,
	    sizeof(err)) : 0;
	ok(rc == -1 && c.n == 2 && err[0] != '\0',
	    "callback returning -1 ends the run: %s", err);
	p2pl_source_free(src);
	chunks_free(&c);

	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	close(fd);
	refused("-", "input is empty", "empty stdin");
	dup2(save, 0);
	close(save);
}

struct feeder {
	const char *file;
	int fd;			/* write end of the pipe on stdin */
	int linger_ms;		/* keep it open this long after the file */
	volatile int *stop;	/* then set this, if not NULL */
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write the file into the pipe, go quiet, then set stop and close. */
static void *
feed(void *arg)
{
	struct feeder *f = arg;
	char buf[4096];
	size_t n;
	FILE *in;

	if ((in = fopen(f->file, "rb")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (write(f->fd, buf, n) != (ssize_t)n)
				break;
		fclose(in);
	}
	sleep_ms(f->linger_ms);
	if (f->stop != NULL)
		*f->stop = 1;
	sleep_ms(500);
	close(f->fd);
	return NULL;
}

/*
 * A live input that goes quiet without ending: *stop set by another
 * thread, or the read timeout, ends the run while it waits on stdin.
 */
static void
test_quiet(const char *file, int timeout_s, const char *what)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, timeout_s };
	struct p2pl_source *src = NULL;
	struct feeder f = { file, -1, 700, NULL };
	struct chunks c = { 0 };
	volatile int stop = 0;
	char err[256] = "";
	pthread_t t;
	int p[2], save, rc = -2;
	double t0;

	if (pipe(p) == -1)
		return;
	save = dup(0);
	dup2(p[0], 0);
	close(p[0]);
	f.fd = p[1];
	f.stop = timeout_s ? NULL : &stop;
	pthread_create(&t, NULL, feed, &f);
	if ((src = p2pl_source_open("-", &cfg, err, sizeof(err))) != NULL) {
		c.stop = &stop;
		rc = p2pl_source_run(src, collect, &c, &stop, err, sizeof(err));
	}
	t0 = now_s();
	pthread_join(t, NULL);
	printf("# %s: %zu chunks, run returned %d%s%s\n", what, c.n, rc,
	    err[0] ? ": " : "", err);
	if (timeout_s)
		ok(rc == -1 && strstr(err, "timed out") != NULL &&
		    count_join(&c) >= 3, "%s", what);
	else
		ok(rc == 0 && now_s() - t0 > 0.3 && count_join(&c) >= 3,
		    "%s", what);
	p2pl_source_free(src);
	chunks_free(&c);
	dup2(save, 0);
	close(save);
}

/* Whether every stream's dts in file never goes back (ffprobe). */
static int
dts_monotonic(const char *file)
{
	return sh("ffprobe -v error -show_entries packet=stream_index,dts "
	    "-of csv=p=0 %s | awk -F, '$2 == \"N/A\" { next } "
	    "($1 in last) && $2 + 0 < last[$1] { bad = 1 } "
	    "{ last[$1] = $2 + 0; n++ } END { exit bad || n < 100 }'",
	    file) == 0;
}

/*
 * An input opened three times: each opening's first chunk, and only it,
 * is flagged START and joins; the whole output decodes and its
 * timestamps go on increasing although the file starts again each time.
 */
static void
test_reopen(const char *file)
{
	struct p2pl_source_cfg cfg = { PIECE, 50000, 10 };
	struct p2pl_source *src;
	struct chunks c = { 0 };
	size_t starts[3], i, nstart = 0, k;
	const char *out = path("reopened.ts");
	char err[256] = "";
	int rc = 0;
	FILE *f;

	if ((src = p2pl_source_new(file, &cfg, err, sizeof(err))) == NULL)
		rc = -1;
	for (k = 0; k < 3 && rc == 0; k++) {
		starts[k] = c.n;
		rc = p2pl_source_reopen(src, NULL, err, sizeof(err));
		if (rc == 0)
			rc = p2pl_source_run(src, collect, &c, NULL, err,
			    sizeof(err));
	}
	p2pl_source_free(src);
	ok(rc == 0 && c.n > 0, "reopen: three runs of the file (%zu chunks)%s%s",
	    c.n, err[0] ? ": " : "", err);
	for (i = 0; i < c.n; i++)
		nstart += (c.flags[i] & P2PL_CHUNK_START) != 0;
	ok(rc == 0 && nstart == 3 && (c.flags[starts[1]] & P2PL_CHUNK_START) &&
	    (c.flags[starts[2]] & (P2PL_CHUNK_START | P2PL_CHUNK_JOIN)) ==
	    (P2PL_CHUNK_START | P2PL_CHUNK_JOIN),
	    "reopen: each opening's first chunk, and only it, is START (%zu)",
	    nstart);
	if ((f = fopen(out, "wb")) != NULL) {
		for (i = 0; i < c.n; i++)
			fwrite(c.data[i], 1, c.len[i], f);
		fclose(f);
	}
	ok(decodes_from(&c, 1), "reopen: the whole output decodes");
	ok(dts_monotonic(out), "reopen: dts never goes back in any stream");
	chunks_free(&c);

	src = p2pl_source_new(path("vp9.webm"), &cfg, err, sizeof(err));
	rc = src ? p2pl_source_reopen(src, NULL, err, sizeof(err)) : 0;
	ok(rc == P2PL_SOURCE_REFUSED && strstr(err, "vp9") != NULL,
	    "reopen: a codec MPEG-TS cannot carry is REFUSED: %s", err);
	p2pl_source_free(src);
}

static void
make_garbage(const char *file)
{
	unsigned long x = 12345;
	FILE *f;
	int i;

	if ((f = fopen(file, "wb")) == NULL)
		return;
	for (i = 0; i < 100000; i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		fputc((int)(x >> 56), f);
	}
	fclose(f);
}

/*
 * once.ts: the first GOP of av.ts with its SPS/PPS, then the rest without
 * (and overlapping audio, whose repeated timestamps must be dropped).
 */
static int
make_once(const char *ff)
{
	return sh("%s -i %s -to 2.4 -c copy -copyts -f mpegts %s && "
	    "%s -ss 1 -i %s -c copy -copyts -bsf:v 'filter_units=remove_types=7|8' "
	    "-f mpegts %s && cat %s %s > %s", ff, path("av.ts"), path("p1.ts"),
	    ff, path("av.ts"), path("p2.ts"), path("p1.ts"), path("p2.ts"),
	    path("once.ts"));
}

int
main(void)
{
	const char *ff = "ffmpeg -nostdin -v error -y";
	const char *lavfi = "-f lavfi -i testsrc2=size=320x240:rate=25 "
	    "-f lavfi -i sine -t 4";
	const char *x264 = "-c:v libx264 -preset ultrafast -tune zerolatency "
	    "-g 25 -pix_fmt yuv420p";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sh("ffmpeg -version >/dev/null 2>&1") != 0) {
		printf("ok 1 # skip ffmpeg not found\n");
		return 0;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (sh("%s %s %s -c:a aac -f mpegts %s", ff, lavfi, x264,
	    path("av.ts")) != 0 ||
	    sh("%s %s %s -c:a aac -f mp4 %s", ff, lavfi, x264,
	    path("av.mp4")) != 0 ||
	    sh("%s -f lavfi -i sine -t 4 -c:a aac -f mpegts %s", ff,
	    path("a.ts")) != 0 ||
	    sh("%s %s -c:v libx265 -preset ultrafast -x265-params "
	    "keyint=25:log-level=error -c:a aac -f mp4 %s", ff, lavfi,
	    path("hevc.mp4")) != 0 ||
	    sh("%s -f lavfi -i testsrc2 -t 1 -c:v libvpx-vp9 -f webm %s", ff,
	    path("vp9.webm")) != 0 ||
	    sh(": > %s", path("empty.ts")) != 0 || make_once(ff) != 0) {
		printf("Bail out! cannot make the test streams with ffmpeg\n");
		sh("rm -rf %s", dir);
		return 1;
	}
	make_garbage(path("garbage.ts"));

	test_stream(path("av.ts"), "h264+aac ts", "h264 320x240, aac 44100 Hz");
	test_stream(path("av.mp4"), "h264+aac mp4", "h264 320x240, aac");
	test_stream(path("once.ts"), "h264 ts, sps once", "h264 320x240");
	test_stream(path("a.ts"), "aac ts", "aac 44100 Hz");
	test_stream(path("hevc.mp4"), "hevc+aac mp4", "hevc 320x240, aac");
	test_reopen(path("av.ts"));
	test_reopen(path("a.ts"));
	test_stdin(path("av.ts"));
	test_quiet(path("av.ts"), 0, "stop from another thread ends a blocked run");
	test_quiet(path("av.ts"), 1, "a quiet input times out");
	refused(path("garbage.ts"), "no media stream found", "garbage");
	refused(path("empty.ts"), "input is empty", "empty file");
	refused(path("vp9.webm"), "vp9", "vp9 in webm");
	refused(path("missing.ts"), "no such file", "missing file");

	sh("rm -rf %s", dir);
	printf("1..%d\n", ntest);
	return failed;
}
