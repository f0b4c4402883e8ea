/*
 * ucount.c - string-keyed counters for the upload quotas: a chained hash
 * table that grows with its entries, so that counting the sessions of one
 * address or repository costs the same with ten entries or a million.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ucount.h"
#include "util.h"

/* FNV-1a of a string. */
static size_t
ucount_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* Double the buckets once there are more entries than buckets. */
static void
ucount_grow(struct ucount_tab *t)
{
	size_t nb = t->nb ? t->nb * 2 : 64;
	struct ucount **b = xcalloc(nb, sizeof(*b)), *e, *next;

	for (size_t i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = next) {
			size_t k = ucount_hash(e->key) & (nb - 1);
			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

/* The entry for key, or a new one when create is set (else NULL). */
struct ucount *
ucount_get(struct ucount_tab *t, const char *key, int create)
{
	struct ucount *e;
	size_t len = strlen(key), k;

	if (t->nb) {
		for (e = t->b[ucount_hash(key) & (t->nb - 1)]; e; e = e->next)
			if (strcmp(e->key, key) == 0)
				return e;
	}
	if (!create)
		return NULL;
	if (t->count >= t->nb)
		ucount_grow(t);
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	k = ucount_hash(key) & (t->nb - 1);
	e->next = t->b[k];
	t->b[k] = e;
	t->count++;
	return e;
}

/* Count one session fewer; free the entry at none, so that the tables
 * hold as many entries as there are open sessions at most. */
void
ucount_dec(struct ucount_tab *t, struct ucount *e)
{
	struct ucount **pp;

	if (e->n == 0)
		fatalx("upload count of %s below zero", e->key);
	if (--e->n > 0)
		return;
	for (pp = &t->b[ucount_hash(e->key) & (t->nb - 1)]; *pp;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->count--;
			free(e);
			return;
		}
	fatalx("upload count of %s not in its table", e->key);
}

/* Free every entry (tests, leak checks). */
void
ucount_clear(struct ucount_tab *t)
{
	struct ucount *e, *next;

	for (size_t i = 0; i < t->nb; i++)
		for (e = t->b[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->b);
	memset(t, 0, sizeof(*t));
}
