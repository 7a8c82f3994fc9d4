/*
 * hls.h - live HLS from verified pieces: segments kept in memory and the
 * playlist that names them.
 *
 * Pieces are given in playout order.  A segment starts at a join point
 * (so it decodes alone) and ends at the first join point at least
 * P2PL_HLS_SEG_US after its start; with a longer GOP a segment is one
 * GOP.  Its duration is the difference of the publisher's stamps.  After
 * a gap in sequence numbers or a publisher's RESTART the segment being
 * built is dropped and the next one is marked as a discontinuity; so is
 * a segment that grows past P2PL_HLS_SEG_MAX bytes.  The newest
 * P2PL_HLS_KEEP segments are kept (pieces shared by reference, not
 * copied); the playlist lists the newest P2PL_HLS_WINDOW of them.
 */
#ifndef P2PL_HLS_H
#define P2PL_HLS_H

#include "piece.h"

#include <event2/buffer.h>
#include <stdint.h>

#define P2PL_HLS_SEG_US 900000	/* shortest segment, µs: about 1 s */
#define P2PL_HLS_SEG_MAX (8 * 1024 * 1024)
#define P2PL_HLS_WINDOW 6
#define P2PL_HLS_KEEP 8

struct p2pl_hls;

struct p2pl_hls *p2pl_hls_new(void);
void p2pl_hls_free(struct p2pl_hls *h);
/* The next piece in playout order (not a SECRET one: open it first). */
void p2pl_hls_piece(struct p2pl_hls *h, struct p2pl_piece *p);
/*
 * Append the live playlist (EXT-X-VERSION 3) to out, segments named
 * seg-N.ts; -1 while there is no segment yet, or out of memory.
 */
int p2pl_hls_playlist(struct p2pl_hls *h, struct evbuffer *out);
/* Segment n's bytes appended to out by reference; -1 if not kept. */
int p2pl_hls_segment(struct p2pl_hls *h, uint64_t n, struct evbuffer *out);
/* Segment n's length in bytes, -1 if not kept. */
long p2pl_hls_segment_len(struct p2pl_hls *h, uint64_t n);
/* Segments completed since the start. */
uint64_t p2pl_hls_count(const struct p2pl_hls *h);

#endif
