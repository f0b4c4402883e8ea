/*
 * dset.c - digest sets: open addressing with linear probing, at most three
 * quarters full; the key is the digest's raw bytes, whose first word is its
 * hash.  A set all zero is empty.  One table per algorithm, so that an entry of the common sha256
 * holds its 32 bytes, not room for sha512's 64: 48 bytes an entry, where
 * one size for both took 80 (gcd keeps sets of every blob of a store).
 */
#include <stdlib.h>
#include <string.h>

#include "dset.h"
#include "util.h"

/* An entry: the value, a used flag, then the key's raw bytes. */
#define E_VAL		0
#define E_USED		8
#define E_RAW		16

void
dset_init(struct dset *s)
{
	memset(s, 0, sizeof(*s));
}

/* Bytes an entry of alg's table takes. */
static size_t
stride_of(enum digest_alg alg)
{
	return E_RAW + digest_hexlen(alg) / 2;
}

void
dset_clear(struct dset *s)
{
	for (size_t a = 0; a < nitems(s->t); a++)
		free(s->t[a].v);
	dset_init(s);
}

size_t
dset_count(const struct dset *s)
{
	size_t n = 0;

	for (size_t a = 0; a < nitems(s->t); a++)
		n += s->t[a].n;
	return n;
}

/* The entry of key raw in t (alg's): its own, or the empty one where it
 * would go. */
static unsigned char *
slot(const struct dtab *t, enum digest_alg alg, const unsigned char *raw)
{
	size_t stride = stride_of(alg), klen = stride - E_RAW, i;
	uint64_t h;

	memcpy(&h, raw, sizeof(h));
	for (i = (size_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		unsigned char *e = t->v + i * stride;
		if (!e[E_USED] || memcmp(e + E_RAW, raw, klen) == 0)
			return e;
	}
}

static void
grow(struct dtab *t, enum digest_alg alg)
{
	size_t stride = stride_of(alg);
	struct dtab big = *t;

	big.cap = t->cap ? t->cap * 2 : 1024;
	big.v = xcalloc(big.cap, stride);
	for (size_t i = 0; i < t->cap; i++) {
		unsigned char *e = t->v + i * stride;
		if (e[E_USED])
			memcpy(slot(&big, alg, e + E_RAW), e, stride);
	}
	free(t->v);
	*t = big;
}

uint64_t *
dset_add(struct dset *s, const struct digest *d)
{
	struct dtab *t = &s->t[d->alg];
	unsigned char raw[64], *e;

	digest_raw(d, raw);
	if (4 * (t->n + 1) > 3 * t->cap)
		grow(t, d->alg);
	e = slot(t, d->alg, raw);
	if (!e[E_USED]) {
		memcpy(e + E_RAW, raw, stride_of(d->alg) - E_RAW);
		e[E_USED] = 1;
		memset(e + E_VAL, 0, sizeof(uint64_t));
		t->n++;
	}
	return (uint64_t *)(void *)(e + E_VAL);
}

uint64_t *
dset_get(const struct dset *s, const struct digest *d)
{
	const struct dtab *t = &s->t[d->alg];
	unsigned char raw[64], *e;

	if (t->cap == 0)
		return NULL;
	digest_raw(d, raw);
	e = slot(t, d->alg, raw);
	return e[E_USED] ? (uint64_t *)(void *)(e + E_VAL) : NULL;
}
