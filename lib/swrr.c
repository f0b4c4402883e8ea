/* swrr.c - smooth weighted round-robin (see swrr.h). */
#include "swrr.h"

long
swrr_pick(struct swrr_item *it, size_t n)
{
	long total = 0, best = -1;

	for (size_t i = 0; i < n; i++) {
		if (!it[i].eligible || it[i].weight <= 0)
			continue;
		it[i].current += it[i].weight;
		total += it[i].weight;
		if (best == -1 || it[i].current > it[best].current)
			best = (long)i;
	}
	if (best != -1)
		it[best].current -= total;
	return best;
}
