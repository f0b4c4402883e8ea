/* test_wwwauth.c - the upstream client's parsers: WWW-Authenticate
 * challenges, token answers, and response heads (lib/http). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "wwwauth.h"
#include "unit.h"

START_TEST(challenge_bearer)
{
	struct wwwauth w;

	ck_assert_int_eq(wwwauth_parse("Bearer realm=\"https://auth.docker.io/"
	    "token\",service=\"registry.docker.io\",scope=\"repository:library/"
	    "nginx:pull\"", &w), 0);
	ck_assert_int_eq(w.scheme, WA_BEARER);
	ck_assert_str_eq(w.realm, "https://auth.docker.io/token");
	ck_assert_str_eq(w.service, "registry.docker.io");
	ck_assert_str_eq(w.scope, "repository:library/nginx:pull");
	/* any case, spaces, token values, unknown and escaped parameters */
	ck_assert_int_eq(wwwauth_parse("bearer  Realm = \"http://h/t\" , "
	    "error=\"insufficient_scope\", service=reg, x=\"a\\\"b\"", &w), 0);
	ck_assert_str_eq(w.realm, "http://h/t");
	ck_assert_str_eq(w.service, "reg");
	ck_assert_str_eq(w.scope, "");
	ck_assert_int_eq(wwwauth_parse("Basic realm=\"regmaster\"", &w), 0);
	ck_assert_int_eq(w.scheme, WA_BASIC);
	ck_assert_int_eq(wwwauth_parse("Negotiate", &w), 0);
	ck_assert_int_eq(w.scheme, WA_OTHER);
}
END_TEST

START_TEST(challenge_refused)
{
	static const char *bad[] = {
		"", "Bearer", "Bearer service=\"x\"",	/* no realm */
		"Bearer realm=\"a\",realm=\"b\"",	/* twice */
		"Bearer realm=\"unterminated", "Bearer realm=", "Bearer =x",
		"Bearer realm=\"a\" junk", "Bearer realm=\"a\x01\"",
		"Bear,er realm=\"a\"", "Bearer realm=\"a\";service=\"b\"",
	};
	struct wwwauth w;
	char big[3000];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(wwwauth_parse(bad[i], &w) == -1, "accepted '%s'",
		    bad[i]);
	memset(big, 'a', sizeof(big));
	memcpy(big, "Bearer realm=\"", 14);
	strcpy(big + sizeof(big) - 2, "\"");
	ck_assert_int_eq(wwwauth_parse(big, &w), -1);	/* too long */
}
END_TEST

START_TEST(token_answers)
{
	char tok[WWWAUTH_TOKEN_MAX];
	uint64_t ttl;
	const char *j;

	j = "{\"token\":\"abc.def\",\"expires_in\":300,\"issued_at\":\"x\"}";
	ck_assert_int_eq(wwwauth_token_parse(j, strlen(j), tok, sizeof(tok),
	    &ttl), 0);
	ck_assert_str_eq(tok, "abc.def");
	ck_assert_uint_eq(ttl, 300);
	j = "{\"access_token\":\"zz\"}";
	ck_assert_int_eq(wwwauth_token_parse(j, strlen(j), tok, sizeof(tok),
	    &ttl), 0);
	ck_assert_str_eq(tok, "zz");
	ck_assert_uint_eq(ttl, 60);
	j = "{\"token\":\"t\",\"expires_in\":999999}";
	ck_assert_int_eq(wwwauth_token_parse(j, strlen(j), tok, sizeof(tok),
	    &ttl), 0);
	ck_assert_uint_eq(ttl, 86400);
}
END_TEST

START_TEST(token_refused)
{
	static const char *bad[] = {
		"", "[]", "{}", "{\"token\":1}", "{\"token\":\"\"}",
		"{\"token\":\"a b\"}", "{\"token\":\"a\\r\\nX: y\"}",
		"{\"token\":\"a\",\"expires_in\":\"soon\"}", "{\"token\":\"a\"",
		"{\"token\":\"a\",\"token\":\"b\"}",
	};
	char tok[WWWAUTH_TOKEN_MAX];
	uint64_t ttl;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(wwwauth_token_parse(bad[i], strlen(bad[i]), tok,
		    sizeof(tok), &ttl) == -1, "accepted '%s'", bad[i]);
	ck_assert_int_eq(wwwauth_token_parse("{\"token\":\"abcd\"}", 16, tok,
	    4, &ttl), -1);	/* does not fit */
}
END_TEST

START_TEST(response_heads)
{
	char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n"
	    "Docker-Content-Digest: sha256:ab\r\n\r\nbody";
	char chunked[] = "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: "
	    "chunked\r\nConnection: close\r\n\r\n";
	char noreason[] = "HTTP/1.0 204\r\n\r\n";
	struct http_request r;
	size_t n = strlen(head);

	ck_assert_int_eq(http_parse_response(head, n, &r), (int)n - 4);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, 12);
	ck_assert_str_eq(http_header_get(&r, "docker-content-digest"),
	    "sha256:ab");
	ck_assert(r.keep_alive);
	ck_assert_int_gt(http_parse_response(chunked, strlen(chunked), &r), 0);
	ck_assert(r.chunked && !r.keep_alive && r.status == 401);
	ck_assert_int_gt(http_parse_response(noreason, strlen(noreason), &r),
	    0);
	ck_assert_int_eq(r.status, 204);
	strcpy(head, "HTTP/1.1 200 OK\r\nContent-");
	ck_assert_int_eq(http_parse_response(head, strlen(head), &r), 0);
}
END_TEST

START_TEST(response_heads_refused)
{
	static const char *bad[] = {
		"HTTP/1.1 99 x\r\n\r\n", "HTTP/1.1 2000 x\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		"Content-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: "
		"chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "HTTP/1.1 200 OK\n\x01\n\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "SIP/2.0 200\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
	};
	struct http_request r;
	char buf[256], *endless;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(buf, bad[i]);
		ck_assert_msg(http_parse_response(buf, strlen(buf), &r) < 0,
		    "accepted '%s'", bad[i]);
	}
	/* endless headers: refused at the head limit */
	endless = malloc(HTTP_MAX_HEAD + 1);
	memcpy(endless, "HTTP/1.1 200 OK\r\n", 17);
	for (size_t i = 17; i < HTTP_MAX_HEAD; i++)
		endless[i] = (i % 40 == 39) ? '\n' : 'a';
	ck_assert_int_eq(http_parse_response(endless, HTTP_MAX_HEAD, &r),
	    -431);
	free(endless);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wwwauth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, challenge_bearer);
	tcase_add_test(tc, challenge_refused);
	tcase_add_test(tc, token_answers);
	tcase_add_test(tc, token_refused);
	tcase_add_test(tc, response_heads);
	tcase_add_test(tc, response_heads_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
