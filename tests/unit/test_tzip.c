/* test_tzip.c - unit tests for lib/tzip.c: text, random and mixed streams
 * round trip frame by frame with the two ends' dictionaries in step across
 * raw frames; incompressible data stops being tried and is tried again;
 * payloads no sender makes (bombs, trailing bytes, truncation, final
 * blocks, garbage) are refused without writing past a frame. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tframe.h"
#include "tzip.h"
#include "unit.h"

static uint8_t wire[TF_DATA_MAX], plain[TF_DATA_MAX + 64];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* JSON a registry would send: repetitive, not constant. */
static void
fill_text(uint8_t *p, size_t n)
{
	size_t i = 0;
	int k;

	while (i < n) {
		char rec[128];

		k = snprintf(rec, sizeof(rec), "{\"mediaType\":\"application/"
		    "vnd.oci.image.layer.v1.tar+gzip\",\"size\":%u},", rnd() %
		    100000);
		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)rec[j];
	}
}

/* One frame through both ends; returns the flags it went with. */
static uint8_t
pass(struct tzip_enc *e, struct tzip_dec *d, const uint8_t *in, size_t len)
{
	const uint8_t *tx, *rx;
	uint8_t flags;
	size_t txlen, rxlen;
	const char *err;

	tx = tzip_send(e, in, len, wire, &txlen, &flags);
	ck_assert_uint_ge(txlen, 1);
	if (flags & TF_F_ZLIB) {
		ck_assert_ptr_eq(tx, wire);
		ck_assert_uint_lt(txlen, len);
	} else {
		ck_assert_ptr_eq(tx, in);
		ck_assert_uint_eq(txlen, len);
	}
	rx = tzip_recv(d, flags, tx, txlen, plain, &rxlen, &err);
	ck_assert_msg(rx != NULL, "refused: %s", err ? err : "?");
	ck_assert_uint_eq(rxlen, len);
	ck_assert_mem_eq(rx, in, len);
	return flags;
}

START_TEST(text_round_trip)
{
	static uint8_t in[TF_DATA_MAX];
	struct tzip_enc e;
	struct tzip_dec d;
	unsigned zipped = 0;

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	for (int i = 0; i < 200; i++) {
		size_t len = 1 + rnd() % TF_DATA_MAX;

		fill_text(in, len);
		zipped += (pass(&e, &d, in, len) & TF_F_ZLIB) != 0;
	}
	ck_assert_uint_ge(zipped, 190);
	ck_assert_uint_lt(e.out * 3, e.in);	/* JSON shrinks 3x at least */
	tzip_enc_free(&e);
	tzip_dec_free(&d);
}
END_TEST

START_TEST(random_backs_off)
{
	static uint8_t in[TF_DATA_MAX];
	struct tzip_enc e;
	struct tzip_dec d;
	unsigned tried = 0;

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	for (int i = 0; i < 2000; i++) {
		fill_random(in, TF_DATA_MAX);
		tried += e.skip == 0;
		ck_assert_uint_eq(pass(&e, &d, in, TF_DATA_MAX), 0);
	}
	ck_assert_uint_eq(e.out, e.in);
	/* 4 misses, then skips of 8, 16, ... 1024: a handful of tries */
	ck_assert_uint_le(tried, 4 + 10);
	ck_assert_ptr_null(e.z);		/* no zlib memory while idle */
	tzip_enc_free(&e);
	tzip_dec_free(&d);
}
END_TEST

START_TEST(resumes_after_random)
{
	static uint8_t in[TF_DATA_MAX];
	struct tzip_enc e;
	struct tzip_dec d;
	int i;

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	for (i = 0; i < 30; i++) {
		fill_random(in, 4096);
		pass(&e, &d, in, 4096);
	}
	fill_text(in, 4096);
	for (i = 0; i < 200 && !(pass(&e, &d, in, 4096) & TF_F_ZLIB); i++)
		;
	ck_assert_int_lt(i, 200);
	ck_assert_uint_eq(e.backoff, 8);	/* a hit forgets the misses */
	tzip_enc_free(&e);
	tzip_dec_free(&d);
}
END_TEST

/* Raw and deflated frames interleaved at random sizes: both ends reset on
 * the same raw frames, or a later deflated frame would not inflate. */
START_TEST(mixed_interleaving)
{
	static uint8_t in[TF_DATA_MAX];
	struct tzip_enc e;
	struct tzip_dec d;
	unsigned zipped = 0, raw = 0;

	tzip_enc_init(&e);
	tzip_dec_init(&d);
	for (int i = 0; i < 3000; i++) {
		size_t len = 1 + rnd() % (rnd() % 2 ? 300 : TF_DATA_MAX);

		if (rnd() % 3 == 0)
			fill_random(in, len);
		else
			fill_text(in, len);
		if (pass(&e, &d, in, len) & TF_F_ZLIB)
			zipped++;
		else
			raw++;
	}
	ck_assert_uint_gt(zipped, 500);
	ck_assert_uint_gt(raw, 500);
	tzip_enc_free(&e);
	tzip_dec_free(&d);
}
END_TEST

/* Raw deflate of in as a hostile sender would make it, with flush. */
static size_t
deflate_raw(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    int flush)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, -14, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (uint8_t *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_ne(deflate(&z, flush), Z_STREAM_ERROR);
	ck_assert_uint_eq(z.avail_in, 0);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

/* tzip_recv of the n bytes at p must be refused, and leave plain's guard. */
static void
refused(const uint8_t *p, size_t n, const char *what)
{
	struct tzip_dec d;
	size_t outlen;
	const char *err;

	memset(plain + TF_DATA_MAX, 0xa5, 64);
	tzip_dec_init(&d);
	ck_assert_msg(tzip_recv(&d, TF_F_ZLIB, p, n, plain, &outlen, &err) ==
	    NULL, "%s accepted", what);
	ck_assert_ptr_nonnull(err);
	for (int i = 0; i < 64; i++)
		ck_assert_uint_eq(plain[TF_DATA_MAX + i], 0xa5);
	tzip_dec_free(&d);
}

static void
accepted(const uint8_t *p, size_t n, size_t want)
{
	struct tzip_dec d;
	size_t outlen;
	const char *err;

	tzip_dec_init(&d);
	ck_assert_msg(tzip_recv(&d, TF_F_ZLIB, p, n, plain, &outlen, &err) !=
	    NULL, "%zu bytes for %zu refused: %s", n, want, err);
	ck_assert_uint_eq(outlen, want);
	tzip_dec_free(&d);
}

START_TEST(hostile_payloads)
{
	static uint8_t zeros[4 * TF_DATA_MAX], z[TF_DATA_MAX];
	size_t n;

	n = deflate_raw(zeros, TF_DATA_MAX, z, sizeof(z), Z_SYNC_FLUSH);
	accepted(z, n, TF_DATA_MAX);		/* exactly a frame: fine */
	n = deflate_raw(zeros, TF_DATA_MAX + 1, z, sizeof(z), Z_SYNC_FLUSH);
	refused(z, n, "a frame and a byte");
	n = deflate_raw(zeros, sizeof(zeros), z, sizeof(z), Z_SYNC_FLUSH);
	refused(z, n, "a bomb");
	n = deflate_raw((const uint8_t *)"hello", 5, z, sizeof(z), Z_FINISH);
	refused(z, n, "a final block");
	n = deflate_raw((const uint8_t *)"hello", 5, z, sizeof(z),
	    Z_SYNC_FLUSH);
	accepted(z, n, 5);
	refused(z, n - 4, "a payload without its sync flush");
	z[n] = 0x00;
	refused(z, n + 1, "a stored block's header after the flush");
	z[n] = 0xff;
	refused(z, n + 1, "a bad block type after the flush");
	n = deflate_raw(zeros, 0, z, sizeof(z), Z_SYNC_FLUSH);
	refused(z, n, "a payload of nothing");
	fill_random(z, 1000);
	refused(z, 1000, "garbage");
	refused(z, 0, "an empty payload");
}
END_TEST

/* A sender that kept its history across a raw frame is refused: the
 * receiver forgot it there, so the two ends can never silently drift. */
START_TEST(history_ends_at_raw)
{
	static const uint8_t text[] = "a line the second frame points back to";
	static uint8_t z1[256], z2[256];
	struct tzip_dec d;
	z_stream z;
	size_t n1, n2, outlen;
	const char *err;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, -14, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (uint8_t *)(uintptr_t)text;
	z.avail_in = sizeof(text);
	z.next_out = z1;
	z.avail_out = sizeof(z1);
	deflate(&z, Z_SYNC_FLUSH);
	n1 = sizeof(z1) - z.avail_out;
	z.next_in = (uint8_t *)(uintptr_t)text;
	z.avail_in = sizeof(text);
	z.next_out = z2;
	z.avail_out = sizeof(z2);
	deflate(&z, Z_SYNC_FLUSH);
	n2 = sizeof(z2) - z.avail_out;
	deflateEnd(&z);
	tzip_dec_init(&d);
	ck_assert_ptr_nonnull(tzip_recv(&d, TF_F_ZLIB, z1, n1, plain, &outlen,
	    &err));
	/* without the raw frame between, the back reference is good */
	ck_assert_ptr_nonnull(tzip_recv(&d, TF_F_ZLIB, z2, n2, plain, &outlen,
	    &err));
	ck_assert_ptr_nonnull(tzip_recv(&d, 0, text, 5, plain, &outlen, &err));
	ck_assert_ptr_null(tzip_recv(&d, TF_F_ZLIB, z2, n2, plain, &outlen,
	    &err));
	ck_assert_ptr_nonnull(err);
	tzip_dec_free(&d);
}
END_TEST

/* Garbage never writes past a frame nor claims more than one. */
START_TEST(garbage_bounded)
{
	static uint8_t z[4096];
	struct tzip_dec d;
	size_t outlen;
	const char *err;

	for (int i = 0; i < 5000; i++) {
		size_t n = 1 + rnd() % sizeof(z);

		fill_random(z, n);
		z[0] &= 0xfc;		/* mostly a block that may parse */
		tzip_dec_init(&d);
		if (tzip_recv(&d, TF_F_ZLIB, z, n, plain, &outlen, &err))
			ck_assert_uint_le(outlen, TF_DATA_MAX);
		else
			ck_assert_ptr_nonnull(err);
		tzip_dec_free(&d);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tzip");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, text_round_trip);
	tcase_add_test(tc, random_backs_off);
	tcase_add_test(tc, resumes_after_random);
	tcase_add_test(tc, mixed_interleaving);
	tcase_add_test(tc, hostile_payloads);
	tcase_add_test(tc, history_ends_at_raw);
	tcase_add_test(tc, garbage_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
