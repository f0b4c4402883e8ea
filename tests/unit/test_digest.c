/* test_digest.c - unit tests for lib/digest.c: parsing, formatting, hashing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "unit.h"

#define HEX64	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX128	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" \
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"

/* Parse s, expecting rc; return the digest for further checks. */
static struct digest
parse_expect(const char *s, int rc)
{
	struct digest d;

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(digest_parse(s, &d), rc);
	return d;
}

START_TEST(parse_valid)
{
	struct digest d;

	d = parse_expect("sha256:" HEX64, 0);
	ck_assert_int_eq(d.alg, DIGEST_SHA256);
	ck_assert_str_eq(d.hex, HEX64);
	d = parse_expect("sha512:" HEX128, 0);
	ck_assert_int_eq(d.alg, DIGEST_SHA512);
	ck_assert_str_eq(d.hex, HEX128);
}
END_TEST

/* Not digests at all: DIGEST_INVALID. */
static const char *bad[] = {
	"",
	"sha256:",
	"sha256",
	(":" HEX64),
	("sha256:" "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
	("sha256:" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"),
	("sha256:" HEX64 "5"),
	("sha256:" HEX64 "\n"),
	("sha256:" HEX128),
	("sha512:" HEX64),
	("Sha256:" HEX64),
	("sha256::" HEX64),
	("sha256 :" HEX64),
	("sha256:" "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
	("sha--256:" HEX64),
	("+sha256:" HEX64),
	"sha256:abc/def",
	"sha256:abc",
};

/* Well-formed digests of algorithms we do not support. */
static const char *unsupported[] = {
	("sha384:" HEX64 "0123456789abcdef0123456789abcdef"),
	("blake3:" HEX64),
	"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
	"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
};

START_TEST(parse_invalid)
{
	parse_expect(bad[_i], -1);
}
END_TEST

START_TEST(parse_unsupported)
{
	parse_expect(unsupported[_i], -2);
}
END_TEST

START_TEST(parse_overlong)
{
	char *s;

	s = malloc(DIGEST_INPUTMAX + 16);
	ck_assert_ptr_nonnull(s);
	memcpy(s, "foo:", 4);
	memset(s + 4, 'a', DIGEST_INPUTMAX + 10);
	s[DIGEST_INPUTMAX + 14] = '\0';
	parse_expect(s, -1);
	s[DIGEST_INPUTMAX] = '\0';
	parse_expect(s, -2);
	free(s);
}
END_TEST

/* A store's directory name: exactly the algorithm's length, lowercase. */
START_TEST(from_hex)
{
	const char *h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char buf[200];
	struct digest d, e;

	ck_assert_int_eq(digest_from_hex(DIGEST_SHA256, h, &d), 0);
	(void)snprintf(buf, sizeof(buf), "sha256:%s", h);
	ck_assert_int_eq(digest_parse(buf, &e), 0);
	ck_assert(digest_equal(&d, &e));
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA512, h, &d), -1);
	(void)snprintf(buf, sizeof(buf), "%.63s", h);
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA256, buf, &d), -1);
	(void)snprintf(buf, sizeof(buf), "%sa", h);
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA256, buf, &d), -1);
	(void)snprintf(buf, sizeof(buf), "%.63sE", h);
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA256, buf, &d), -1);
	(void)snprintf(buf, sizeof(buf), "%.63sg", h);
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA256, buf, &d), -1);
	(void)snprintf(buf, sizeof(buf), "%s%s", h, h);
	ck_assert_int_eq(digest_from_hex(DIGEST_SHA512, buf, &d), 0);
	ck_assert_int_eq(d.alg, DIGEST_SHA512);
	ck_assert_str_eq(d.hex, buf);
}
END_TEST

START_TEST(format_roundtrip)
{
	struct digest d, e;
	char out[DIGEST_STRMAX], small[71];

	d = parse_expect("sha512:" HEX128, 0);
	ck_assert_int_eq(digest_format(&d, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "sha512:" HEX128);
	e = parse_expect(out, 0);
	ck_assert(digest_equal(&d, &e));
	d = parse_expect("sha256:" HEX64, 0);
	ck_assert_int_eq(digest_format(&d, small, sizeof(small)), -1);
	ck_assert_int_eq(digest_format(&d, out, 72), 0);
	ck_assert_str_eq(digest_algname(DIGEST_SHA256), "sha256");
	ck_assert_str_eq(digest_algname(DIGEST_SHA512), "sha512");
	ck_assert(!digest_equal(&d, &e));
}
END_TEST

START_TEST(known_vectors)
{
	struct digest d;

	digest_buf(DIGEST_SHA256, "", 0, &d);
	ck_assert_str_eq(d.hex, HEX64);
	digest_buf(DIGEST_SHA256, "abc", 3, &d);
	ck_assert_str_eq(d.hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_buf(DIGEST_SHA512, "", 0, &d);
	ck_assert_str_eq(d.hex, HEX128);
	digest_buf(DIGEST_SHA512, "abc", 3, &d);
	ck_assert_int_eq(d.alg, DIGEST_SHA512);
	ck_assert_str_eq(d.hex,
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}
END_TEST

/* Hash data incrementally with a peek in the middle; compare to one-shot. */
static void
peek_continue(enum digest_alg alg)
{
	static const char data[] = "The quick brown fox jumps over the lazy dog";
	struct digest head, head1, all, all1;
	struct hasher *h;
	size_t i, half = sizeof(data) / 2;

	h = hasher_new(alg);
	for (i = 0; i < half; i++)
		hasher_update(h, data + i, 1);
	hasher_peek(h, &head);
	hasher_update(h, data + half, sizeof(data) - 1 - half);
	hasher_final(h, &all);
	hasher_free(h);
	digest_buf(alg, data, half, &head1);
	digest_buf(alg, data, sizeof(data) - 1, &all1);
	ck_assert(digest_equal(&head, &head1));
	ck_assert(digest_equal(&all, &all1));
	ck_assert(!digest_equal(&head, &all));
}

START_TEST(hasher_peek_continue)
{
	struct digest d;
	struct hasher *h;

	peek_continue(DIGEST_SHA256);
	peek_continue(DIGEST_SHA512);
	h = hasher_new(DIGEST_SHA256);
	hasher_peek(h, &d);
	ck_assert_str_eq(d.hex, HEX64);
	hasher_update(h, "abc", 3);
	hasher_final(h, &d);
	ck_assert_str_eq(d.hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hasher_free(h);
	hasher_free(NULL);
}
END_TEST

/* All the digest tests in one suite. */
static Suite *
digest_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_valid);
	tcase_add_loop_test(tc, parse_invalid, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, parse_unsupported, 0,
	    sizeof(unsupported) / sizeof(unsupported[0]));
	tcase_add_test(tc, parse_overlong);
	tcase_add_test(tc, from_hex);
	tcase_add_test(tc, format_roundtrip);
	tcase_add_test(tc, known_vectors);
	tcase_add_test(tc, hasher_peek_continue);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(digest_suite());
}
