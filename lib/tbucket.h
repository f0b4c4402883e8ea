/*
 * tbucket.h - a token bucket: at most burst events at once, refilled at
 * rate a second.  Time is passed in (milliseconds, monotonic), so the
 * arithmetic is testable and the caller's clock (ev_now) is the one used.
 */
#ifndef RM_TBUCKET_H
#define RM_TBUCKET_H

#include <stdint.h>

struct tbucket {
	unsigned	 burst, rate;	/* tokens; tokens a second (> 0) */
	uint64_t	 milli;		/* tokens held, in thousandths */
	uint64_t	 at;		/* ms of the last refill */
};

/* Full: burst tokens at now. */
void	 tbucket_init(struct tbucket *, unsigned burst, unsigned rate,
	    uint64_t now);
/* Take one token: 0, or the whole seconds until one is there (>= 1). */
unsigned tbucket_take(struct tbucket *, uint64_t now);

#endif
