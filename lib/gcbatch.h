/*
 * gcbatch.h - the bodies of gcd's sweep requests to storaged and of their
 * answers, so that a collection costs one message per many digests instead
 * of one per blob.  A request body is a run of entries, each one byte (the
 * digest's algorithm) and the digest's raw bytes (32 or 64); the answer
 * holds one entry per digest, in the same order: a result byte and the
 * bytes freed (64-bit, big-endian).
 */
#ifndef RM_GCBATCH_H
#define RM_GCBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

struct buf;

/* Digests a message: 66 KiB of sha512 digests at most, within A_BODY. */
#define GCB_MAX		1024
#define GCB_RESULT_LEN	9

/* What a sweep does with a blob's (a layer link's) directory <hex>: renames
 * it to GC_SWEPT_PREFIX<hex> in the same parent, to be freed later
 * (storaged/store.c store_swept_take); gcd's scan frees what a crash left
 * behind with the next collection. */
#define GC_SWEPT_PREFIX	".regmaster-swept-"
/* The hex of a swept directory's name, or NULL if name is not one. */
const char *gc_swept_hex(const char *name);

enum gcb_result {
	GCB_SWEPT = 0,		/* gone; the size says how many bytes */
	GCB_ABSENT = 1,		/* was not there */
	GCB_REFUSED = 2,	/* in use (remembered, young, linked) */
	GCB_FAILED = 3		/* the store said no (storaged logs why) */
};

void	 gcb_add(struct buf *, const struct digest *);
/* The digest at *off in body, *off moved past it: 1, or 0 at the end, or
 * -1 for an entry that is cut short or not a digest. */
int	 gcb_next(const void *body, size_t len, size_t *off, struct digest *);
/* The entries of body (-1: malformed or more than GCB_MAX), into ds. */
int	 gcb_parse(const void *body, size_t len, struct digest *ds, size_t max);

void	 gcb_result_add(struct buf *, enum gcb_result, uint64_t size);
/* Result n of an answer of len bytes: 0, or -1 if it holds no entry n or
 * a result byte it does not know. */
int	 gcb_result_get(const void *body, size_t len, size_t n,
	    enum gcb_result *, uint64_t *size);

#endif
