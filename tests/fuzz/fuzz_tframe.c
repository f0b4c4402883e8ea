/*
 * fuzz_tframe.c - libFuzzer target for lib/tframe.c.  The input is a byte
 * stream as a peer would send it, decoded frame after frame: a decoded
 * frame lies inside the input and re-encodes to the very header it came
 * from; "more" is only said when the header so far is valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_frame(const uint8_t *p, size_t left, long n, const struct tframe *f)
{
	uint8_t hdr[TF_HDR];

	if (n < TF_HDR || (size_t)n > left || (size_t)n > TF_FRAME_MAX ||
	    f->len != (size_t)n - TF_HDR || f->payload != p + TF_HDR)
		abort();
	tframe_header(hdr, f->type, f->flags, f->stream, f->len);
	if (memcmp(hdr, p, TF_HDR) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	struct tframe f;
	const char *err;
	long n;

	while ((n = tframe_parse(p, left, &f, &err)) > 0) {
		check_frame(p, left, n, &f);
		p += n;
		left -= (size_t)n;
	}
	if ((n == -1) != (err != NULL))
		abort();
	if (n == 0 && left >= TF_HDR + TF_DATA_MAX)
		abort();	/* asked for more than any frame holds */
	return 0;
}
