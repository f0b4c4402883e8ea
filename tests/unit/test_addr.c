/* test_addr.c - unit tests for lib/util.c's addr_parse, the inverse of
 * addr_format: what the relay writes of a visitor into OPEN parses back to
 * the same address; anything else is refused (the tunnel client then sends
 * a LOCAL PROXY header rather than a made-up address); and addr_count_key,
 * the name per-address limits count under. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "unit.h"

static void
round_trip(const char *s)
{
	struct sockaddr_storage ss;
	char out[64];

	ck_assert_msg(addr_parse(s, &ss) == 0, "%s refused", s);
	ck_assert_int_eq(addr_format((struct sockaddr *)&ss, out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, s);
}

static void
refused(const char *s)
{
	struct sockaddr_storage ss;

	ck_assert_msg(addr_parse(s, &ss) == -1, "%s accepted", s);
}

START_TEST(round_trips)
{
	struct sockaddr_storage ss;

	round_trip("192.0.2.7:40000");
	round_trip("0.0.0.0:0");
	round_trip("255.255.255.255:65535");
	round_trip("[2001:db8::7]:1");
	round_trip("[::ffff:192.0.2.7]:443");
	round_trip("[::]:5000");
	ck_assert_int_eq(addr_parse("10.1.2.3:8080", &ss), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
}
END_TEST

START_TEST(refusals)
{
	static const char *const bad[] = { "", ":", "1.2.3.4", "1.2.3.4:",
	    "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:80x", "1.2.3:80",
	    "host.example:80", "unknown", "2001:db8::7:80", "[2001:db8::7]",
	    "[2001:db8::7]80", "[1.2.3.4]:80", "[::1:80", "::1]:80",
	    "1.2.3.4:80:90", "[::1]:", " 1.2.3.4:80",
	    "[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1", NULL };

	for (int i = 0; bad[i]; i++)
		refused(bad[i]);
}
END_TEST

/* What a per-address limit counts: IPv4 and v4-mapped as they are, IPv6
 * by its /64, anything else untouched. */
START_TEST(count_keys)
{
	char net[INET6_ADDRSTRLEN], other[INET6_ADDRSTRLEN];

	ck_assert_str_eq(addr_count_key("192.0.2.7", net), "192.0.2.7");
	ck_assert_str_eq(addr_count_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd",
	    net), "2001:db8:1:2::");
	ck_assert_str_eq(addr_count_key("2001:db8:1:2::1", net),
	    addr_count_key("2001:db8:1:2:ffff::9", other));
	ck_assert_str_ne(addr_count_key("2001:db8:1:2::1", net),
	    addr_count_key("2001:db8:1:3::1", other));
	ck_assert_str_eq(addr_count_key("::ffff:192.0.2.7", net),
	    "::ffff:192.0.2.7");
	ck_assert_str_eq(addr_count_key("unknown", net), "unknown");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, count_keys);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
