/* test_ev.c - lib/ev.c: ev_ready counts the descriptors a loop turn found
 * ready, leaving out those marked ev_quiet (storaged's sweep paces itself
 * by it: gcd's own link is no request to yield to), and a descriptor added
 * again after ev_del counts again. */
#include <check.h>
#include <fcntl.h>
#include <unistd.h>

#include "ev.h"
#include "unit.h"

static int seen[2];		/* ev_ready in each pipe's callback */
static struct ev_timer stop;

static void
on_read(int fd, int events, void *arg)
{
	char c;

	(void)read(fd, &c, 1);
	seen[(int)(long)arg] = ev_ready();
}

static void
on_stop(void *arg)
{
	ev_break();
}

/* One turn with both pipes readable, the second quiet or not: what each
 * callback saw.  The pipes are left watched and drained. */
static void
turn(int p[2][2], int quiet_second)
{
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(write(p[i][1], "x", 1), 1);
	if (quiet_second)
		ev_quiet(p[1][0]);
	seen[0] = seen[1] = -1;
	ev_timer_arm(&stop, 0);
	ev_loop();
}

START_TEST(quiet_not_counted)
{
	int p[2][2];

	ev_init();
	ev_timer_init(&stop, on_stop, NULL);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pipe2(p[i], O_CLOEXEC), 0);
		ev_add(p[i][0], EV_READ, on_read, (void *)(long)i);
	}
	turn(p, 0);
	ck_assert_int_eq(seen[0], 2);
	ck_assert_int_eq(seen[1], 2);
	turn(p, 1);
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], 1);
	/* removed and watched again: a request like any other */
	ev_del(p[1][0]);
	ev_add(p[1][0], EV_READ, on_read, (void *)1L);
	turn(p, 0);
	ck_assert_int_eq(seen[1], 2);
	/* only the quiet one ready: nothing to yield to */
	ev_quiet(p[1][0]);
	ck_assert_int_eq(write(p[1][1], "x", 1), 1);
	seen[1] = -1;
	ev_timer_arm(&stop, 0);
	ev_loop();
	ck_assert_int_eq(seen[1], 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *su = suite_create("ev");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, quiet_not_counted);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(suite());
}
