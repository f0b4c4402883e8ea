/*
 * dset.h - a set of digests, each with a 64-bit value: gcd's marks and
 * storaged's memory of what a collection must not sweep.  Open addressing
 * on the digest's raw bytes (already uniform), a table per algorithm,
 * growing by doubling.
 */
#ifndef RM_DSET_H
#define RM_DSET_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

struct dtab {
	unsigned char	*v;		/* cap entries */
	size_t		 n, cap;
};

struct dset {
	struct dtab	 t[2];		/* by enum digest_alg */
};

void	 dset_init(struct dset *);
void	 dset_clear(struct dset *);		/* frees, then empty */
/* Add d (value kept if present); returns its value slot. */
uint64_t *dset_add(struct dset *, const struct digest *);
/* d's value slot, or NULL if d is not in the set. */
uint64_t *dset_get(const struct dset *, const struct digest *);
size_t	 dset_count(const struct dset *);

#endif
