/* test_swrr.c - smooth weighted round-robin: exact shares over a cycle,
 * spread rather than bursts, ineligible items skipped at once. */
#include <check.h>
#include <stdlib.h>

#include "swrr.h"
#include "unit.h"

START_TEST(shares_are_exact)
{
	struct swrr_item it[3] = { { 60, 1, 0 }, { 40, 1, 0 }, { 1, 0, 0 } };
	int count[3] = { 0 };

	for (int i = 0; i < 1000; i++) {
		long k = swrr_pick(it, 3);
		ck_assert(k >= 0 && k < 2);
		count[k]++;
	}
	ck_assert_int_eq(count[0], 600);
	ck_assert_int_eq(count[1], 400);
	ck_assert_int_eq(count[2], 0);
}
END_TEST

/* 5:1:1 gives a a b a c a a, nginx's example: never five a in a row. */
START_TEST(picks_are_spread)
{
	struct swrr_item it[3] = { { 5, 1, 0 }, { 1, 1, 0 }, { 1, 1, 0 } };
	static const long want[] = { 0, 0, 1, 0, 2, 0, 0 };

	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 7; i++)
			ck_assert_int_eq(swrr_pick(it, 3), want[i]);
}
END_TEST

START_TEST(ineligible_skipped)
{
	struct swrr_item it[2] = { { 60, 1, 0 }, { 40, 1, 0 } };
	int count[2] = { 0 };

	it[0].eligible = 0;
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(swrr_pick(it, 2), 1);
	it[1].eligible = 0;
	ck_assert_int_eq(swrr_pick(it, 2), -1);
	ck_assert_int_eq(swrr_pick(it, 0), -1);
	it[0].eligible = it[1].eligible = 1;
	it[0].current = it[1].current = 0;
	for (int i = 0; i < 100; i++)
		count[swrr_pick(it, 2)]++;
	ck_assert_int_eq(count[0], 60);
	ck_assert_int_eq(count[1], 40);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("swrr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, shares_are_exact);
	tcase_add_test(tc, picks_are_spread);
	tcase_add_test(tc, ineligible_skipped);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
