/*
 * tbucket.c - token buckets (tbucket.h).  Tokens are counted in
 * thousandths so that a refill every millisecond is exact at any rate up
 * to 1000 a second, without floating point.
 */
#include "log.h"
#include "tbucket.h"

void
tbucket_init(struct tbucket *b, unsigned burst, unsigned rate, uint64_t now)
{
	if (burst == 0 || rate == 0)
		fatalx("tbucket: burst %u, rate %u", burst, rate);
	b->burst = burst;
	b->rate = rate;
	b->milli = (uint64_t)burst * 1000;
	b->at = now;
}

/* What passed since the last refill, added up to the burst. */
static void
refill(struct tbucket *b, uint64_t now)
{
	uint64_t full = (uint64_t)b->burst * 1000, ms;

	if (now <= b->at)
		return;		/* a clock that went back: no gift */
	ms = now - b->at;
	b->at = now;
	if (ms >= full || b->milli + ms * b->rate >= full)
		b->milli = full;
	else
		b->milli += ms * b->rate;
}

unsigned
tbucket_take(struct tbucket *b, uint64_t now)
{
	uint64_t missing;

	refill(b, now);
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return 0;
	}
	/* thousandths missing at rate*1000 a second: round the wait up */
	missing = 1000 - b->milli;
	return (unsigned)((missing + (uint64_t)b->rate * 1000 - 1) /
	    ((uint64_t)b->rate * 1000));
}
