/* test_keyhash.c - lib/keyhash.c's remembered slots (authd's password
 * cache, tunneld's status page): a hash is found until it expires, put
 * again it keeps its slot, and a new one takes the slot nearest expiry. */
#include <check.h>
#include <string.h>

#include "keyhash.h"
#include "unit.h"

static void
mk(unsigned char h[KEYHASH_LEN], int n)
{
	memset(h, 0, KEYHASH_LEN);
	h[KEYHASH_LEN - 1] = (unsigned char)n;
}

START_TEST(find_and_expire)
{
	struct keyhash_slot set[2];
	unsigned char a[KEYHASH_LEN], b[KEYHASH_LEN];

	memset(set, 0, sizeof(set));
	mk(a, 1);
	mk(b, 2);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, a, 100), 0);
	keyhash_slot_put(set, 2, a, 1100);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, a, 100), 1000);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, b, 100), 0);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, a, 1100), 0);
}
END_TEST

START_TEST(own_slot_then_nearest_expiry)
{
	struct keyhash_slot set[2];
	unsigned char a[KEYHASH_LEN], b[KEYHASH_LEN], c[KEYHASH_LEN];

	memset(set, 0, sizeof(set));
	mk(a, 1);
	mk(b, 2);
	mk(c, 3);
	keyhash_slot_put(set, 2, a, 500);
	keyhash_slot_put(set, 2, b, 900);
	keyhash_slot_put(set, 2, a, 2000);	/* renewed in place: b stays */
	ck_assert_uint_eq(keyhash_slot_find(set, 2, a, 0), 2000);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, b, 0), 900);
	keyhash_slot_put(set, 2, c, 3000);	/* takes b's, nearest expiry */
	ck_assert_uint_eq(keyhash_slot_find(set, 2, b, 0), 0);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, a, 0), 2000);
	ck_assert_uint_eq(keyhash_slot_find(set, 2, c, 0), 3000);
}
END_TEST

static Suite *
suite(void)
{
	Suite *su = suite_create("keyhash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, find_and_expire);
	tcase_add_test(tc, own_slot_then_nearest_expiry);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(suite());
}
