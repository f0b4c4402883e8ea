/*
 * swrr.h - smooth weighted round-robin (nginx's): each pick adds every
 * eligible item's weight to its current value, takes the largest, and
 * takes the total off the winner.  Over any run of total-weight picks each
 * item is picked exactly weight times, spread out rather than in bursts,
 * and deterministic: 60/40 means 60/40.
 */
#ifndef RM_SWRR_H
#define RM_SWRR_H

#include <stddef.h>

struct swrr_item {
	int	 weight;	/* > 0; items of weight 0 are never picked */
	int	 eligible;	/* up and healthy */
	long	 current;	/* the algorithm's state; 0 to start */
};

/* The index of the next pick among n items, or -1 when none is eligible.
 * An item that becomes eligible again should start from current 0. */
long	 swrr_pick(struct swrr_item *, size_t n);

#endif
