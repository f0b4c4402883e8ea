/*
 * dset.c - digest sets: open addressing with linear probing, half full at
 * most; the key is the digest's raw bytes, whose first word is its hash.
 */
#include <stdlib.h>
#include <string.h>

#include "dset.h"
#include "util.h"

struct dent {
	uint64_t	 val;
	uint8_t		 used;
	uint8_t		 alg;
	uint8_t		 raw[64];
};

void
dset_init(struct dset *s)
{
	memset(s, 0, sizeof(*s));
}

void
dset_clear(struct dset *s)
{
	free(s->v);
	dset_init(s);
}

size_t
dset_count(const struct dset *s)
{
	return s->n;
}

/* The key of d (parsed, so its hex is lowercase). */
static void
key_make(const struct digest *d, struct dent *k)
{
	memset(k, 0, sizeof(*k));
	k->alg = (uint8_t)d->alg;
	digest_raw(d, k->raw);
}

/* The slot of k: its entry, or the empty one where it would go. */
static struct dent *
slot(const struct dset *s, const struct dent *k)
{
	uint64_t h;
	size_t i;

	memcpy(&h, k->raw, sizeof(h));
	for (i = (size_t)(h ^ k->alg) & (s->cap - 1);; i = (i + 1) &
	    (s->cap - 1)) {
		struct dent *e = &s->v[i];
		if (!e->used || (e->alg == k->alg && memcmp(e->raw, k->raw,
		    sizeof(k->raw)) == 0))
			return e;
	}
}

static void
grow(struct dset *s)
{
	struct dset big;

	big.cap = s->cap ? s->cap * 2 : 1024;
	big.n = s->n;
	big.v = xcalloc(big.cap, sizeof(*big.v));
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i].used)
			*slot(&big, &s->v[i]) = s->v[i];
	free(s->v);
	*s = big;
}

uint64_t *
dset_add(struct dset *s, const struct digest *d)
{
	struct dent k, *e;

	key_make(d, &k);
	if (2 * (s->n + 1) > s->cap)
		grow(s);
	e = slot(s, &k);
	if (!e->used) {
		*e = k;
		e->used = 1;
		s->n++;
	}
	return &e->val;
}

uint64_t *
dset_get(const struct dset *s, const struct digest *d)
{
	struct dent k, *e;

	if (s->cap == 0)
		return NULL;
	key_make(d, &k);
	e = slot(s, &k);
	return e->used ? &e->val : NULL;
}
