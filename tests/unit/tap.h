/* tap.h - the few lines of TAP output the unit tests need. */
#ifndef P2PL_TAP_H
#define P2PL_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	tap_n++;							\
	if (!(cond)) {							\
		tap_failed++;						\
		printf("not ok %d - ", tap_n);				\
	} else								\
		printf("ok %d - ", tap_n);				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed != 0;
}

#endif
