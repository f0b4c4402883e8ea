/*
 * fuzz_mtext.c - libFuzzer target for lib/mtext_check.c, the reader master
 * runs over each worker's part of a scrape.  An accepted text has exactly
 * as many samples as it has lines that are neither empty nor comments, and
 * every line of it is shorter than MTEXT_LINE_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	char err[256];
	long n, lines = 0;
	size_t off = 0;

	if ((n = mtext_check(t, size, NULL, err, sizeof(err))) == -1)
		return err[0] == '\0' ? (abort(), 0) : 0;
	while (off < size) {
		const char *nl = memchr(t + off, '\n', size - off);
		size_t len;
		if (nl == NULL)
			abort();	/* accepted without its last newline */
		len = (size_t)(nl - (t + off));
		if (len >= MTEXT_LINE_MAX)
			abort();
		lines += len > 0 && t[off] != '#';
		off += len + 1;
	}
	if (lines != n)
		abort();
	return 0;
}
