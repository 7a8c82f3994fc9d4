/*
 * report.h - what a node tells its stats lines and control socket: the
 * swarm-side fields every program shares, and one object per neighbour.
 * The fields are documented in p2pl(7), "STATS LINES".
 */
#ifndef P2PL_REPORT_H
#define P2PL_REPORT_H

#include "node.h"
#include "stats.h"

/* Add the node's fields and its "neighbours" array to j. */
void p2pl_report_node(struct p2pl_json *j, const struct p2pl_node *n);

/* A buffer large enough for a stats line of a node with many peers. */
#define P2PL_REPORT_MAX (64 * 1024)

#endif
