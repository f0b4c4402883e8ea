/* test_resolve.c - lookups off the loop: numeric hosts without a thread,
 * /etc/hosts names on one, unknown names fail, a cancelled lookup never
 * calls back, and a full queue says EAI_AGAIN instead of growing. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "resolve.h"
#include "unit.h"

struct answer {
	int	 calls, err, family, port;
	char	 text[INET6_ADDRSTRLEN];
};

static int pending;

static void
on_answer(const struct addrinfo *res, int err, void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->err = err;
	if (res != NULL) {
		a->family = res->ai_family;
		if (res->ai_family == AF_INET) {
			const struct sockaddr_in *s = (void *)res->ai_addr;
			inet_ntop(AF_INET, &s->sin_addr, a->text, sizeof(a->text));
			a->port = ntohs(s->sin_port);
		} else if (res->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s = (void *)res->ai_addr;
			inet_ntop(AF_INET6, &s->sin6_addr, a->text,
			    sizeof(a->text));
			a->port = ntohs(s->sin6_port);
		}
	}
	if (--pending == 0)
		ev_break();
}

static struct ev_timer guard;

static void
on_guard(void *unused)
{
	ck_abort_msg("no answer within 10 s");
}

/* Run the loop until every started lookup answered. */
static void
wait_answers(void)
{
	ev_timer_init(&guard, on_guard, NULL);
	ev_timer_arm(&guard, 10000);
	if (pending > 0)
		ev_loop();
	ev_timer_cancel(&guard);
}

static void
lookup(const char *host, const char *port, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	pending++;
	ck_assert_ptr_nonnull(resolve_start(host, port, SOCK_STREAM,
	    on_answer, a));
}

START_TEST(numeric_hosts)
{
	struct answer v4, v6, bad;

	ev_init();
	lookup("127.0.0.1", "5000", &v4);
	lookup("::1", "443", &v6);
	lookup("127.0.0.1", "http", &bad);	/* ports are numbers */
	ck_assert_int_eq(v4.calls, 0);		/* never from inside start */
	wait_answers();
	ck_assert_int_eq(v4.calls, 1);
	ck_assert_int_eq(v4.err, 0);
	ck_assert_int_eq(v4.family, AF_INET);
	ck_assert_str_eq(v4.text, "127.0.0.1");
	ck_assert_int_eq(v4.port, 5000);
	ck_assert_int_eq(v6.err, 0);
	ck_assert_int_eq(v6.family, AF_INET6);
	ck_assert_str_eq(v6.text, "::1");
	ck_assert_int_eq(v6.port, 443);
	ck_assert_int_eq(bad.calls, 1);
	ck_assert_int_ne(bad.err, 0);
}
END_TEST

START_TEST(hosts_file_name)
{
	struct answer a;

	ev_init();
	lookup("localhost", "80", &a);
	ck_assert_int_eq(a.calls, 0);
	wait_answers();
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.err, 0);
	ck_assert_msg(strcmp(a.text, "127.0.0.1") == 0 ||
	    strcmp(a.text, "::1") == 0, "localhost is %s", a.text);
	ck_assert_int_eq(a.port, 80);
}
END_TEST

START_TEST(unknown_and_invalid_names)
{
	struct answer unknown, empty, toolong;
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ev_init();
	lookup("no-such-host.invalid", "80", &unknown);
	lookup("", "80", &empty);
	lookup(big, "80", &toolong);
	wait_answers();
	ck_assert_int_eq(unknown.calls, 1);
	ck_assert_int_ne(unknown.err, 0);
	ck_assert_int_eq(unknown.family, 0);
	ck_assert_int_eq(empty.err, EAI_NONAME);
	ck_assert_int_eq(toolong.err, EAI_NONAME);
}
END_TEST

/* Cancelled lookups (on a thread, and numeric) never call back; the
 * loop keeps answering the others. */
START_TEST(cancel_is_silent)
{
	struct answer gone, gone_num, kept;
	struct resolve *r;

	ev_init();
	memset(&gone, 0, sizeof(gone));
	memset(&gone_num, 0, sizeof(gone_num));
	r = resolve_start("localhost", "80", SOCK_STREAM, on_answer, &gone);
	resolve_cancel(r);
	r = resolve_start("127.0.0.1", "80", SOCK_STREAM, on_answer,
	    &gone_num);
	resolve_cancel(r);
	resolve_cancel(NULL);
	lookup("localhost", "81", &kept);
	lookup("127.0.0.2", "82", &kept);
	wait_answers();
	/* the cancelled thread lookup ended before or with the kept one
	 * (two threads, FIFO): one more loop turn lets its answer drop */
	lookup("localhost", "83", &kept);
	wait_answers();
	ck_assert_int_eq(gone.calls, 0);
	ck_assert_int_eq(gone_num.calls, 0);
	ck_assert_int_eq(kept.err, 0);
}
END_TEST

/* Every lookup counts until its answer is delivered in the loop, so
 * RESOLVE_QUEUE + 1 names started in one turn: the last is refused. */
START_TEST(queue_is_bounded)
{
	static struct answer a[RESOLVE_QUEUE + 1];
	int ok = 0;

	ev_init();
	for (int i = 0; i <= RESOLVE_QUEUE; i++)
		lookup("localhost", "80", &a[i]);
	wait_answers();
	for (int i = 0; i < RESOLVE_QUEUE; i++)
		ok += a[i].calls == 1 && a[i].err == 0;
	ck_assert_int_eq(ok, RESOLVE_QUEUE);
	ck_assert_int_eq(a[RESOLVE_QUEUE].calls, 1);
	ck_assert_int_eq(a[RESOLVE_QUEUE].err, EAI_AGAIN);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, numeric_hosts);
	tcase_add_test(tc, hosts_file_name);
	tcase_add_test(tc, unknown_and_invalid_names);
	tcase_add_test(tc, cancel_is_silent);
	tcase_add_test(tc, queue_is_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
