/*
 * tzip_bench.c - what lib/tzip costs a tunnel stream: 64 KiB frames of
 * random (incompressible) data and of registry JSON through a sender and a
 * receiver, against memcpy of the same bytes; random data also with every
 * frame tried (the cost back-off saves).  Prints MB/s and the ratio.
 *   usage: bench/tzip_bench [MiB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tframe.h"
#include "tzip.h"

static uint8_t wire[TF_DATA_MAX], plain[TF_DATA_MAX];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
fill(uint8_t *buf, size_t n, int text)
{
	size_t i = 0;

	srandom(1);
	while (i < n) {
		char rec[160];
		int k;

		if (!text) {
			buf[i++] = (uint8_t)random();
			continue;
		}
		k = snprintf(rec, sizeof(rec), "{\"mediaType\":\"application/"
		    "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%08lx"
		    "%08lx\",\"size\":%ld},\n", random(), random(),
		    random() % 100000000);
		for (int j = 0; j < k && i < n; j++)
			buf[i++] = (uint8_t)rec[j];
	}
}

/* MB/s of n frames from src through both ends (or memcpy if !zip). */
static double
run(const uint8_t *src, size_t frames, int zip, int always, double *ratio)
{
	struct tzip_enc e;
	struct tzip_dec d;
	const uint8_t *tx, *rx;
	size_t txlen, rxlen, sink = 0;
	uint8_t flags;
	const char *err;
	double t0 = now();

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	for (size_t i = 0; i < frames; i++) {
		const uint8_t *in = src + (i % 64) * TF_DATA_MAX;

		if (!zip) {
			memcpy(plain, in, TF_DATA_MAX);
			sink += plain[i % TF_DATA_MAX];
			continue;
		}
		if (always)
			e.skip = 0;
		tx = tzip_send(&e, in, TF_DATA_MAX, wire, &txlen, &flags);
		rx = tzip_recv(&d, flags, tx, txlen, plain, &rxlen, &err);
		if (rx == NULL)
			abort();
		if (rx != plain)	/* a raw frame: the copy memcpy makes */
			memcpy(plain, rx, rxlen);
		sink += plain[i % rxlen];
	}
	*ratio = zip ? (double)e.out / (double)e.in : 1;
	tzip_enc_free(&e);
	tzip_dec_free(&d);
	if (sink == 1)
		putchar(' ');
	return frames * (double)TF_DATA_MAX / (now() - t0) / 1e6;
}

int
main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t frames = mib * 16;
	uint8_t *rnd = malloc(64 * TF_DATA_MAX), *txt = malloc(64 * TF_DATA_MAX);
	double r, mbs;

	if (rnd == NULL || txt == NULL)
		return 1;
	fill(rnd, 64 * TF_DATA_MAX, 0);
	fill(txt, 64 * TF_DATA_MAX, 1);
	mbs = run(rnd, frames, 0, 0, &r);
	printf("memcpy                   %8.0f MB/s\n", mbs);
	mbs = run(rnd, frames, 1, 0, &r);
	printf("tzip random              %8.0f MB/s  ratio %.3f\n", mbs, r);
	mbs = run(rnd, frames / 16, 1, 1, &r);
	printf("tzip random, no back-off %8.0f MB/s  ratio %.3f\n", mbs, r);
	mbs = run(txt, frames / 16, 1, 0, &r);
	printf("tzip JSON                %8.0f MB/s  ratio %.3f\n", mbs, r);
	free(rnd);
	free(txt);
	return 0;
}
