/* test_pwcheck.c - bcrypt off the loop: answers come back through the
 * loop (never from inside pwcheck_start), right and wrong and dummy, a
 * cancelled check never calls back, a full queue says NULL at once. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "htpasswd.h"
#include "pwcheck.h"
#include "unit.h"

struct answer {
	int	 calls, match;
};

static int pending;
static char hash[64];

static void
on_answer(int match, void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->match = match;
	if (--pending == 0)
		ev_break();
}

static void
on_guard(void *unused)
{
	ck_abort_msg("no answer within 20 s");
}

static void
wait_answers(void)
{
	struct ev_timer guard;

	ev_timer_init(&guard, on_guard, NULL);
	ev_timer_arm(&guard, 20000);
	if (pending > 0)
		ev_loop();
	ev_timer_cancel(&guard);
}

static struct pwcheck *
check(const char *h, const char *secret, struct answer *a)
{
	struct pwcheck *p;

	memset(a, 0, sizeof(*a));
	if ((p = pwcheck_start(h, secret, on_answer, a)) != NULL)
		pending++;
	return p;
}

static void
setup(void)
{
	ev_init();
	ck_assert_int_eq(htpasswd_hash("s3cret", 4, hash, sizeof(hash)), 0);
}

START_TEST(right_wrong_dummy)
{
	struct answer right, wrong, dummy, junk;
	char d[HTPASSWD_DUMMY_LEN];

	htpasswd_dummy(hash, d);
	ck_assert_ptr_nonnull(check(hash, "s3cret", &right));
	ck_assert_ptr_nonnull(check(hash, "guess", &wrong));
	ck_assert_ptr_nonnull(check(d, "s3cret", &dummy));
	ck_assert_ptr_nonnull(check("not a hash", "s3cret", &junk));
	ck_assert_int_eq(right.calls, 0);	/* never from inside start */
	wait_answers();
	ck_assert_int_eq(right.calls, 1);
	ck_assert_int_eq(right.match, 1);
	ck_assert_int_eq(wrong.calls, 1);
	ck_assert_int_eq(wrong.match, 0);
	ck_assert_int_eq(dummy.calls, 1);
	ck_assert_int_eq(dummy.match, 0);
	ck_assert_int_eq(junk.calls, 1);
	ck_assert_int_eq(junk.match, 0);
}
END_TEST

START_TEST(cancel_is_silent)
{
	struct answer gone, kept;
	struct pwcheck *p = check(hash, "s3cret", &gone);

	ck_assert_ptr_nonnull(p);
	pending--;			/* it will not answer */
	pwcheck_cancel(p);
	pwcheck_cancel(NULL);
	check(hash, "s3cret", &kept);
	wait_answers();
	check(hash, "s3cret", &kept);	/* one more turn for a late answer */
	wait_answers();
	ck_assert_int_eq(gone.calls, 0);
	ck_assert_int_eq(kept.match, 1);
}
END_TEST

/* A check counts until its answer is delivered in the loop: the
 * PWCHECK_QUEUE + 1st started in one turn is refused. */
START_TEST(queue_is_bounded)
{
	static struct answer a[PWCHECK_QUEUE + 1];
	int ok = 0;

	for (int i = 0; i < PWCHECK_QUEUE; i++)
		ck_assert_ptr_nonnull(check(hash, "s3cret", &a[i]));
	ck_assert_ptr_null(check(hash, "s3cret", &a[PWCHECK_QUEUE]));
	wait_answers();
	for (int i = 0; i < PWCHECK_QUEUE; i++)
		ok += a[i].calls == 1 && a[i].match == 1;
	ck_assert_int_eq(ok, PWCHECK_QUEUE);
	ck_assert_int_eq(a[PWCHECK_QUEUE].calls, 0);
	ck_assert_ptr_nonnull(check(hash, "s3cret", &a[0]));	/* room again */
	wait_answers();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pwcheck");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, right_wrong_dummy);
	tcase_add_test(tc, cancel_is_silent);
	tcase_add_test(tc, queue_is_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
