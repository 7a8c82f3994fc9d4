/*
 * source.c - a live input opened with libavformat (standard input through
 * our own AVIO reader, files, URLs, listening servers), its streams
 * picked, the MPEG-TS muxer opened on it, and what the muxer writes cut
 * into chunks (see source.h).  The packets' way from one to the other is
 * in remux.c.
 */
#include "source-int.h"

/*
 * Codecs the mpegts muxer carries and players read back.  Audio or video
 * in any other codec is refused; other subtitle and data streams dropped.
 */
static const enum AVCodecID ts_codecs[] = {
	AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_MPEG2VIDEO,
	AV_CODEC_ID_MPEG1VIDEO, AV_CODEC_ID_MPEG4, AV_CODEC_ID_AAC,
	AV_CODEC_ID_AAC_LATM, AV_CODEC_ID_MP2, AV_CODEC_ID_MP3, AV_CODEC_ID_AC3,
	AV_CODEC_ID_EAC3, AV_CODEC_ID_DTS, AV_CODEC_ID_TRUEHD, AV_CODEC_ID_OPUS,
	AV_CODEC_ID_DVB_SUBTITLE, AV_CODEC_ID_DVB_TELETEXT,
	AV_CODEC_ID_SMPTE_KLV, AV_CODEC_ID_TIMED_ID3
};

_Thread_local char p2pl__src_lasterr[256];	/* libav's last error */
/* libavformat's RTMP server takes any stream name, with a warning: kept */
static _Thread_local char wrongkey[256];
static atomic_int verbosity;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* Keep libav's last error for our messages; print only if asked to. */
static void
log_cb(void *avcl, int level, const char *fmt, va_list ap)
{
	va_list aq;
	size_t n;

	if (atomic_load(&verbosity) > 0) {
		va_copy(aq, ap);
		av_log_default_callback(avcl, level, fmt, aq);
		va_end(aq);
	}
	if (level <= AV_LOG_WARNING && strncmp(fmt, "Unexpected stream", 17) == 0) {
		va_copy(aq, ap);
		vsnprintf(wrongkey, sizeof(wrongkey), fmt, aq);
		va_end(aq);
		n = strlen(wrongkey);
		while (n > 0 && wrongkey[n - 1] == '\n')
			wrongkey[--n] = '\0';
	}
	if (level > AV_LOG_ERROR)
		return;
	vsnprintf(p2pl__src_lasterr, sizeof(p2pl__src_lasterr), fmt, ap);
	n = strlen(p2pl__src_lasterr);
	while (n > 0 && (p2pl__src_lasterr[n - 1] == '\n' ||
	    p2pl__src_lasterr[n - 1] == '.'))
		p2pl__src_lasterr[--n] = '\0';
}

static void
log_init(void)
{
	av_log_set_callback(log_cb);
}

void
p2pl_source_loglevel(int verbose)
{
	pthread_once(&log_once, log_init);
	atomic_store(&verbosity, verbose);
	av_log_set_level(verbose > 1 ? AV_LOG_INFO : AV_LOG_WARNING);
}

/* err = the formatted message, libav's reason for averr and its last log. */
void
p2pl__src_seterr(char *err, size_t errlen, int averr, const char *fmt, ...)
{
	char msg[AV_ERROR_MAX_STRING_SIZE];
	va_list ap;
	size_t n;

	if (errlen == 0)
		return;
	msg[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (averr != 0 && av_strerror(averr, msg, sizeof(msg)) == 0) {
		msg[0] = tolower((unsigned char)msg[0]);
		snprintf(err + n, errlen - n, ": %s", msg);
		n = strlen(err);
	}
	if (p2pl__src_lasterr[0] != '\0' && strcmp(p2pl__src_lasterr, msg) != 0)
		snprintf(err + n, errlen - n, " (%s)", p2pl__src_lasterr);
}

uint64_t
p2pl__src_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * libav calls this while it waits for input: end a chunk that has grown
 * too old, and give up on stop or past the deadline.
 */
static int
interrupt_cb(void *opaque)
{
	struct p2pl_source *src = opaque;
	uint64_t now = p2pl__src_now();

	if (src->clen > 0 && src->fn != NULL &&
	    now - src->ct0 >= src->cfg.piece_us &&
	    pthread_equal(src->thread, pthread_self()))
		p2pl__src_emit(src);
	if (src->stop != NULL && *src->stop)
		return 1;
	if (src->deadline != 0 && now > src->deadline) {
		src->timedout = 1;
		return 1;
	}
	return 0;
}

/* Read standard input, waking to look at stop and the chunk's age. */
static int
stdin_read(void *opaque, uint8_t *buf, int len)
{
	struct p2pl_source *src = opaque;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	uint64_t age;
	ssize_t n;
	int ms;

	for (;;) {
		if (interrupt_cb(src))
			return AVERROR_EXIT;
		ms = 100;
		if (src->clen > 0 && src->fn != NULL) {
			age = p2pl__src_now() - src->ct0;
			if (age + 100000 > src->cfg.piece_us)
				ms = (src->cfg.piece_us - age) / 1000 + 1;
		}
		if (poll(&pfd, 1, ms) == -1 && errno != EINTR)
			return AVERROR(errno);
		if (pfd.revents == 0)
			continue;
		n = read(STDIN_FILENO, buf, len);
		if (n == 0)
			return AVERROR_EOF;
		if (n > 0)
			break;
		if (errno != EINTR && errno != EAGAIN)
			return AVERROR(errno);
	}
	src->inbytes += n;
	if (src->deadline != 0)
		src->deadline = p2pl__src_now() +
		    src->cfg.rw_timeout_s * 1000000ULL;
	return n;
}

/* Hand the chunk to the callback and start an empty one. */
void
p2pl__src_emit(struct p2pl_source *src)
{
	if (src->clen == 0)
		return;
	if (src->fn != NULL && !src->cbstop) {
		if (src->fn(src->arg, src->chunk, src->clen, src->cflags) != 0)
			src->cbstop = 1;
		atomic_fetch_add(&src->bytes, src->clen);
	}
	src->clen = 0;
}

/*
 * The muxer's AVIO write callback: regroup the bytes into TS packets and
 * add them to the chunk.  SDT and NIT are left out: they would come
 * before the PAT that resend_headers puts at each join point.
 */
static int
ts_write(void *opaque, wbuf_t *buf, int len)
{
	struct p2pl_source *src = opaque;
	unsigned pid, i;

	for (i = 0; i < (unsigned)len; i++) {
		src->part[src->plen++] = buf[i];
		if (src->plen < TS)
			continue;
		src->plen = 0;
		pid = (src->part[1] & 0x1f) << 8 | src->part[2];
		if (pid == PID_SDT || pid == PID_NIT)
			continue;
		if (src->clen == 0) {
			src->cflags = src->want_join ? P2PL_CHUNK_JOIN : 0;
			if (src->fresh)
				src->cflags |= P2PL_CHUNK_START;
			src->want_join = 0;
			src->fresh = 0;
			src->ct0 = p2pl__src_now();
		}
		memcpy(src->chunk + src->clen, src->part, TS);
		src->clen += TS;
		if (src->clen + TS > src->cap) {
			src->cflags |= P2PL_CHUNK_CONT;
			p2pl__src_emit(src);
		}
	}
	return len;
}

/* An AVIOContext on our callback: reading if read, else writing. */
static AVIOContext *
new_avio(struct p2pl_source *src, int (*read)(void *, uint8_t *, int),
    int (*write)(void *, wbuf_t *, int))
{
	AVIOContext *pb;
	uint8_t *buf;

	if ((buf = av_malloc(IOBUF)) == NULL)
		return NULL;
	pb = avio_alloc_context(buf, IOBUF, write != NULL, src, read, write,
	    NULL);
	if (pb == NULL)
		av_free(buf);
	return pb;
}

static void
free_avio(AVIOContext **pb)
{
	if (*pb != NULL)
		av_freep(&(*pb)->buffer);
	avio_context_free(pb);
}

/* Explain why opening or reading the input failed. */
int
p2pl__src_input_err(struct p2pl_source *src, const char *url, int ret,
    char *err, size_t errlen)
{
	if (src->stop != NULL && *src->stop)
		snprintf(err, errlen, "interrupted");
	else if (src->timedout)
		snprintf(err, errlen, "input timed out after %d s",
		    src->cfg.rw_timeout_s);
	else if (src->inpb != NULL && src->inbytes == 0)
		snprintf(err, errlen, "input is empty");
	else if (src->netpb != NULL && url == NULL && ret == AVERROR(EIO))
		snprintf(err, errlen, "the sender disconnected");
	else if (ret == AVERROR_INVALIDDATA && url != NULL)
		snprintf(err, errlen, "no media stream found in input "
		    "(format not recognised)");
	else
		p2pl__src_seterr(err, errlen, ret, "cannot %s %s",
		    url ? "open" : "read", url ? url : "input");
	return -1;
}

int
p2pl_source_listens(const char *url, int listen)
{
	if (strstr(url, "://") == NULL)
		return 0;
	return listen || (strncmp(url, "srt://", 6) == 0 &&
	    strstr(url, "mode=listener") != NULL);
}

/*
 * A listening input: wait for a sender to connect, for as long as it
 * takes (only stop ends the wait), with libavformat's own listen mode:
 * "mode=listener" for srt://, "listen" for rtmp://, tcp://, http://.
 * The connection it gives is then probed like any other input.
 */
static int
accept_input(struct p2pl_source *src, const char *url, char *err,
    size_t errlen)
{
	AVIOInterruptCB icb = { interrupt_cb, src };
	AVDictionary *opt = NULL;
	int ret;

	if (strncmp(url, "srt://", 6) == 0)
		av_dict_set(&opt, "mode", "listener", 0);
	else
		av_dict_set(&opt, "listen", "1", 0);
	if (src->cfg.rw_timeout_s > 0)
		av_dict_set_int(&opt, "rw_timeout",
		    src->cfg.rw_timeout_s * 1000000LL, 0);
	src->deadline = 0;
	wrongkey[0] = '\0';
	ret = avio_open2(&src->netpb, url, AVIO_FLAG_READ, &icb, &opt);
	av_dict_free(&opt);
	if (ret < 0) {
		src->netpb = NULL;
		return p2pl__src_input_err(src, url, ret, err, errlen);
	}
	if (wrongkey[0] != '\0') {
		/* an RTMP encoder with another stream key: refused */
		snprintf(err, errlen, "refused an encoder: %s", wrongkey);
		avio_closep(&src->netpb);
		return -1;
	}
	return 0;
}

/* Open and probe the input quickly: about one second of it at most. */
static int
open_input(struct p2pl_source *src, const char *url, char *err, size_t errlen)
{
	AVDictionary *opt = NULL;
	struct stat sb;
	int ret;

	if (strcmp(url, "-") == 0 || strcmp(url, "pipe:0") == 0) {
		url = "pipe:0";
		if ((src->inpb = new_avio(src, stdin_read, NULL)) == NULL)
			goto nomem;
	} else if (strstr(url, "://") == NULL && stat(url, &sb) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size == 0) {
		snprintf(err, errlen, "input is empty");
		return -1;
	}
	if (p2pl_source_listens(url, src->listen) &&
	    accept_input(src, url, err, errlen) == -1)
		return -1;
	if ((src->ic = avformat_alloc_context()) == NULL)
		goto nomem;
	src->ic->pb = src->inpb != NULL ? src->inpb : src->netpb;
	src->ic->interrupt_callback.callback = interrupt_cb;
	src->ic->interrupt_callback.opaque = src;
	av_dict_set(&opt, "analyzeduration", "1000000", 0);
	av_dict_set(&opt, "probesize", "2000000", 0);
	av_dict_set(&opt, "fpsprobesize", "0", 0);
	if (src->cfg.rw_timeout_s > 0) {
		av_dict_set_int(&opt, "rw_timeout",
		    src->cfg.rw_timeout_s * 1000000LL, 0);
		src->deadline = p2pl__src_now() +
		    (src->cfg.rw_timeout_s + 2) * 1000000ULL;
	}
	ret = avformat_open_input(&src->ic, url, NULL, &opt);
	av_dict_free(&opt);
	if (ret < 0)
		return p2pl__src_input_err(src, url, ret, err, errlen);
	ret = avformat_find_stream_info(src->ic, NULL);
	src->deadline = 0;
	if (ret < 0)
		return p2pl__src_input_err(src, url, ret, err, errlen);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
carried(enum AVCodecID id)
{
	size_t i;

	for (i = 0; i < sizeof(ts_codecs) / sizeof(ts_codecs[0]); i++)
		if (ts_codecs[i] == id)
			return 1;
	return 0;
}

/*
 * Choose the streams to carry; refuse audio or video MPEG-TS can't carry
 * (P2PL_SOURCE_REFUSED).
 */
static int
pick_streams(struct p2pl_source *src, char *err, size_t errlen)
{
	AVStream *st;
	enum AVCodecID id;
	unsigned i, n = 0;
	int type, media;

	src->nmap = src->ic->nb_streams;
	src->map = calloc(src->nmap + 1, sizeof(*src->map));
	src->last_dts = calloc(src->nmap + 1, sizeof(*src->last_dts));
	if (src->map == NULL || src->last_dts == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < src->nmap; i++) {
		st = src->ic->streams[i];
		id = st->codecpar->codec_id;
		type = st->codecpar->codec_type;
		media = type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO;
		src->map[i] = -1;
		st->discard = AVDISCARD_ALL;
		if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
			continue;
		if (media && id != AV_CODEC_ID_NONE && !carried(id)) {
			snprintf(err, errlen, "codec %s cannot be carried in "
			    "MPEG-TS", avcodec_get_name(id));
			return P2PL_SOURCE_REFUSED;
		}
		if (!carried(id))
			continue;
		if (type == AVMEDIA_TYPE_VIDEO && src->vidx < 0)
			src->vidx = i;
		if (type == AVMEDIA_TYPE_AUDIO && src->aidx < 0)
			src->aidx = i;
		st->discard = AVDISCARD_DEFAULT;
		src->last_dts[n] = AV_NOPTS_VALUE;
		src->map[i] = n++;
	}
	if (src->vidx < 0 && src->aidx < 0) {
		snprintf(err, errlen, "no media stream found in input");
		return -1;
	}
	return 0;
}

/*
 * The mpegts muxer writing into ts_write(), holding nothing back.  Each
 * opening of the input gets a new muxer: its tables carry a new version
 * and its first packets the discontinuity indicator, so that a player's
 * demuxer takes the new PMT and expects the continuity break.
 */
static int
open_output(struct p2pl_source *src, char *err, size_t errlen)
{
	AVDictionary *opt = NULL;
	AVStream *ist, *ost;
	unsigned i;
	int ret;
	int64_t floor;

	ret = avformat_alloc_output_context2(&src->oc, NULL, "mpegts", NULL);
	if (ret < 0) {
		p2pl__src_seterr(err, errlen, ret,
		    "cannot make the mpegts muxer");
		return -1;
	}
	if ((src->oc->pb = new_avio(src, NULL, ts_write)) == NULL)
		goto nomem;
	src->oc->max_delay = 0;
	for (i = 0; i < src->nmap; i++) {
		if (src->map[i] < 0)
			continue;
		ist = src->ic->streams[i];
		if ((ost = avformat_new_stream(src->oc, NULL)) == NULL)
			goto nomem;
		if (avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0)
			goto nomem;
		ost->codecpar->codec_tag = 0;
		ost->time_base = ist->time_base;
		ost->disposition = ist->disposition;
		av_dict_copy(&ost->metadata, ist->metadata, 0);
	}
	av_dict_set(&opt, "pes_payload_size", "0", 0);
	av_dict_set(&opt, "mpegts_flags", "+initial_discontinuity", 0);
	av_dict_set_int(&opt, "tables_version", src->opens % 32, 0);
	ret = avformat_write_header(src->oc, &opt);
	av_dict_free(&opt);
	if (ret < 0) {
		p2pl__src_seterr(err, errlen, ret,
		    "cannot start the mpegts muxer");
		return -1;
	}
	/* after a reopening, nothing may go back before the output's end */
	for (i = 0; src->end != AV_NOPTS_VALUE && i < src->oc->nb_streams; i++) {
		floor = av_rescale_q_rnd(src->end, (AVRational){ 1, TS_HZ },
		    src->oc->streams[i]->time_base, AV_ROUND_UP);
		src->last_dts[i] = floor - 1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void
describe(struct p2pl_source *src)
{
	AVCodecParameters *par;
	size_t n = 0, size = sizeof(src->desc);
	unsigned i;

	for (i = 0; i < src->nmap && n < size; i++) {
		if (src->map[i] < 0)
			continue;
		par = src->ic->streams[i]->codecpar;
		snprintf(src->desc + n, size - n, "%s%s", n > 0 ? ", " : "",
		    avcodec_get_name(par->codec_id));
		n = strlen(src->desc);
		if (par->codec_type == AVMEDIA_TYPE_VIDEO)
			snprintf(src->desc + n, size - n, " %dx%d",
			    par->width, par->height);
		else if (par->codec_type == AVMEDIA_TYPE_AUDIO)
			snprintf(src->desc + n, size - n, " %d Hz",
			    par->sample_rate);
		n = strlen(src->desc);
	}
}

struct p2pl_source *
p2pl_source_new(const char *url, const struct p2pl_source_cfg *cfg,
    char *err, size_t errlen)
{
	struct p2pl_source *src;

	pthread_once(&log_once, log_init);
	if (cfg->piece_size < 1024 || cfg->piece_size > 1 << 24) {
		snprintf(err, errlen, "piece size %zu out of range",
		    cfg->piece_size);
		return NULL;
	}
	if ((src = calloc(1, sizeof(*src))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	src->cfg = *cfg;
	src->cap = cfg->piece_size / TS * TS;
	src->end = AV_NOPTS_VALUE;
	src->url = strdup(url);
	if ((src->chunk = malloc(src->cap)) == NULL || src->url == NULL) {
		snprintf(err, errlen, "out of memory");
		p2pl_source_free(src);
		return NULL;
	}
	return src;
}

/* Let go of the input and the muxer of the last opening. */
static void
close_input(struct p2pl_source *src)
{
	avformat_close_input(&src->ic);
	if (src->oc != NULL) {
		free_avio(&src->oc->pb);
		avformat_free_context(src->oc);
		src->oc = NULL;
	}
	free_avio(&src->inpb);
	avio_closep(&src->netpb);
	free(src->last_dts);
	free(src->map);
	src->last_dts = NULL;
	src->map = NULL;
	src->nmap = 0;
	src->desc[0] = '\0';
}

int
p2pl_source_reopen(struct p2pl_source *src, volatile int *stop, char *err,
    size_t errlen)
{
	int rc;

	p2pl__src_lasterr[0] = '\0';
	close_input(src);
	src->stop = stop;
	src->thread = pthread_self();
	src->fn = NULL;
	src->vidx = src->aidx = -1;
	src->join_us = AV_NOPTS_VALUE;
	src->want_join = 1;
	src->started = 0;
	src->dropped = 0;
	src->timedout = 0;
	src->inbytes = 0;
	src->plen = src->clen = 0;
	src->shift = 0;
	if ((rc = open_input(src, src->url, err, errlen)) < 0 ||
	    (rc = pick_streams(src, err, errlen)) < 0 ||
	    (rc = open_output(src, err, errlen)) < 0) {
		close_input(src);
		return rc;
	}
	describe(src);
	src->fresh = 1;
	src->opens++;
	return 0;
}

void
p2pl_source_listen(struct p2pl_source *src)
{
	src->listen = 1;
}

struct p2pl_source *
p2pl_source_open(const char *url, const struct p2pl_source_cfg *cfg,
    char *err, size_t errlen)
{
	struct p2pl_source *src;

	if ((src = p2pl_source_new(url, cfg, err, errlen)) == NULL)
		return NULL;
	if (p2pl_source_reopen(src, NULL, err, errlen) < 0) {
		p2pl_source_free(src);
		return NULL;
	}
	return src;
}

const char *
p2pl_source_describe(const struct p2pl_source *src)
{
	return src->desc;
}

void
p2pl_source_free(struct p2pl_source *src)
{
	if (src == NULL)
		return;
	close_input(src);
	free(src->chunk);
	free(src->url);
	free(src);
}
