/* test_ctrl.c - tunneld's control messages: each type round-trips through
 * format and parse; what a peer must not send (unknown keys and types,
 * wrong kinds, values out of range, names that are not names, oversized
 * lists and texts) is refused with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"
#include "tframe.h"
#include "unit.h"

static struct ctrl_msg m, back;
static char err[256];

static int
parse(const char *json)
{
	return ctrl_parse((const uint8_t *)json, strlen(json), &back, err,
	    sizeof(err));
}

/* m formats, and parses back into the same structure. */
static void
round_trip(void)
{
	size_t len;
	char *s = ctrl_format(&m, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), len);
	ck_assert_msg(ctrl_parse((const uint8_t *)s, len, &back, err,
	    sizeof(err)) == 0, "%s: %s", s, err);
	ck_assert_msg(memcmp(&m, &back, sizeof(m)) == 0, "%s differs", s);
	free(s);
}

START_TEST(types_round_trip)
{
	memset(&m, 0, sizeof(m));
	m.type = CTRL_CHALLENGE;
	for (int i = 0; i < CTRL_NONCE; i++)
		m.nonce[i] = (uint8_t)(i * 37 + 1);
	strcpy(m.version, "0.1.0");
	round_trip();
	memset(&m, 0, sizeof(m));
	m.type = CTRL_AUTH;
	memset(m.mac, 0xab, sizeof(m.mac));
	strcpy(m.name, "client-1");
	strcpy(m.version, "0.1.0");
	m.conn = 15;
	round_trip();
	memset(&m, 0, sizeof(m));
	m.type = CTRL_ERROR;
	strcpy(m.message, "authentication failed: wrong token");
	round_trip();
	memset(&m, 0, sizeof(m));
	m.type = CTRL_HEALTH;
	strcpy(m.name, "registry");
	m.healthy = 1;
	round_trip();
}
END_TEST

START_TEST(lists_round_trip)
{
	memset(&m, 0, sizeof(m));
	m.type = CTRL_REGISTER;
	m.n = TUNNEL_PROXIES_MAX;
	for (size_t i = 0; i < m.n; i++) {
		struct ctrl_proxy *p = &m.proxies[i];
		snprintf(p->name, sizeof(p->name), "p%zu", i);
		strcpy(p->group, "g");
		p->remote_port = 5000 + (unsigned)i;
		p->weight = 1000;
		p->compression = (int)(i & 1);
		p->proxy_protocol = !p->compression;
		strcpy(p->health, i % 3 == 0 ? "none" : i % 3 == 1 ? "tcp" :
		    "http:/v2/");
	}
	round_trip();
	memset(&m, 0, sizeof(m));
	m.type = CTRL_REGISTERED;
	m.n = 2;
	strcpy(m.results[0].name, "a");
	m.results[0].ok = 1;
	strcpy(m.results[1].name, "b");
	strcpy(m.results[1].error, "port 6000 is outside the relay's ports");
	round_trip();
}
END_TEST

#define NONCE "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""
#define PROXY(f) "{\"type\":\"register\",\"proxies\":[{\"name\":\"a\"," \
	"\"group\":\"g\",\"remote_port\":5000,\"weight\":1,\"compression\":false," \
	"\"proxy_protocol\":false,\"health\":\"none\"" f "}]}"

START_TEST(refusals)
{
	static const struct { const char *json, *why; } bad[] = {
		{ "", "not JSON" },
		{ "[1]", "not an object" },
		{ "{\"type\":\"hello\"}", "unknown type" },
		{ "{\"type\":1}", "not a string" },
		{ "{\"type\":\"challenge\",\"nonce\":" NONCE "}", "version" },
		{ "{\"type\":\"challenge\",\"nonce\":\"00\",\"version\":\"1\"}",
		    "64 hex" },
		{ "{\"type\":\"challenge\",\"nonce\":" NONCE ",\"version\":\"1\","
		    "\"extra\":1}", "unknown key" },
		{ "{\"type\":\"auth\",\"mac\":" NONCE ",\"name\":\"a b\","
		    "\"version\":\"1\",\"conn\":0}", "not a name" },
		{ "{\"type\":\"auth\",\"mac\":" NONCE ",\"name\":\"a\","
		    "\"version\":\"1\",\"conn\":16}", "out of range" },
		{ "{\"type\":\"auth\",\"mac\":" NONCE ",\"name\":\"a\","
		    "\"version\":\"1\",\"conn\":-1}", "out of range" },
		{ "{\"type\":\"error\",\"message\":\"a\\u0000b\"}", "not JSON" },
		{ "{\"type\":\"error\",\"message\":\"a\\nb\"}", "control" },
		{ "{\"type\":\"error\",\"message\":\"a\",\"message\":\"b\"}",
		    "not JSON" },
		{ PROXY(",\"x\":1"), "unknown key" },
		{ "{\"type\":\"register\",\"proxies\":[{\"name\":\"a\",\"group\":"
		    "\"g\",\"remote_port\":0,\"weight\":1,\"compression\":false,"
		    "\"proxy_protocol\":false,\"health\":\"none\"}]}",
		    "out of range" },
		{ "{\"type\":\"register\",\"proxies\":[{\"name\":\"a\",\"group\":"
		    "\"g\",\"remote_port\":1,\"weight\":1001,\"compression\":false,"
		    "\"proxy_protocol\":false,\"health\":\"none\"}]}",
		    "out of range" },
		{ "{\"type\":\"register\",\"proxies\":[{\"name\":\"a\",\"group\":"
		    "\"g\",\"remote_port\":1,\"weight\":1,\"compression\":0,"
		    "\"proxy_protocol\":false,\"health\":\"none\"}]}",
		    "not a boolean" },
		{ "{\"type\":\"register\",\"proxies\":[{\"name\":\"a\",\"group\":"
		    "\"g\",\"remote_port\":1,\"weight\":1,\"compression\":false,"
		    "\"proxy_protocol\":false,\"health\":\"ping\"}]}", "health" },
		{ "{\"type\":\"register\",\"proxies\":{}}", "not an array" },
		{ "{\"type\":\"register\",\"proxies\":[1]}", "not an object" },
		{ "{\"type\":\"registered\",\"results\":[{\"name\":\"a\","
		    "\"ok\":false}]}", "error" },
		{ "{\"type\":\"health\",\"proxy\":\"a\",\"healthy\":\"yes\"}",
		    "not a boolean" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].json) == -1, "accepted %s",
		    bad[i].json);
		ck_assert_msg(strstr(err, bad[i].why) != NULL, "%s: '%s' lacks "
		    "'%s'", bad[i].json, err, bad[i].why);
	}
	ck_assert_int_eq(parse(PROXY("")), 0);
	ck_assert_uint_eq(back.n, 1);
	ck_assert_uint_eq(back.proxies[0].remote_port, 5000);
}
END_TEST

/* Bounds: a list over TUNNEL_PROXIES_MAX, a text over its field. */
START_TEST(bounds)
{
	char *s = malloc(TF_CTRL_MAX + 64), *p;

	p = s + sprintf(s, "{\"type\":\"registered\",\"results\":[");
	for (int i = 0; i <= TUNNEL_PROXIES_MAX; i++)
		p += sprintf(p, "%s{\"name\":\"a\",\"ok\":true}", i ? "," : "");
	strcpy(p, "]}");
	ck_assert_int_eq(parse(s), -1);
	ck_assert_ptr_nonnull(strstr(err, "too many"));
	p = s + sprintf(s, "{\"type\":\"error\",\"message\":\"");
	memset(p, 'x', CTRL_TEXT_MAX);
	strcpy(p + CTRL_TEXT_MAX, "\"}");
	ck_assert_int_eq(parse(s), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	p[CTRL_TEXT_MAX - 1] = '"';
	strcpy(p + CTRL_TEXT_MAX, "}");
	ck_assert_int_eq(parse(s), 0);
	memset(s, ' ', TF_CTRL_MAX + 1);
	ck_assert_int_eq(ctrl_parse((uint8_t *)s, TF_CTRL_MAX + 1, &back, err,
	    sizeof(err)), -1);
	free(s);
	/* what the parser refuses, the formatter does not make */
	memset(&m, 0, sizeof(m));
	m.type = CTRL_HEALTH;
	strcpy(m.name, "not a name");
	size_t len;
	ck_assert_ptr_null(ctrl_format(&m, &len));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ctrl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, types_round_trip);
	tcase_add_test(tc, lists_round_trip);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, bounds);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
