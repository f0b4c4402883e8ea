/* test_tbucket.c - token buckets: the burst, the refill rate, the wait a
 * refusal names, no refill beyond the burst, a clock that goes back. */
#include <check.h>
#include <stdlib.h>

#include "tbucket.h"
#include "unit.h"

START_TEST(burst_then_refused)
{
	struct tbucket b;

	tbucket_init(&b, 4, 4, 1000);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(tbucket_take(&b, 1000), 0);
	ck_assert_uint_eq(tbucket_take(&b, 1000), 1);
	ck_assert_uint_eq(tbucket_take(&b, 1000), 1);
}
END_TEST

/* 4 a second: one token every 250 ms, not one more. */
START_TEST(refill_rate)
{
	struct tbucket b;
	int got = 0;

	tbucket_init(&b, 4, 4, 0);
	for (int i = 0; i < 4; i++)
		(void)tbucket_take(&b, 0);
	ck_assert_uint_ne(tbucket_take(&b, 249), 0);
	ck_assert_uint_eq(tbucket_take(&b, 250), 0);
	ck_assert_uint_ne(tbucket_take(&b, 250), 0);
	/* ten seconds of asking every millisecond: 40 tokens */
	for (uint64_t t = 251; t <= 10250; t++)
		got += tbucket_take(&b, t) == 0;
	ck_assert_int_eq(got, 40);
}
END_TEST

START_TEST(refill_stops_at_burst)
{
	struct tbucket b;
	int got = 0;

	tbucket_init(&b, 4, 4, 0);
	(void)tbucket_take(&b, 0);
	for (int i = 0; i < 10; i++)
		got += tbucket_take(&b, UINT64_C(1) << 40) == 0;
	ck_assert_int_eq(got, 4);
}
END_TEST

/* The wait rounds up to whole seconds: slow buckets name longer ones. */
START_TEST(wait_named)
{
	struct tbucket b;

	tbucket_init(&b, 1, 1, 0);
	ck_assert_uint_eq(tbucket_take(&b, 0), 0);
	ck_assert_uint_eq(tbucket_take(&b, 0), 1);
	ck_assert_uint_eq(tbucket_take(&b, 999), 1);
	ck_assert_uint_eq(tbucket_take(&b, 1000), 0);
	tbucket_init(&b, 1, 1000, 0);
	(void)tbucket_take(&b, 0);
	ck_assert_uint_eq(tbucket_take(&b, 0), 1);
	ck_assert_uint_eq(tbucket_take(&b, 1), 0);
}
END_TEST

START_TEST(clock_back)
{
	struct tbucket b;

	tbucket_init(&b, 2, 1, 5000);
	(void)tbucket_take(&b, 5000);
	(void)tbucket_take(&b, 5000);
	ck_assert_uint_ne(tbucket_take(&b, 1000), 0);
	ck_assert_uint_ne(tbucket_take(&b, 5999), 0);
	ck_assert_uint_eq(tbucket_take(&b, 6000), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tbucket");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, burst_then_refused);
	tcase_add_test(tc, refill_rate);
	tcase_add_test(tc, refill_stops_at_burst);
	tcase_add_test(tc, wait_named);
	tcase_add_test(tc, clock_back);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
