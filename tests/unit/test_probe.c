/* test_probe.c - the HTTP health check's request and status line reader:
 * whole status lines give their code; one still arriving asks for more,
 * byte by byte; what is not a status line (or too long to be one) fails;
 * a path that does not fit or is not a check makes no request. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "unit.h"

static int
status_of(const char *s)
{
	int st = -7;
	int r = probe_status(s, strlen(s), &st);

	return r == 1 ? st : r == 0 ? 0 : -1;
}

START_TEST(status_lines)
{
	ck_assert_int_eq(status_of("HTTP/1.1 200 OK\r\n"), 200);
	ck_assert_int_eq(status_of("HTTP/1.0 401 Unauthorized\r\nWWW-Au"), 401);
	ck_assert_int_eq(status_of("HTTP/1.1 503 Service Unavailable\n"), 503);
	ck_assert_int_eq(status_of("HTTP/1.1 204\r\n"), 204);
	ck_assert_int_eq(status_of("HTTP/1.1 200 alpha\n"), 200);
	ck_assert_int_eq(status_of("HTTP/1.1 599 x\r\n"), 599);
}
END_TEST

START_TEST(partial)
{
	const char *line = "HTTP/1.1 302 Found\r\n";
	size_t n = strlen(line);
	int st = 0;

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(probe_status(line, i, &st) == 0, "at %zu", i);
	ck_assert_int_eq(probe_status(line, n, &st), 1);
	ck_assert_int_eq(st, 302);
}
END_TEST

START_TEST(refused)
{
	char big[PROBE_LINE_MAX + 10];

	ck_assert_int_eq(status_of("alpha\n"), -1);
	ck_assert_int_eq(status_of("HTTP/2 200 OK\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.2 200 OK\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1  200 OK\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 20 OK\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 2000 OK\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 099 x\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 600 x\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 2x0 x\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 200 a\rb\r\n"), -1);
	ck_assert_int_eq(status_of("HTTP/1.1 200 a\001\n"), -1);
	ck_assert_int_eq(status_of("\n"), -1);
	/* no line end within PROBE_LINE_MAX: never a status line */
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 ", 13);
	ck_assert_int_eq(probe_status(big, PROBE_LINE_MAX - 1, &(int){0}), 0);
	ck_assert_int_eq(probe_status(big, PROBE_LINE_MAX, &(int){0}), -1);
	big[sizeof(big) - 1] = '\n';
	ck_assert_int_eq(probe_status(big, sizeof(big), &(int){0}), -1);
}
END_TEST

START_TEST(requests)
{
	char out[PROBE_REQ_MAX], path[TUNNEL_HEALTH_MAX + 8];
	size_t n = probe_request("http:/v2/", "127.0.0.1:5000", out,
	    sizeof(out));

	ck_assert_uint_eq(n, strlen(out));
	ck_assert_msg(strncmp(out, "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:5000"
	    "\r\n", 40) == 0, "%s", out);
	ck_assert_msg(strstr(out, "\r\nConnection: close\r\n\r\n") ==
	    out + n - 23, "%s", out);
	ck_assert_uint_eq(probe_request("tcp", "h:1", out, sizeof(out)), 0);
	ck_assert_uint_eq(probe_request("none", "h:1", out, sizeof(out)), 0);
	ck_assert_uint_eq(probe_request("http:/a b", "h:1", out, sizeof(out)),
	    0);
	ck_assert_uint_eq(probe_request("http:/v2/", "h:1", out, 20), 0);
	/* the longest check there may be fits */
	memset(path, 'p', sizeof(path));
	memcpy(path, "http:/", 6);
	path[TUNNEL_HEALTH_MAX - 1] = '\0';
	memset(out, 0, sizeof(out));
	ck_assert_uint_gt(probe_request(path, "h:1", out, sizeof(out)), 0);
	path[TUNNEL_HEALTH_MAX - 1] = path[TUNNEL_HEALTH_MAX] = 'p';
	path[TUNNEL_HEALTH_MAX + 1] = '\0';
	ck_assert_uint_eq(probe_request(path, "h:1", out, sizeof(out)), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, status_lines);
	tcase_add_test(tc, partial);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, requests);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
