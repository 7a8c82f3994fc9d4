/*
 * remux.c - a source's packets on their way from the demuxer to the
 * MPEG-TS muxer: codec headers put before keyframes (Annex B), missing
 * and broken timestamps filled in, each opening of the input shifted to
 * follow the last, join points chosen (a video keyframe, or every
 * AUDIO_JOIN_US without video), and the run loop that reads, writes and
 * times out.  source.c opened the input and the muxer and cuts what the
 * muxer writes into chunks.
 */
#include "source-int.h"

/* Offset of the next start code 00 00 01 in p[i..len), or len. */
static size_t
startcode(const uint8_t *p, size_t len, size_t i)
{
	for (; i + 3 <= len; i++)
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
			return i;
	return len;
}

static int
naltype(const uint8_t *p, size_t len, size_t i, int hevc)
{
	if (i + 3 >= len)
		return -1;
	return hevc ? (p[i + 3] >> 1) & 0x3f : p[i + 3] & 0x1f;
}

static int
annexb(const uint8_t *p, size_t len)
{
	return p != NULL && len >= 4 && p[0] == 0 && p[1] == 0 &&
	    (p[2] == 1 || (p[2] == 0 && p[3] == 1));
}

/*
 * An H.264 or HEVC keyframe in Annex B form without a sequence parameter
 * set gets the extradata (VPS/SPS/PPS) inserted after its access unit
 * delimiter, so a decoder can start there.  MP4-style packets get theirs
 * from the muxer's own h264_mp4toannexb or hevc_mp4toannexb filter.
 */
static int
add_headers(const AVCodecParameters *par, AVPacket *pkt)
{
	int hevc = par->codec_id == AV_CODEC_ID_HEVC;
	const uint8_t *p = pkt->data, *x = par->extradata;
	size_t len = pkt->size, xlen = par->extradata_size, i, at = 0;
	AVPacket *np;

	if (!(pkt->flags & AV_PKT_FLAG_KEY) ||
	    (par->codec_id != AV_CODEC_ID_H264 && !hevc) ||
	    !annexb(x, xlen) || !annexb(p, len))
		return 0;
	for (i = startcode(p, len, 0); i < len; i = startcode(p, len, i + 3))
		if (naltype(p, len, i, hevc) == (hevc ? 33 : 7))
			return 0;
	i = startcode(p, len, 0);
	if (naltype(p, len, i, hevc) == (hevc ? 35 : 9))
		at = startcode(p, len, i + 3);
	if ((np = av_packet_alloc()) == NULL)
		return -1;
	if (av_new_packet(np, len + xlen) < 0 ||
	    av_packet_copy_props(np, pkt) < 0) {
		av_packet_free(&np);
		return -1;
	}
	memcpy(np->data, p, at);
	memcpy(np->data + at, x, xlen);
	memcpy(np->data + at + xlen, p + at, len - at);
	av_packet_unref(pkt);
	av_packet_move_ref(pkt, np);
	av_packet_free(&np);
	return 0;
}

/*
 * Fill in a missing pts or dts; 0 if pkt must be dropped.  Timestamps
 * and durations come from the input and may be anything: those too far
 * out to shift without overflow (hundreds of years) are dropped.
 */
static int
fill_ts(AVPacket *pkt)
{
	if (pkt->dts == AV_NOPTS_VALUE)
		pkt->dts = pkt->pts;
	if (pkt->pts == AV_NOPTS_VALUE)
		pkt->pts = pkt->dts;
	if (pkt->duration < 0 || pkt->duration > TS_LIMIT)
		pkt->duration = 0;
	return pkt->dts != AV_NOPTS_VALUE && pkt->pts >= pkt->dts &&
	    pkt->dts > -TS_LIMIT && pkt->pts < TS_LIMIT;
}

/* The wall clock on MPEG-TS's 90 kHz clock. */
static int64_t
wall_ts(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * TS_HZ + ts.tv_nsec / (1000000000 / TS_HZ);
}

/* The video's frame duration in TS_HZ units, or 0 if unknown. */
static int64_t
frame_ticks(const struct p2pl_source *src)
{
	AVRational r;

	if (src->vidx < 0)
		return 0;
	r = src->ic->streams[src->vidx]->avg_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		r = src->ic->streams[src->vidx]->r_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		return 0;
	return av_rescale_q(1, av_inv_q(r), (AVRational){ 1, TS_HZ });
}

/*
 * Each opening's first packet is stamped with the wall clock, or with the
 * end of the output so far if that is later: timestamps never go back,
 * across an outage (the new input's clock has nothing to do with the old
 * one's) or a restart of the publisher (which knows nothing of the last
 * run but the time).  The stamp is a whole number of frames from 0, so
 * that every opening at one frame rate keeps its frames on one grid
 * (players and ffmpeg guess the frame rate from the timestamps).  The
 * muxer writes timestamps modulo 2^33, as MPEG-TS wants.
 */
static void
set_shift(struct p2pl_source *src, const AVPacket *pkt, AVRational tb)
{
	int64_t at = wall_ts(), d = frame_ticks(src);

	if (d > 0)
		at -= at % d;
	if (src->end != AV_NOPTS_VALUE && src->end > at)
		at += d > 0 ? (src->end - at + d - 1) / d * d : src->end - at;
	src->shift = at - av_rescale_q(pkt->dts, tb, (AVRational){ 1, TS_HZ });
}

/* Shift pkt into the output's time line; 0 if its dts does not increase. */
static int
shift_ts(struct p2pl_source *src, int oi, AVPacket *pkt, AVRational tb)
{
	int64_t d = av_rescale_q(src->shift, (AVRational){ 1, TS_HZ }, tb);

	pkt->dts += d;
	pkt->pts += d;
	return src->last_dts[oi] == AV_NOPTS_VALUE || pkt->dts > src->last_dts[oi];
}

/* Remember where the output ends: the latest pts plus its duration. */
static void
note_end(struct p2pl_source *src, const AVPacket *pkt, AVRational tb)
{
	int64_t e;

	e = av_rescale_q_rnd(pkt->pts + (pkt->duration > 0 ? pkt->duration : 1),
	    tb, (AVRational){ 1, TS_HZ }, AV_ROUND_UP);
	if (src->end == AV_NOPTS_VALUE || e > src->end)
		src->end = e;
}

/* Whether pkt could start the output: the stream is cut at its keys. */
static int
first_join(const struct p2pl_source *src, int si, const AVPacket *pkt)
{
	if (src->vidx >= 0)
		return si == src->vidx && pkt->flags & AV_PKT_FLAG_KEY;
	return si == src->aidx;
}

/* Whether pkt, from input stream si, starts a join point. */
static int
is_join(struct p2pl_source *src, int si, const AVPacket *pkt, AVRational tb)
{
	int64_t t;

	if (src->vidx >= 0)
		return si == src->vidx && pkt->flags & AV_PKT_FLAG_KEY;
	if (si != src->aidx)
		return 0;
	t = av_rescale_q(pkt->dts, tb, AV_TIME_BASE_Q);
	if (src->join_us != AV_NOPTS_VALUE && t - src->join_us < AUDIO_JOIN_US)
		return 0;
	src->join_us = t;
	return 1;
}

/* Remux one input packet, cutting before it if it is a join point. */
static int
put_packet(struct p2pl_source *src, AVPacket *pkt, char *err, size_t errlen)
{
	int si = pkt->stream_index, oi, join, ret;
	AVStream *ost;

	if (si < 0 || (unsigned)si >= src->nmap || src->map[si] < 0)
		return 0;
	oi = src->map[si];
	ost = src->oc->streams[oi];
	av_packet_rescale_ts(pkt, src->ic->streams[si]->time_base,
	    ost->time_base);
	pkt->stream_index = oi;
	pkt->pos = -1;
	if (!fill_ts(pkt))
		return 0;
	if (!src->started) {
		if (!first_join(src, si, pkt) && ++src->dropped < PREROLL_MAX)
			return 0;
		src->started = 1;
		set_shift(src, pkt, ost->time_base);
	}
	if (!shift_ts(src, oi, pkt, ost->time_base))
		return 0;
	join = is_join(src, si, pkt, ost->time_base);
	if (join) {
		p2pl__src_emit(src);
		src->want_join = 1;
		av_opt_set(src->oc->priv_data, "mpegts_flags",
		    "+resend_headers", 0);
	}
	if (add_headers(ost->codecpar, pkt) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	src->last_dts[oi] = pkt->dts;
	note_end(src, pkt, ost->time_base);
	ret = av_write_frame(src->oc, pkt);
	if (ret >= 0)
		ret = av_write_frame(src->oc, NULL);	/* flush audio */
	avio_flush(src->oc->pb);
	if (ret < 0) {
		p2pl__src_seterr(err, errlen, ret, "cannot remux a %s packet",
		    avcodec_get_name(ost->codecpar->codec_id));
		return -1;
	}
	return 0;
}

/* End of input: flush the muxer and emit the last, partial chunk. */
static int
finish(struct p2pl_source *src, char *err, size_t errlen)
{
	int ret;

	ret = av_write_trailer(src->oc);
	avio_flush(src->oc->pb);
	if (ret < 0) {
		p2pl__src_seterr(err, errlen, ret,
		    "cannot finish the mpegts muxer");
		return -1;
	}
	p2pl__src_emit(src);
	return 0;
}

int
p2pl_source_run(struct p2pl_source *src, p2pl_chunk_fn fn, void *arg,
    volatile int *stop, char *err, size_t errlen)
{
	AVPacket *pkt;
	int ret, rc = -1;

	if (src->ic == NULL || src->oc == NULL) {
		snprintf(err, errlen, "input not open");
		return -1;
	}
	p2pl__src_lasterr[0] = '\0';
	src->fn = fn;
	src->arg = arg;
	src->stop = stop;
	src->thread = pthread_self();
	src->timedout = 0;
	if ((pkt = av_packet_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	atomic_store(&src->bytes, 0);
	atomic_store(&src->t0, p2pl__src_now());
	for (;;) {
		if (stop != NULL && *stop) {
			rc = 0;
			break;
		}
		if (src->cfg.rw_timeout_s > 0)
			src->deadline = p2pl__src_now() +
			    src->cfg.rw_timeout_s * 1000000ULL;
		ret = av_read_frame(src->ic, pkt);
		src->deadline = 0;
		if (ret == AVERROR(EAGAIN))
			continue;
		if (ret == AVERROR_EOF) {
			rc = finish(src, err, errlen);
			break;
		}
		if (ret < 0) {
			rc = stop != NULL && *stop ? 0 :
			    p2pl__src_input_err(src, NULL, ret, err, errlen);
			/* what was read is whole packets: hand it out */
			if (rc == -1)
				finish(src, NULL, 0);
			break;
		}
		ret = put_packet(src, pkt, err, errlen);
		av_packet_unref(pkt);
		if (ret == -1)
			break;
		if (src->clen > 0 &&
		    p2pl__src_now() - src->ct0 >= src->cfg.piece_us)
			p2pl__src_emit(src);
		if (src->cbstop)
			break;
	}
	if (src->cbstop) {
		snprintf(err, errlen, "stopped by the chunk callback");
		rc = -1;
	}
	av_packet_free(&pkt);
	return rc;
}

uint64_t
p2pl_source_bitrate(const struct p2pl_source *src)
{
	uint64_t t0 = atomic_load(&src->t0), bytes = atomic_load(&src->bytes);
	uint64_t dt = p2pl__src_now() - t0;

	if (t0 == 0 || dt == 0)
		return 0;
	return (uint64_t)((double)bytes * 8e6 / (double)dt);
}
