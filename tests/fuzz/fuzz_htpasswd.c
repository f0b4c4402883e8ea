/*
 * fuzz_htpasswd.c - libFuzzer target for lib/htpasswd.c: any file parses
 * into valid, distinct entries that render and parse back unchanged, each
 * found by its name; hashes parse accepted are ones libcrypt takes.
 * bcrypt is only run at cost 04 (a fuzzed "$2y$31$" would take hours).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htpasswd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Abort unless a and b hold the same entries in the same order. */
static void
same(const struct htpasswd *a, const struct htpasswd *b)
{
	size_t i;

	if (a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++)
		if (strcmp(a->e[i].name, b->e[i].name) != 0 ||
		    strcmp(a->e[i].hash, b->e[i].hash) != 0)
			abort();
}

/* Each entry valid, found as itself, and (cost 04) checkable. */
static void
entries_valid(const struct htpasswd *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (!htpasswd_name_valid(h->e[i].name) ||
		    strlen(h->e[i].hash) != 60 ||
		    htpasswd_find(h, h->e[i].name) != &h->e[i])
			abort();	/* also: no name twice */
		if (i < 2 && strncmp(h->e[i].hash + 3, "$04$", 4) == 0 &&
		    htpasswd_check(h->e[i].hash, h->e[i].name) == -1)
			abort();
	}
}

/* A NUL-terminated copy of the input as a hash must be refused fast or,
 * when it is bcrypt at cost 04, give an answer. */
static void
raw_hash(const uint8_t *data, size_t size)
{
	char h[128];

	if (size >= sizeof(h))
		return;
	memcpy(h, data, size);
	h[size] = '\0';
	if (size == 60 && strncmp(h + 3, "$04$", 4) != 0)
		return;
	(void)htpasswd_check(h, "password");
}

/* One input: a whole htpasswd file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct htpasswd h, h2;
	size_t skipped, first_bad, len, sk2;
	char err[128], *text;

	if (size > 65536)
		return 0;
	raw_hash(data, size);
	if (htpasswd_parse((const char *)data, size, &h, &skipped, &first_bad,
	    err, sizeof(err)) != 0)
		abort();	/* only size and user count are fatal */
	if ((skipped == 0) != (first_bad == 0))
		abort();
	entries_valid(&h);
	text = htpasswd_format(&h, &len);
	if (htpasswd_parse(text, len, &h2, &sk2, NULL, err, sizeof(err)) != 0 ||
	    sk2 != 0)
		abort();
	same(&h, &h2);
	free(text);
	htpasswd_clear(&h2);
	htpasswd_clear(&h);
	return 0;
}
