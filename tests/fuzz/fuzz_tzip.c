/*
 * fuzz_tzip.c - libFuzzer target for lib/tzip.c.  The input is cut into
 * frames, each a byte of flags, two bytes of length and the bytes:
 *  - fed to a receiver as a hostile peer's DATA payloads, none may inflate
 *    past a frame, and a refused one ends the stream;
 *  - the same bytes sent as stream data through a sender and a receiver
 *    come out unchanged, however raw and deflated frames interleave.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tframe.h"
#include "tzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t wire[TF_DATA_MAX], plain[TF_DATA_MAX];

/* The next frame of the input: its flags, bytes and length; 0 at the end. */
static int
next_frame(const uint8_t **p, size_t *left, uint8_t *flags,
    const uint8_t **frame, size_t *len)
{
	size_t n;

	if (*left < 3)
		return 0;
	*flags = (*p)[0] & TF_F_ZLIB;
	n = ((size_t)(*p)[1] << 8 | (*p)[2]) + 1;
	*p += 3;
	*left -= 3;
	if (n > *left)
		n = *left;
	if (n == 0)
		return 0;
	*frame = *p;
	*len = n;
	*p += n;
	*left -= n;
	return 1;
}

static void
hostile(const uint8_t *data, size_t size)
{
	struct tzip_dec d;
	const uint8_t *frame, *rx;
	uint8_t flags;
	size_t len, outlen;
	const char *err;

	tzip_dec_init(&d);
	while (next_frame(&data, &size, &flags, &frame, &len)) {
		rx = tzip_recv(&d, flags, frame, len, plain, &outlen, &err);
		if ((rx == NULL) != (err != NULL))
			abort();
		if (rx == NULL)
			break;
		if (outlen == 0 || outlen > TF_DATA_MAX ||
		    (rx != plain && rx != frame))
			abort();
	}
	tzip_dec_free(&d);
}

static void
round_trip(const uint8_t *data, size_t size)
{
	struct tzip_enc e;
	struct tzip_dec d;
	const uint8_t *frame, *tx, *rx;
	uint8_t flags;
	size_t len, txlen, rxlen;
	const char *err;

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	while (next_frame(&data, &size, &flags, &frame, &len)) {
		tx = tzip_send(&e, frame, len, wire, &txlen, &flags);
		if (txlen == 0 || txlen > len)
			abort();
		rx = tzip_recv(&d, flags, tx, txlen, plain, &rxlen, &err);
		if (rx == NULL || rxlen != len || memcmp(rx, frame, len) != 0)
			abort();
	}
	tzip_enc_free(&e);
	tzip_dec_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hostile(data, size);
	round_trip(data, size);
	return 0;
}
