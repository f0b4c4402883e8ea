/*
 * fuzz_gcbatch.c - libFuzzer target for lib/gcbatch.c.  The input is a
 * sweep batch as gcd would send it: whatever parses re-encodes to the very
 * bytes it came from, and an answer's entries decode without reading past
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gcbatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct digest ds[GCB_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gcb_result r;
	struct buf b;
	uint64_t sz;
	int n;

	if ((n = gcb_parse(data, size, ds, GCB_MAX)) >= 0) {
		buf_init(&b);
		for (int i = 0; i < n; i++)
			gcb_add(&b, &ds[i]);
		if (b.len != size || (size && memcmp(b.data, data, size)))
			abort();
		buf_free(&b);
	}
	for (size_t i = 0; i <= size / GCB_RESULT_LEN; i++)
		if (gcb_result_get(data, size, i, &r, &sz) == 0 &&
		    (i >= size / GCB_RESULT_LEN || r > GCB_FAILED))
			abort();
	return 0;
}
