/* test_http.c - unit tests for lib/http.c: heads, chunked bodies, ranges, queries. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "unit.h"

static char buf[HTTP_MAX_HEAD * 2];

/* Parse the first len bytes of s from a scratch copy. */
static int
parse_n(const char *s, size_t len, struct http_request *req)
{
	ck_assert_uint_le(len, sizeof(buf));
	memcpy(buf, s, len);
	return http_parse_request(buf, len, req);
}

/* Parse the string s from a scratch copy. */
static int
parse(const char *s, struct http_request *req)
{
	return parse_n(s, strlen(s), req);
}

/* Parse a request made of a line plus one extra header and "Host: h". */
static int
parse_with(const char *line, const char *field, struct http_request *req)
{
	char	 tmp[8192];

	snprintf(tmp, sizeof(tmp), "%s\r\nHost: h\r\n%s%s\r\n", line, field,
	    field[0] ? "\r\n" : "");
	return parse(tmp, req);
}

START_TEST(test_simple_get)
{
	struct http_request req;
	const char *s = "GET /v2/ HTTP/1.1\r\nHost: reg.example\r\n"
	    "User-Agent: docker/24\r\n\r\n";

	ck_assert_int_eq(parse(s, &req), (int)strlen(s));
	ck_assert_int_eq(req.method, HTTP_M_GET);
	ck_assert_str_eq(req.method_str, "GET");
	ck_assert_str_eq(req.target, "/v2/");
	ck_assert_str_eq(req.path, "/v2/");
	ck_assert_str_eq(req.query, "");
	ck_assert_int_eq(req.minor, 1);
	ck_assert_int_eq(req.nhdr, 2);
	ck_assert_str_eq(req.hdr[0].name, "Host");
	ck_assert_str_eq(req.hdr[0].value, "reg.example");
	ck_assert_uint_eq(req.head_len, strlen(s));
	ck_assert_int_eq(req.content_length, -1);
	ck_assert_int_eq(req.chunked, 0);
	ck_assert_int_eq(req.keep_alive, 1);
	ck_assert_int_eq(req.expect_continue, 0);
}
END_TEST

START_TEST(test_methods)
{
	static const struct { const char *m; enum http_method e; } t[] = {
		{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
		{ "PUT", HTTP_M_PUT }, { "POST", HTTP_M_POST },
		{ "PATCH", HTTP_M_PATCH }, { "DELETE", HTTP_M_DELETE },
		{ "OPTIONS", HTTP_M_OPTIONS }, { "BREW", HTTP_M_OTHER },
		{ "get", HTTP_M_OTHER },
	};
	struct http_request req;
	char	 line[64];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(line, sizeof(line), "%s / HTTP/1.1", t[i].m);
		ck_assert_int_gt(parse_with(line, "", &req), 0);
		ck_assert_int_eq(req.method, t[i].e);
		ck_assert_str_eq(req.method_str, t[i].m);
	}
	ck_assert_str_eq(http_method_name(HTTP_M_PATCH), "PATCH");
	ck_assert_ptr_null(http_method_name(HTTP_M_OTHER));
}
END_TEST

START_TEST(test_query_split)
{
	struct http_request req;

	ck_assert_int_gt(parse_with("GET /v2/a/b/tags/list?n=10&last=x HTTP/1.1",
	    "", &req), 0);
	ck_assert_str_eq(req.path, "/v2/a/b/tags/list");
	ck_assert_ptr_eq(req.target, req.path);
	ck_assert_str_eq(req.query, "n=10&last=x");
	ck_assert_int_gt(parse_with("GET /x? HTTP/1.1", "", &req), 0);
	ck_assert_str_eq(req.path, "/x");
	ck_assert_str_eq(req.query, "");
}
END_TEST

START_TEST(test_partial_prefixes)
{
	struct http_request req;
	const char *s = "PUT /v2/r/blobs/uploads/u?digest=sha256:ab HTTP/1.1\r\n"
	    "Host: h\r\nContent-Length: 5\r\n\r\nhello";
	size_t	 head = strlen(s) - 5, i;

	for (i = 0; i < head; i++)
		ck_assert_int_eq(parse_n(s, i, &req), 0);
	for (i = head; i <= strlen(s); i++) {
		ck_assert_int_eq(parse_n(s, i, &req), (int)head);
		ck_assert_int_eq(req.content_length, 5);
	}
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct http_request req;
	const char *s = "GET /v2/ HTTP/1.1\nHost: h\n\nGET /next";
	size_t	 len = 0;
	int	 rc;

	/* grow the buffer in place one byte at a time, as a socket might */
	memset(buf, 0, sizeof(buf));
	do {
		buf[len] = s[len];
		len++;
		rc = http_parse_request(buf, len, &req);
	} while (rc == 0 && len < strlen(s));
	ck_assert_int_eq(rc, 27);
	ck_assert_uint_eq(len, 27);
	ck_assert_str_eq(http_header_get(&req, "host"), "h");
}
END_TEST

START_TEST(test_bare_lf_and_mixed)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET / HTTP/1.1\nHost: h\n\n", &req), 24);
	ck_assert_str_eq(req.hdr[0].value, "h");
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\n\r\n", &req), 26);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\r\n\n", &req), 26);
}
END_TEST

START_TEST(test_bare_cr)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET / HTTP/1.1\rHost: h\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", &req),
	    -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", &req),
	    -400);
	/* a trailing CR may still be followed by LF: need more */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r", &req), 0);
	/* an incomplete head with a bad byte is refused at once */
	ck_assert_int_eq(parse("GET / HTTP/1.1\rX", &req), -400);
}
END_TEST

START_TEST(test_nul_and_controls)
{
	struct http_request req;
	static const char nul[] = "GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n";
	static const char nul2[] = "GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n";

	ck_assert_int_eq(parse_n(nul, sizeof(nul) - 1, &req), -400);
	ck_assert_int_eq(parse_n(nul2, sizeof(nul2) - 1, &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X: a\x01" "b", &req),
	    -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X: a\x7f", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X: a\x1b[m", &req),
	    -400);
	/* HT and obs-text are fine in values */
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "X: a\tb\xc3\xa9", &req),
	    0);
	ck_assert_str_eq(http_header_get(&req, "x"), "a\tb\xc3\xa9");
}
END_TEST

START_TEST(test_obs_fold)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
	    &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
	    &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n Host: h\r\n\r\n", &req), -400);
}
END_TEST

START_TEST(test_field_syntax)
{
	struct http_request req;

	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X : a", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X\t: a", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", ": a", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "No colon", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X(y): a", &req), -400);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "X\xc3\xa9: a", &req),
	    -400);
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "X:", &req), 0);
	ck_assert_str_eq(http_header_get(&req, "X"), "");
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "X: \t a b \t ", &req), 0);
	ck_assert_str_eq(http_header_get(&req, "X"), "a b");
}
END_TEST

START_TEST(test_header_get)
{
	struct http_request req;
	const char *s = "GET / HTTP/1.1\r\nHost: h\r\nAccept: a/1\r\n"
	    "X-One: 1\r\naccept: a/2\r\nACCEPT: a/3\r\n\r\n";
	int	 i, n = 0;

	ck_assert_int_gt(parse(s, &req), 0);
	ck_assert_str_eq(http_header_get(&req, "Accept"), "a/1");
	ck_assert_str_eq(http_header_get(&req, "x-one"), "1");
	ck_assert_ptr_null(http_header_get(&req, "X-Two"));
	ck_assert_ptr_null(http_header_get(&req, "X-On"));
	for (i = http_header_index(&req, "accept", 0); i != -1;
	    i = http_header_index(&req, "accept", i + 1))
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(http_header_index(&req, "accept", 2), 3);
}
END_TEST

START_TEST(test_content_length)
{
	struct http_request req;

	ck_assert_int_gt(parse_with("PUT / HTTP/1.1", "Content-Length: 0", &req),
	    0);
	ck_assert_int_eq(req.content_length, 0);
	ck_assert_int_gt(parse_with("PUT / HTTP/1.1", "content-length: 007",
	    &req), 0);
	ck_assert_int_eq(req.content_length, 7);
	ck_assert_int_gt(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 4611686018427387904", &req), 0);
	ck_assert_int_eq(req.content_length, INT64_C(1) << 62);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 4611686018427387905", &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 99999999999999999999999", &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length: +5",
	    &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length: -1",
	    &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length: 0x10",
	    &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length: 5, 5",
	    &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length: 1 2",
	    &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1", "Content-Length:", &req),
	    -400);
}
END_TEST

START_TEST(test_duplicate_content_length)
{
	struct http_request req;

	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 5\r\nContent-Length: 5", &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 5\r\ncontent-length: 6", &req), -400);
}
END_TEST

START_TEST(test_cl_and_te)
{
	struct http_request req;

	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Content-Length: 5\r\nTransfer-Encoding: chunked", &req), -400);
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Transfer-Encoding: chunked\r\nContent-Length: 5", &req), -400);
	/* the framing conflict wins over the unknown coding */
	ck_assert_int_eq(parse_with("PUT / HTTP/1.1",
	    "Transfer-Encoding: gzip\r\nContent-Length: 5", &req), -400);
}
END_TEST

START_TEST(test_transfer_encoding)
{
	struct http_request req;

	ck_assert_int_gt(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: Chunked ", &req), 0);
	ck_assert_int_eq(req.chunked, 1);
	ck_assert_int_eq(req.content_length, -1);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: gzip", &req), -501);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: gzip, chunked", &req), -501);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: chunked, chunked", &req), -501);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: identity", &req), -501);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: xchunked", &req), -501);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding:", &req), -400);
	ck_assert_int_eq(parse_with("PATCH / HTTP/1.1",
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", &req),
	    -400);
	ck_assert_int_eq(parse("PATCH / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &req), -400);
}
END_TEST

START_TEST(test_target_too_long)
{
	struct http_request req;
	static char s[HTTP_MAX_HEAD + 64];
	size_t	 n;

	/* exactly HTTP_MAX_TARGET is fine */
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', HTTP_MAX_TARGET - 1);
	n = 4 + HTTP_MAX_TARGET;
	n += (size_t)snprintf(s + n, sizeof(s) - n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(parse_n(s, n, &req), (int)n);
	ck_assert_uint_eq(strlen(req.target), HTTP_MAX_TARGET);
	/* one more byte is not */
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', HTTP_MAX_TARGET);
	n = 5 + HTTP_MAX_TARGET;
	n += (size_t)snprintf(s + n, sizeof(s) - n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	ck_assert_int_eq(parse_n(s, n, &req), -414);
	/* and is refused before the head is complete */
	ck_assert_int_eq(parse_n(s, 5 + HTTP_MAX_TARGET + 4, &req), -414);
	ck_assert_int_eq(parse_n(s, 5 + HTTP_MAX_TARGET, &req), -414);
	ck_assert_int_eq(parse_n(s, 4 + HTTP_MAX_TARGET, &req), 0);
	/* even when the head as a whole would also be too large */
	memset(s + 5, 'a', HTTP_MAX_HEAD);
	ck_assert_int_eq(parse_n(s, HTTP_MAX_HEAD + 5, &req), -414);
}
END_TEST

START_TEST(test_head_too_large)
{
	struct http_request req;
	static char s[HTTP_MAX_HEAD + 64];
	size_t	 n;

	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(s + n, 'v', sizeof(s) - n);
	ck_assert_int_eq(parse_n(s, HTTP_MAX_HEAD - 1, &req), 0);
	ck_assert_int_eq(parse_n(s, HTTP_MAX_HEAD, &req), -431);
	ck_assert_int_eq(parse_n(s, sizeof(s), &req), -431);
	/* a head of exactly HTTP_MAX_HEAD bytes is accepted */
	memcpy(s + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(parse_n(s, sizeof(s), &req), HTTP_MAX_HEAD);
	/* one byte more is not */
	memset(s + n, 'v', sizeof(s) - n);
	memcpy(s + HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
	ck_assert_int_eq(parse_n(s, sizeof(s), &req), -431);
}
END_TEST

START_TEST(test_too_many_headers)
{
	struct http_request req;
	static char s[8192];
	size_t	 n;
	int	 i;

	n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "X-%d: %d\r\n", i, i);
	memcpy(s + n, "\r\n", 3);
	ck_assert_int_eq(parse(s, &req), (int)n + 2);
	ck_assert_int_eq(req.nhdr, HTTP_MAX_HEADERS);
	ck_assert_str_eq(http_header_get(&req, "x-63"), "63");
	snprintf(s + n, sizeof(s) - n, "X-64: 64\r\n\r\n");
	ck_assert_int_eq(parse(s, &req), -431);
}
END_TEST

START_TEST(test_version)
{
	struct http_request req;

	ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &req), 0);
	ck_assert_int_eq(req.minor, 0);
	ck_assert_int_eq(parse("GET / HTTP/2.0\r\n\r\n", &req), -505);
	ck_assert_int_eq(parse("GET / HTTP/1.2\r\n\r\n", &req), -505);
	ck_assert_int_eq(parse("GET / HTTP/0.9\r\n\r\n", &req), -505);
	ck_assert_int_eq(parse("GET / HTTP/1\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.10\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / http/1.1\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1 \r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / FOO\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET /\r\n\r\n", &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/a.b\r\n\r\n", &req), -400);
}
END_TEST

START_TEST(test_request_line)
{
	struct http_request req;

	ck_assert_int_eq(parse_with("GET  / HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /  HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with(" GET / HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET\t/\tHTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("G(T / HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET", "", &req), -400);
	ck_assert_int_eq(parse_with("", "", &req), -400);
}
END_TEST

START_TEST(test_target_forms)
{
	struct http_request req;

	ck_assert_int_gt(parse_with("OPTIONS * HTTP/1.1", "", &req), 0);
	ck_assert_str_eq(req.path, "*");
	ck_assert_int_eq(parse_with("GET * HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET http://h/ HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("CONNECT h:443 HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /a#frag HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /a%2 HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /a%zz HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /a\"b HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /\xc3\xa9 HTTP/1.1", "", &req), -400);
	ck_assert_int_eq(parse_with("GET /a\\b HTTP/1.1", "", &req), -400);
	ck_assert_int_gt(parse_with("GET /a%2Fb:c@d;e=f!$&'()*+,~ HTTP/1.1", "",
	    &req), 0);
}
END_TEST

START_TEST(test_keep_alive)
{
	struct http_request req;

	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &req), 0);
	ck_assert_int_eq(req.keep_alive, 1);
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "Connection: close", &req),
	    0);
	ck_assert_int_eq(req.keep_alive, 0);
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "Connection: TE, Close",
	    &req), 0);
	ck_assert_int_eq(req.keep_alive, 0);
	ck_assert_int_gt(parse_with("GET / HTTP/1.1", "Connection: closed",
	    &req), 0);
	ck_assert_int_eq(req.keep_alive, 1);
	ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &req), 0);
	ck_assert_int_eq(req.keep_alive, 0);
	ck_assert_int_gt(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    &req), 0);
	ck_assert_int_eq(req.keep_alive, 1);
	ck_assert_int_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n", &req), 0);
	ck_assert_int_eq(req.keep_alive, 0);
	ck_assert_int_eq(http_list_has(" a ,, b,\tclose\t", "close"), 1);
	ck_assert_int_eq(http_list_has("", "close"), 0);
}
END_TEST

START_TEST(test_expect)
{
	struct http_request req;

	ck_assert_int_gt(parse_with("PUT / HTTP/1.1", "Expect: 100-Continue",
	    &req), 0);
	ck_assert_int_eq(req.expect_continue, 1);
	ck_assert_int_gt(parse_with("PUT / HTTP/1.1", "Expect: 200-ok", &req),
	    0);
	ck_assert_int_eq(req.expect_continue, -1);
	ck_assert_int_gt(parse_with("PUT / HTTP/1.1",
	    "Expect: foo\r\nExpect: 100-continue", &req), 0);
	ck_assert_int_eq(req.expect_continue, -1);
	ck_assert_int_gt(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
	    &req), 0);
	ck_assert_int_eq(req.expect_continue, 0);
}
END_TEST

START_TEST(test_host)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET / HTTP/1.1\r\n\r\n", &req), -400);
	ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &req), 0);
	ck_assert_int_eq(parse_with("GET / HTTP/1.1", "Host: h2", &req), -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", &req),
	    -400);
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", &req),
	    -400);
	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: [::1]:5000\r\n\r\n",
	    &req), 0);
}
END_TEST

START_TEST(test_leading_empty_lines_and_pipelining)
{
	struct http_request req;
	const char *s = "\r\n\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";

	ck_assert_int_eq(parse(s, &req), 31);
	ck_assert_str_eq(req.path, "/a");
	ck_assert_int_eq(parse(s + 31, &req), 28);
	ck_assert_str_eq(req.path, "/b");
	ck_assert_int_eq(parse("\r\n\r\n", &req), 0);
}
END_TEST

/* Run a chunked body through the decoder in pieces ending at cuts[]. */
static int
chunked_run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
    char *out, size_t outsz, size_t *outlen, size_t *used)
{
	struct http_chunked ch;
	const char *data;
	size_t	 pos = 0, avail, dl, c = 0;
	ssize_t	 r;
	int	 done = 0;

	http_chunked_init(&ch);
	*outlen = 0;
	avail = ncuts ? cuts[0] : len;
	for (;;) {
		r = http_chunked_step(&ch, in + pos, avail - pos, &data, &dl,
		    &done);
		if (r < 0)
			return -1;
		ck_assert_uint_le((size_t)r, avail - pos);
		if (dl > 0) {
			ck_assert(data >= in + pos &&
			    data + dl <= in + pos + r);
			ck_assert_uint_le(*outlen + dl, outsz);
			memcpy(out + *outlen, data, dl);
			*outlen += dl;
		}
		pos += (size_t)r;
		if (done)
			break;
		if (r == 0 || pos == avail) {
			if (avail == len)
				return 0;	/* truncated */
			avail = ++c < ncuts ? cuts[c] : len;
		}
	}
	*used = pos;
	return 1;
}

static const char chunked_body[] =
    "4;ext=1\r\nWiki\r\n"
    "5 ;a=\"q;x\" ; b\r\npedia\r\n"
    "E\r\n in\r\n\r\nchunks.\r\n"
    "0000a\r\n0123456789\r\n"
    "0;last\r\nX-Trailer: v\r\nY:\r\n\r\nNEXT";
static const char chunked_payload[] =
    "Wikipedia in\r\n\r\nchunks.0123456789";

START_TEST(test_chunked_all_splits)
{
	size_t	 len = sizeof(chunked_body) - 1, i, j, outlen, used, cuts[2];
	char	 out[128];

	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			ck_assert_int_eq(chunked_run(chunked_body, len, cuts, 2,
			    out, sizeof(out), &outlen, &used), 1);
			ck_assert_uint_eq(outlen, sizeof(chunked_payload) - 1);
			ck_assert_mem_eq(out, chunked_payload, outlen);
			ck_assert_uint_eq(used, len - 4);
		}
	}
}
END_TEST

START_TEST(test_chunked_byte_by_byte)
{
	size_t	 len = sizeof(chunked_body) - 1, i, outlen, used;
	size_t	 cuts[sizeof(chunked_body)];
	char	 out[128];

	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	ck_assert_int_eq(chunked_run(chunked_body, len, cuts, len, out,
	    sizeof(out), &outlen, &used), 1);
	ck_assert_mem_eq(out, chunked_payload, sizeof(chunked_payload) - 1);
	ck_assert_uint_eq(used, len - 4);
	/* every truncation stops short without error */
	for (i = 0; i < len - 4; i++)
		ck_assert_int_eq(chunked_run(chunked_body, i, NULL, 0, out,
		    sizeof(out), &outlen, &used), 0);
}
END_TEST

/* Decode s in one go: 1 done, 0 truncated, -1 error. */
static int
chunked_whole(const char *s)
{
	char	 out[8192];
	size_t	 outlen, used;

	return chunked_run(s, strlen(s), NULL, 0, out, sizeof(out), &outlen,
	    &used);
}

START_TEST(test_chunked_size_errors)
{
	ck_assert_int_eq(chunked_whole("fffffffffffffff\r\n"), 0);
	ck_assert_int_eq(chunked_whole("1000000000000000\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0000000000000001\r\nx\r\n0\r\n\r\n"),
	    -1);
	ck_assert_int_eq(chunked_whole("ffffffffffffffffffff\r\n"), -1);
	ck_assert_int_eq(chunked_whole("g\r\n"), -1);
	ck_assert_int_eq(chunked_whole("\r\n"), -1);
	ck_assert_int_eq(chunked_whole(";x\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0x10\r\n"), -1);
	ck_assert_int_eq(chunked_whole("-1\r\n"), -1);
	ck_assert_int_eq(chunked_whole("+1\r\n"), -1);
	ck_assert_int_eq(chunked_whole(" 1\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1 \r\nx\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1\nx\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1\rx\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1;a\nb\r\nx\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1;a\x01\r\nx\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("1 ; a = b\r\nx\r\n0\r\n\r\n"), 1);
	ck_assert_int_eq(chunked_whole("1\t;a\r\nx\r\n0\r\n\r\n"), 1);
}
END_TEST

START_TEST(test_chunked_data_crlf)
{
	ck_assert_int_eq(chunked_whole("3\r\nabc\r\n0\r\n\r\n"), 1);
	ck_assert_int_eq(chunked_whole("3\r\nabcd\r\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("3\r\nabc0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("3\r\nabc\n0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("3\r\nabc\rX0\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\n\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\n\r"), 0);
	ck_assert_int_eq(chunked_whole("0\r\n\rX"), -1);
}
END_TEST

START_TEST(test_chunked_ext_limit)
{
	char	 s[600];

	/* 256 bytes of chunk-ext (";" included) are fine, 257 are not */
	memset(s, 0, sizeof(s));
	s[0] = '1';
	s[1] = ';';
	memset(s + 2, 'e', 255);
	strcat(s, "\r\nx\r\n0\r\n\r\n");
	ck_assert_int_eq(chunked_whole(s), 1);
	memset(s, 0, sizeof(s));
	s[0] = '1';
	s[1] = ';';
	memset(s + 2, 'e', 256);
	strcat(s, "\r\nx\r\n0\r\n\r\n");
	ck_assert_int_eq(chunked_whole(s), -1);
	/* leading whitespace counts towards the limit too */
	memset(s, 0, sizeof(s));
	s[0] = '1';
	memset(s + 1, ' ', 300);
	ck_assert_int_eq(chunked_whole(s), -1);
}
END_TEST

START_TEST(test_chunked_trailers)
{
	static char s[HTTP_CHUNK_MAX_TRAILER + 8192];
	size_t	 n;
	int	 i;

	ck_assert_int_eq(chunked_whole("0\r\nA: b\r\nC:d\r\n\r\n"), 1);
	ck_assert_int_eq(chunked_whole("0\r\nA: b\r\n c\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\n\tA: b\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\nA b\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\nA : b\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\n: b\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\nA: b\nC: d\r\n\r\n"), -1);
	ck_assert_int_eq(chunked_whole("0\r\nA: b\x01\r\n\r\n"), -1);
	/* one trailer line of 4096 bytes is fine, 4097 is not */
	n = (size_t)snprintf(s, sizeof(s), "0\r\nX: ");
	memset(s + n, 'v', 4096 - 3);
	strcpy(s + n + 4096 - 3, "\r\n\r\n");
	ck_assert_int_eq(chunked_whole(s), 1);
	memset(s + n, 'v', 4096 - 2);
	strcpy(s + n + 4096 - 2, "\r\n\r\n");
	ck_assert_int_eq(chunked_whole(s), -1);
	/* the whole section is limited too */
	n = (size_t)snprintf(s, sizeof(s), "0\r\n");
	for (i = 0; i < 9; i++) {
		memcpy(s + n, "X: ", 3);
		memset(s + n + 3, 'v', 1000);
		memcpy(s + n + 1003, "\r\n", 3);
		n += 1005;
	}
	strcpy(s + n, "\r\n");
	ck_assert_int_eq(chunked_whole(s), -1);
}
END_TEST

START_TEST(test_chunked_payload_skip)
{
	struct http_chunked ch;
	const char *in = "a;x\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n";
	const char *data;
	size_t	 dl;
	ssize_t	 r;
	int	 done;

	http_chunked_init(&ch);
	ck_assert_uint_eq(http_chunked_payload_left(&ch), 0);
	/* framing only: stops where the payload starts */
	r = http_chunked_step(&ch, in, 5, &data, &dl, &done);
	ck_assert_int_eq(r, 5);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(done, 0);
	ck_assert_uint_eq(http_chunked_payload_left(&ch), 10);
	/* the caller splices 4 bytes, then reads the rest */
	http_chunked_payload_skip(&ch, 4);
	ck_assert_uint_eq(http_chunked_payload_left(&ch), 6);
	r = http_chunked_step(&ch, in + 9, strlen(in + 9), &data, &dl, &done);
	ck_assert_int_eq(r, 6);
	ck_assert_uint_eq(dl, 6);
	ck_assert_mem_eq(data, "456789", 6);
	ck_assert_uint_eq(http_chunked_payload_left(&ch), 0);
	/* CRLF and next size line, then the next run */
	r = http_chunked_step(&ch, in + 15, strlen(in + 15), &data, &dl, &done);
	ck_assert_int_eq(r, 8);
	ck_assert_uint_eq(dl, 3);
	ck_assert_mem_eq(data, "abc", 3);
	/* the caller may skip a whole chunk */
	r = http_chunked_step(&ch, in + 23, strlen(in + 23), &data, &dl, &done);
	ck_assert_int_eq(r, 7);
	ck_assert_int_eq(done, 1);
	ck_assert_uint_eq(dl, 0);
	/* after done nothing more is consumed */
	r = http_chunked_step(&ch, "GET", 3, &data, &dl, &done);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(done, 1);
}
END_TEST

START_TEST(test_chunked_skip_too_much)
{
	struct http_chunked ch;
	const char *data;
	size_t	 dl;
	int	 done;

	http_chunked_init(&ch);
	ck_assert_int_eq(http_chunked_step(&ch, "2\r\n", 3, &data, &dl, &done),
	    3);
	http_chunked_payload_skip(&ch, 3);
	ck_assert_int_eq(http_chunked_step(&ch, "ab\r\n", 4, &data, &dl, &done),
	    -1);
	/* errors are sticky */
	ck_assert_int_eq(http_chunked_step(&ch, "", 0, &data, &dl, &done), -1);
	/* skipping while in framing is an error as well */
	http_chunked_init(&ch);
	http_chunked_payload_skip(&ch, 1);
	ck_assert_int_eq(http_chunked_step(&ch, "1\r\n", 3, &data, &dl, &done),
	    -1);
	/* skipping all of a chunk leaves the CRLF to be checked */
	http_chunked_init(&ch);
	ck_assert_int_eq(http_chunked_step(&ch, "2\r\n", 3, &data, &dl, &done),
	    3);
	http_chunked_payload_skip(&ch, 2);
	ck_assert_uint_eq(http_chunked_payload_left(&ch), 0);
	ck_assert_int_eq(http_chunked_step(&ch, "x\r\n", 3, &data, &dl, &done),
	    -1);
}
END_TEST

START_TEST(test_range)
{
	uint64_t s, e;

	ck_assert_int_eq(http_parse_range("bytes=0-499", 1000, &s, &e), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 499);
	ck_assert_int_eq(http_parse_range("bytes=500-", 1000, &s, &e), 0);
	ck_assert_uint_eq(s, 500);
	ck_assert_uint_eq(e, 999);
	ck_assert_int_eq(http_parse_range("bytes=900-5000", 1000, &s, &e), 0);
	ck_assert_uint_eq(e, 999);
	ck_assert_int_eq(http_parse_range("bytes=-100", 1000, &s, &e), 0);
	ck_assert_uint_eq(s, 900);
	ck_assert_uint_eq(e, 999);
	ck_assert_int_eq(http_parse_range("Bytes=5-5", 10, &s, &e), 0);
	ck_assert_uint_eq(s, 5);
	ck_assert_uint_eq(e, 5);
	ck_assert_int_eq(http_parse_range("bytes=0-18446744073709551615", 10,
	    &s, &e), 0);
	ck_assert_uint_eq(e, 9);
}
END_TEST

START_TEST(test_range_edges)
{
	uint64_t s, e;

	/* suffix longer than the resource: all of it */
	ck_assert_int_eq(http_parse_range("bytes=-5000", 1000, &s, &e), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 999);
	/* start beyond (or at) the size */
	ck_assert_int_eq(http_parse_range("bytes=1000-", 1000, &s, &e), 1);
	ck_assert_int_eq(http_parse_range("bytes=2000-3000", 1000, &s, &e), 1);
	ck_assert_int_eq(http_parse_range("bytes=-0", 1000, &s, &e), 1);
	/* size 0 */
	ck_assert_int_eq(http_parse_range("bytes=0-", 0, &s, &e), 1);
	ck_assert_int_eq(http_parse_range("bytes=0-0", 0, &s, &e), 1);
	ck_assert_int_eq(http_parse_range("bytes=-1", 0, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=-0", 0, &s, &e), 1);
}
END_TEST

START_TEST(test_range_invalid)
{
	uint64_t s, e;

	ck_assert_int_eq(http_parse_range(NULL, 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=-", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=5-4", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=0-1,3-4", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=0-,3-", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=,0-1", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes= 0-1", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=0-1 ", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=a-b", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=--1", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("items=0-1", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes 0-1", 10, &s, &e), -1);
	ck_assert_int_eq(http_parse_range("bytes=18446744073709551616-", 10,
	    &s, &e), -1);
}
END_TEST

START_TEST(test_content_range)
{
	uint64_t s = 7, e = 7;

	ck_assert_int_eq(http_parse_content_range("0-1023", &s, &e), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 1023);
	ck_assert_int_eq(http_parse_content_range("bytes 10-20/100", &s, &e), 0);
	ck_assert_uint_eq(s, 10);
	ck_assert_uint_eq(e, 20);
	ck_assert_int_eq(http_parse_content_range("bytes 10-20/*", &s, &e), 0);
	ck_assert_int_eq(http_parse_content_range("bytes=5-5", &s, &e), 0);
	ck_assert_uint_eq(s, 5);
	ck_assert_uint_eq(e, 5);
	ck_assert_int_eq(http_parse_content_range("5-4", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("5-", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("-5", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range(NULL, &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("0-1/10", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("bytes=0-1/10", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("bytes 0-1", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("bytes 10-20/20", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("bytes 10-20/x", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("bytes */100", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range(" 0-1", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("0 - 1", &s, &e), -1);
	ck_assert_int_eq(http_parse_content_range("0-4611686018427387905", &s,
	    &e), -1);
}
END_TEST

START_TEST(test_query_get)
{
	char	 out[64];
	const char *q = "mount=sha256%3Aab&from=lib%2Fubuntu&x&n=10&n=20"
	    "&sp=a+b%20c&e=";

	ck_assert_int_eq(http_query_get(q, "mount", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "sha256:ab");
	ck_assert_int_eq(http_query_get(q, "from", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "lib/ubuntu");
	ck_assert_int_eq(http_query_get(q, "n", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "10");
	ck_assert_int_eq(http_query_get(q, "x", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(http_query_get(q, "e", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(http_query_get(q, "sp", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "a b c");
	ck_assert_int_eq(http_query_get(q, "digest", out, sizeof(out)), 0);
	ck_assert_int_eq(http_query_get(q, "mo", out, sizeof(out)), 0);
	ck_assert_int_eq(http_query_get("", "a", out, sizeof(out)), 0);
	ck_assert_int_eq(http_query_get(NULL, "a", out, sizeof(out)), 0);
	ck_assert_int_eq(http_query_get("&&a=1&", "a", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "1");
	/* names are decoded before comparing */
	ck_assert_int_eq(http_query_get("l%61st=z", "last", out, sizeof(out)),
	    1);
	ck_assert_str_eq(out, "z");
	ck_assert_int_eq(http_query_get("a=b=c", "a", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "b=c");
}
END_TEST

START_TEST(test_query_get_errors)
{
	char	 out[4];

	ck_assert_int_eq(http_query_get("a=%4", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=%zz", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=%00", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=%0a", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=%7F", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=abc", "a", out, sizeof(out)), 1);
	ck_assert_int_eq(http_query_get("a=abcd", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(http_query_get("a=", "a", out, 0), -1);
	ck_assert_int_eq(http_query_get("%g=1&a=2", "a", out, sizeof(out)), -1);
	/* a bad escape in a value not asked for is not looked at */
	ck_assert_int_eq(http_query_get("b=%g&a=2", "a", out, sizeof(out)), 1);
}
END_TEST

START_TEST(test_path_decode)
{
	char	 p[64];

	strcpy(p, "/v2/lib/ubuntu/manifests/sha256:ab");
	ck_assert_int_eq(http_path_decode(p), 0);
	ck_assert_str_eq(p, "/v2/lib/ubuntu/manifests/sha256:ab");
	strcpy(p, "/a%3Ab%41%61+c");
	ck_assert_int_eq(http_path_decode(p), 0);
	ck_assert_str_eq(p, "/a:bAa+c");
	strcpy(p, "/a%2Fb");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%2fb");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%00b");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%0Db");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%4");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/a%4g");
	ck_assert_int_eq(http_path_decode(p), -1);
	strcpy(p, "/%252F");
	ck_assert_int_eq(http_path_decode(p), 0);
	ck_assert_str_eq(p, "/%2F");
	strcpy(p, "");
	ck_assert_int_eq(http_path_decode(p), 0);
}
END_TEST

START_TEST(test_status_text)
{
	static const int codes[] = { 100, 200, 201, 202, 204, 206, 301, 307,
	    400, 401, 403, 404, 405, 408, 411, 413, 414, 416, 417, 429, 431,
	    500, 501, 502, 503, 505 };
	size_t	 i;

	ck_assert_str_eq(http_status_text(200), "OK");
	ck_assert_str_eq(http_status_text(404), "Not Found");
	ck_assert_str_eq(http_status_text(416), "Range Not Satisfiable");
	/* conn.c answers an Expect it cannot meet with 417 */
	ck_assert_str_eq(http_status_text(417), "Expectation Failed");
	ck_assert_str_eq(http_status_text(418), "Unknown");
	ck_assert_str_eq(http_status_text(-1), "Unknown");
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ck_assert_str_ne(http_status_text(codes[i]), "Unknown");
}
END_TEST

/* Collect the tests into one suite. */
static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*head = tcase_create("head");
	TCase	*chunk = tcase_create("chunked");
	TCase	*misc = tcase_create("misc");

	tcase_add_test(head, test_simple_get);
	tcase_add_test(head, test_methods);
	tcase_add_test(head, test_query_split);
	tcase_add_test(head, test_partial_prefixes);
	tcase_add_test(head, test_byte_by_byte);
	tcase_add_test(head, test_bare_lf_and_mixed);
	tcase_add_test(head, test_bare_cr);
	tcase_add_test(head, test_nul_and_controls);
	tcase_add_test(head, test_obs_fold);
	tcase_add_test(head, test_field_syntax);
	tcase_add_test(head, test_header_get);
	tcase_add_test(head, test_content_length);
	tcase_add_test(head, test_duplicate_content_length);
	tcase_add_test(head, test_cl_and_te);
	tcase_add_test(head, test_transfer_encoding);
	tcase_add_test(head, test_target_too_long);
	tcase_add_test(head, test_head_too_large);
	tcase_add_test(head, test_too_many_headers);
	tcase_add_test(head, test_version);
	tcase_add_test(head, test_request_line);
	tcase_add_test(head, test_target_forms);
	tcase_add_test(head, test_keep_alive);
	tcase_add_test(head, test_expect);
	tcase_add_test(head, test_host);
	tcase_add_test(head, test_leading_empty_lines_and_pipelining);
	suite_add_tcase(s, head);

	tcase_add_test(chunk, test_chunked_all_splits);
	tcase_add_test(chunk, test_chunked_byte_by_byte);
	tcase_add_test(chunk, test_chunked_size_errors);
	tcase_add_test(chunk, test_chunked_data_crlf);
	tcase_add_test(chunk, test_chunked_ext_limit);
	tcase_add_test(chunk, test_chunked_trailers);
	tcase_add_test(chunk, test_chunked_payload_skip);
	tcase_add_test(chunk, test_chunked_skip_too_much);
	suite_add_tcase(s, chunk);

	tcase_add_test(misc, test_range);
	tcase_add_test(misc, test_range_edges);
	tcase_add_test(misc, test_range_invalid);
	tcase_add_test(misc, test_content_range);
	tcase_add_test(misc, test_query_get);
	tcase_add_test(misc, test_query_get_errors);
	tcase_add_test(misc, test_path_decode);
	tcase_add_test(misc, test_status_text);
	suite_add_tcase(s, misc);
	return s;
}

int
main(void)
{
	return unit_run(http_suite());
}
