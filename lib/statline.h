/*
 * statline.h - write a stats line: what a node tells its stats lines and
 * control socket, the swarm-side fields every program shares and one
 * object per neighbour (p2pl(7), "STATS LINES").  Each program adds its
 * own fields (its playout, its input) with jsonwrite.h; statparse.h reads
 * the line back.
 */
#ifndef P2PL_STATLINE_H
#define P2PL_STATLINE_H

#include "jsonwrite.h"
#include "node.h"

/*
 * Add the node's fields and its "neighbours" array to j: at most
 * P2PL_STATLINE_NEIGHBOURS of them (as many as p2pl-top reads), those
 * moving bytes first; how many more there are in "neighbours_unlisted"
 * (before the array, which is the last field).
 */
void p2pl_statline_node(struct p2pl_json *j, const struct p2pl_node *n);
#define P2PL_STATLINE_NEIGHBOURS 256

/* A buffer large enough for a stats line of a node with many peers
 * (P2PL_SL_LINE_MAX, what statparse.c reads, at most). */
#define P2PL_STATLINE_MAX (128 * 1024)

#endif
