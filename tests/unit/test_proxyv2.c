/* test_proxyv2.c - unit tests for lib/proxyv2.c: headers built for IPv4,
 * IPv6, mixed and LOCAL parse back to the same addresses; every prefix
 * asks for more; TLVs are skipped; each rule refuses what breaks it, and an
 * HTTP request is refused at its first byte. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxyv2.h"
#include "unit.h"

static uint8_t buf[PROXYV2_MAX + 64], big[PROXYV2_MAX];

static struct sockaddr_storage
sa(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	}
	return ss;
}

static char *
text(const struct sockaddr_storage *ss)
{
	static char out[2][80];
	static int k;
	char ip[INET6_ADDRSTRLEN];
	int port;

	k ^= 1;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out[k], sizeof(out[k]), "%s %d", ip, port);
	return out[k];
}

/* Every strict prefix of the n bytes in buf wants more; all of it is n. */
static void
prefixes_wait(size_t n, struct proxyv2 *p)
{
	const char *err;

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(proxyv2_parse(buf, i, p, &err) == 0,
		    "prefix %zu of %zu: %s", i, n, err ? err : "parsed");
	ck_assert_int_eq(proxyv2_parse(buf, n + 7, p, &err), (long)n);
}

static void
round_trip(const char *s, int sp, const char *d, int dp, const char *ws,
    const char *wd, size_t wantlen)
{
	struct sockaddr_storage src = sa(s, sp), dst = sa(d, dp);
	struct proxyv2 p;
	size_t n;

	n = proxyv2_build(buf, (struct sockaddr *)&src, (struct sockaddr *)&dst);
	ck_assert_uint_eq(n, wantlen);
	prefixes_wait(n, &p);
	ck_assert_int_eq(p.local, 0);
	ck_assert_str_eq(text(&p.src), ws);
	ck_assert_str_eq(text(&p.dst), wd);
}

START_TEST(build_parse)
{
	struct proxyv2 p;

	round_trip("192.0.2.7", 40000, "10.0.0.1", 5000, "192.0.2.7 40000",
	    "10.0.0.1 5000", 28);
	round_trip("2001:db8::7", 1, "::1", 65535, "2001:db8::7 1",
	    "::1 65535", 52);
	round_trip("192.0.2.7", 40000, "::1", 443, "::ffff:192.0.2.7 40000",
	    "::1 443", 52);
	ck_assert_uint_eq(proxyv2_build(buf, NULL, NULL), 16);
	prefixes_wait(16, &p);
	ck_assert_int_eq(p.local, 1);
}
END_TEST

/* A valid TCP4 header of 16 + 12 + tlvlen bytes, TLV bytes from tlv. */
static size_t
tcp4(const uint8_t *tlv, size_t tlvlen)
{
	struct sockaddr_storage src = sa("198.51.100.9", 1234),
	    dst = sa("127.0.0.1", 80);
	size_t n = proxyv2_build(buf, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst);

	memcpy(buf + n, tlv, tlvlen);
	buf[14] = (uint8_t)((12 + tlvlen) >> 8);
	buf[15] = (uint8_t)(12 + tlvlen);
	return n + tlvlen;
}

static void
refused(size_t n, const char *what)
{
	struct proxyv2 p;
	const char *err;

	ck_assert_msg(proxyv2_parse(buf, n, &p, &err) == -1, "%s accepted",
	    what);
	ck_assert_ptr_nonnull(err);
}

START_TEST(tlvs_skipped)
{
	static const uint8_t tlvs[] = { 0x04, 0x00, 0x00,	/* NOOP, empty */
		0x02, 0x00, 0x03, 'r', 'e', 'g' };		/* AUTHORITY */
	struct proxyv2 p;
	size_t n = tcp4(tlvs, sizeof(tlvs));

	prefixes_wait(n, &p);
	ck_assert_str_eq(text(&p.src), "198.51.100.9 1234");
	n = tcp4(tlvs, sizeof(tlvs) - 1);
	refused(n, "a TLV longer than the header");
	n = tcp4(tlvs, 2);
	refused(n, "a header ending inside a TLV");
}
END_TEST

START_TEST(rules)
{
	size_t n;

	memcpy(buf, "GET / HTTP/1.1\r\n", 16);
	refused(1, "an HTTP request");
	n = tcp4(big, 0);
	buf[5] ^= 1;
	refused(6, "a wrong signature");
	n = tcp4(big, 0);
	buf[12] = 0x11;
	refused(13, "version 1");
	buf[12] = 0x22;
	refused(13, "command 2");
	buf[12] = 0x21;
	buf[13] = 0x12;
	refused(14, "UDP");
	buf[13] = 0x31;
	refused(14, "a UNIX socket");
	buf[13] = 0x00;
	refused(14, "PROXY of no family");
	buf[13] = 0x21;		/* TCP6 with TCP4's 12 bytes of addresses */
	refused(n, "IPv6 addresses cut short");
	n = tcp4(big, 1011);	/* 337 empty TLVs of type 0: 1023 bytes */
	ck_assert_int_eq(proxyv2_parse(buf, n, &(struct proxyv2){ 0 },
	    &(const char *){ NULL }), (long)n);
	n = tcp4(big, 1013);
	refused(16, "a header longer than we take");
	buf[12] = 0x20;		/* LOCAL takes any family, skips its bytes */
	buf[13] = 0x00;
	buf[14] = 0;
	buf[15] = 5;
	ck_assert_int_eq(proxyv2_parse(buf, 21, &(struct proxyv2){ 0 },
	    &(const char *){ NULL }), 21);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proxyv2");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, build_parse);
	tcase_add_test(tc, tlvs_skipped);
	tcase_add_test(tc, rules);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
