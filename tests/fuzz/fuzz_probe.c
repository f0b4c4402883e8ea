/*
 * fuzz_probe.c - libFuzzer target for tunneld/probe.c's status line reader,
 * which reads what a local service answers a health check.  Every prefix
 * of the input is read as a status line still arriving: a verdict is
 * final (a longer prefix keeps it), a status is 100-599 and the digits
 * the input has there, and nothing beyond PROBE_LINE_MAX is ever needed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	int first = 0, st = 0, st0 = 0;

	for (size_t n = 0; n <= size; n++) {
		char *copy = malloc(n ? n : 1);	/* ASan: no read past n */
		int r;

		memcpy(copy, b, n);
		r = probe_status(copy, n, &st);
		free(copy);
		if (first != 0 && r != first)
			abort();
		if (r == 1 && (st < 100 || st > 599 || st != (b[9] - '0') *
		    100 + (b[10] - '0') * 10 + b[11] - '0' ||
		    (first == 1 && st != st0)))
			abort();
		if (r == 0 && n >= PROBE_LINE_MAX)
			abort();
		if (r != 0 && first == 0) {
			first = r;
			st0 = st;
		}
	}
	return 0;
}
