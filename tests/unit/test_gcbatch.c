/* test_gcbatch.c - unit tests for lib/gcbatch.c: batches of sha256 and
 * sha512 digests round trip in order, a cut entry, an unknown algorithm
 * and a batch over its bound are refused, and answers decode to what was
 * put, an unknown result byte or a missing entry refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gcbatch.h"
#include "unit.h"

/* Digest number n, sha512 when wide. */
static struct digest
dg(unsigned n, int wide)
{
	struct digest d;
	char s[DIGEST_STRMAX];

	(void)snprintf(s, sizeof(s), "%s:%0*x%08x", wide ? "sha512" : "sha256",
	    wide ? 120 : 56, n * 2654435761u, n);
	ck_assert_int_eq(digest_parse(s, &d), 0);
	return d;
}

START_TEST(round_trip)
{
	struct digest in[10], out[10];
	struct buf b;

	buf_init(&b);
	for (unsigned i = 0; i < 10; i++) {
		in[i] = dg(i + 1, i % 3 == 0);
		gcb_add(&b, &in[i]);
	}
	ck_assert_uint_eq(b.len, 4 * 65 + 6 * 33);
	ck_assert_int_eq(gcb_parse(b.data, b.len, out, 10), 10);
	for (int i = 0; i < 10; i++)
		ck_assert_msg(digest_equal(&in[i], &out[i]), "entry %d", i);
	ck_assert_int_eq(gcb_parse(b.data, 0, out, 10), 0);
	buf_free(&b);
}
END_TEST

START_TEST(malformed)
{
	struct digest d = dg(7, 0), out[GCB_MAX];
	struct buf b;

	buf_init(&b);
	gcb_add(&b, &d);
	for (size_t cut = 1; cut < b.len; cut++)
		ck_assert_int_eq(gcb_parse(b.data, cut, out, 4), -1);
	b.data[0] = 2;
	ck_assert_int_eq(gcb_parse(b.data, b.len, out, 4), -1);
	b.data[0] = DIGEST_SHA256;
	/* more than the caller's room, and more than GCB_MAX */
	gcb_add(&b, &d);
	ck_assert_int_eq(gcb_parse(b.data, b.len, out, 1), -1);
	ck_assert_int_eq(gcb_parse(b.data, b.len, out, 2), 2);
	for (int i = 2; i < GCB_MAX + 1; i++)
		gcb_add(&b, &d);
	ck_assert_int_eq(gcb_parse(b.data, b.len, out, GCB_MAX), -1);
	ck_assert_int_eq(gcb_parse(b.data, b.len - 33, out, GCB_MAX), GCB_MAX);
	buf_free(&b);
}
END_TEST

START_TEST(results)
{
	const uint64_t sizes[] = { 0, 1, 0x0102030405060708ull, UINT64_MAX };
	enum gcb_result r;
	uint64_t size;
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < 4; i++)
		gcb_result_add(&b, (enum gcb_result)i, sizes[i]);
	ck_assert_uint_eq(b.len, 4 * GCB_RESULT_LEN);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(gcb_result_get(b.data, b.len, i, &r, &size), 0);
		ck_assert_int_eq(r, i);
		ck_assert_uint_eq(size, sizes[i]);
	}
	ck_assert_int_eq(gcb_result_get(b.data, b.len, 4, &r, &size), -1);
	ck_assert_int_eq(gcb_result_get(b.data, b.len - 1, 3, &r, &size), -1);
	b.data[GCB_RESULT_LEN] = 4;
	ck_assert_int_eq(gcb_result_get(b.data, b.len, 1, &r, &size), -1);
	buf_free(&b);
}
END_TEST

/* A swept directory's name gives its hex; any other name gives none. */
START_TEST(swept_names)
{
	ck_assert_str_eq(gc_swept_hex(GC_SWEPT_PREFIX "ab12"), "ab12");
	ck_assert_str_eq(gc_swept_hex(GC_SWEPT_PREFIX), "");
	ck_assert_ptr_null(gc_swept_hex("ab12"));
	ck_assert_ptr_null(gc_swept_hex(".regmaster-swept"));
	ck_assert_ptr_null(gc_swept_hex(""));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("gcbatch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, results);
	tcase_add_test(tc, swept_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
