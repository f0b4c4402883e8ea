/* test_dset.c - unit tests for lib/dset.c: digests added are found with
 * their values through growth, absent ones are not, a sha256 and a
 * sha512 digest whose first 32 bytes agree stay apart, a set all zero is
 * empty and usable, and clear empties it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dset.h"
#include "unit.h"

/* Digest number n (its first word varies, as real digests' do), sha512
 * when wide. */
static struct digest
dg(unsigned n, int wide)
{
	struct digest d;
	char s[DIGEST_STRMAX];

	(void)snprintf(s, sizeof(s), "%s:%08x%0*x", wide ? "sha512" : "sha256",
	    n * 2654435761u, wide ? 120 : 56, n);
	ck_assert_int_eq(digest_parse(s, &d), 0);
	return d;
}

START_TEST(add_get_grow)
{
	const unsigned n = 50000;
	struct dset s;
	struct digest d;

	dset_init(&s);
	for (unsigned i = 0; i < n; i++) {
		d = dg(i, i % 7 == 0);
		*dset_add(&s, &d) = i + 1000;
	}
	ck_assert_uint_eq(dset_count(&s), n);
	for (unsigned i = 0; i < n; i++) {
		d = dg(i, i % 7 == 0);
		ck_assert_ptr_nonnull(dset_get(&s, &d));
		ck_assert_uint_eq(*dset_get(&s, &d), i + 1000);
		/* the other algorithm's digest of the same number */
		d = dg(i, i % 7 != 0);
		ck_assert_ptr_null(dset_get(&s, &d));
	}
	for (unsigned i = n; i < n + 1000; i++) {
		d = dg(i, 0);
		ck_assert_ptr_null(dset_get(&s, &d));
	}
	d = dg(3, 0);
	ck_assert_uint_eq(*dset_add(&s, &d), 1003);	/* kept, not reset */
	ck_assert_uint_eq(dset_count(&s), n);
	dset_clear(&s);
	ck_assert_uint_eq(dset_count(&s), 0);
	ck_assert_ptr_null(dset_get(&s, &d));
}
END_TEST

/* sha512 digests whose first 32 bytes are a sha256 digest's: distinct. */
START_TEST(algorithms_apart)
{
	struct digest a, b;
	struct dset s;

	ck_assert_int_eq(digest_parse("sha256:"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	    &a), 0);
	ck_assert_int_eq(digest_parse("sha512:"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    "00000000000000000000000000000000000000000000000000000000000000",
	    &b), -1);	/* 126 hex digits: not one */
	ck_assert_int_eq(digest_parse("sha512:"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    &b), 0);
	dset_init(&s);
	*dset_add(&s, &a) = 1;
	ck_assert_ptr_null(dset_get(&s, &b));
	*dset_add(&s, &b) = 2;
	ck_assert_uint_eq(*dset_get(&s, &a), 1);
	ck_assert_uint_eq(*dset_get(&s, &b), 2);
	ck_assert_uint_eq(dset_count(&s), 2);
	dset_clear(&s);
}
END_TEST

/* A static set (storaged's) starts all zero, without dset_init. */
START_TEST(zero_is_empty)
{
	static struct dset s;
	struct digest d = dg(42, 0);

	ck_assert_ptr_null(dset_get(&s, &d));
	ck_assert_uint_eq(dset_count(&s), 0);
	*dset_add(&s, &d) = 7;
	ck_assert_uint_eq(*dset_get(&s, &d), 7);
	dset_clear(&s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, add_get_grow);
	tcase_add_test(tc, algorithms_apart);
	tcase_add_test(tc, zero_is_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
