/* test_b64.c - unit tests for lib/b64.c: RFC 4648 vectors, strictness. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "unit.h"

/* RFC 4648 section 10, padded (standard) and unpadded (url). */
static const struct {
	const char *plain, *std, *url;
} vec[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

START_TEST(rfc_vectors)
{
	char out[64], back[64];
	size_t n = strlen(vec[_i].plain);

	ck_assert_int_eq(b64_encode(vec[_i].plain, n, out, sizeof(out), 0),
	    (long)strlen(vec[_i].std));
	ck_assert_str_eq(out, vec[_i].std);
	ck_assert_int_eq(b64_encode(vec[_i].plain, n, out, sizeof(out), 1),
	    (long)strlen(vec[_i].url));
	ck_assert_str_eq(out, vec[_i].url);
	ck_assert_int_eq(b64_decode(vec[_i].std, strlen(vec[_i].std), back,
	    sizeof(back), 0), (long)n);
	ck_assert(memcmp(back, vec[_i].plain, n) == 0);
	ck_assert_int_eq(b64_decode(vec[_i].url, strlen(vec[_i].url), back,
	    sizeof(back), 1), (long)n);
	ck_assert(memcmp(back, vec[_i].plain, n) == 0);
}
END_TEST

/* The two alphabets differ in 62 and 63 only. */
START_TEST(alphabets)
{
	const unsigned char in[] = { 0xfb, 0xff, 0xbf };
	char out[16];
	unsigned char back[4];

	b64_encode(in, sizeof(in), out, sizeof(out), 0);
	ck_assert_str_eq(out, "+/+/");
	b64_encode(in, sizeof(in), out, sizeof(out), 1);
	ck_assert_str_eq(out, "-_-_");
	ck_assert_int_eq(b64_decode("-_-_", 4, back, sizeof(back), 0), -1);
	ck_assert_int_eq(b64_decode("+/+/", 4, back, sizeof(back), 1), -1);
	ck_assert_int_eq(b64_decode("-_-_", 4, back, sizeof(back), 1), 3);
	ck_assert(memcmp(back, in, 3) == 0);
}
END_TEST

/* Inputs a strict decoder must refuse, standard then url. */
static const char *bad_std[] = {
	"Zg", "Zg=", "Zm9", "Zm9v\n", " Zm9v", "Zm=v", "Z===", "====", "=",
	"Zh==", "Zm9=", "Zm9vYg=a", "Zm9v====", "Zg==Zg==", "Zm9vYg==\r\n",
};
static const char *bad_url[] = {
	"Zg==", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm9v\n", "Zm+v", "Zm/v",
	"Zm9v.",
};

START_TEST(strict_std)
{
	unsigned char out[64];
	const char *s = bad_std[_i];
	size_t n = strlen(s);
	ck_assert_int_eq(b64_decode(s, n, out, sizeof(out), 0), -1);
}
END_TEST

START_TEST(strict_url)
{
	unsigned char out[64];
	const char *s = bad_url[_i];
	size_t n = strlen(s);

	ck_assert_int_eq(b64_decode(s, n, out, sizeof(out), 1), -1);
}
END_TEST

/* A NUL inside the given length is not base64. */
START_TEST(embedded_nul)
{
	unsigned char out[8];

	ck_assert_int_eq(b64_decode("Zm\0v", 4, out, sizeof(out), 0), -1);
	ck_assert_int_eq(b64_decode("Zm\0v", 4, out, sizeof(out), 1), -1);
}
END_TEST

/* Output buffers one byte short are refused, never overrun. */
START_TEST(short_buffers)
{
	char out[16];
	unsigned char back[8];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(b64_encode("foo", 3, out, 4, 0), -1);
	ck_assert_int_eq(b64_encode("foo", 3, out, 5, 0), 4);
	ck_assert_int_eq(b64_encode("f", 1, out, 2, 1), -1);
	ck_assert_int_eq(b64_encode("f", 1, out, 3, 1), 2);
	ck_assert_int_eq(B64_ENCODED_LEN(1), 5);
	memset(back, 0xaa, sizeof(back));
	ck_assert_int_eq(b64_decode("Zm9vYmFy", 8, back, 5, 0), -1);
	ck_assert_int_eq(back[0], 0xaa);
	ck_assert_int_eq(b64_decode("Zm9vYmE=", 8, back, 5, 0), 5);
	ck_assert_int_eq(b64_decode("Zm9vYmE", 7, back, 5, 1), 5);
}
END_TEST

/* Every length and byte value survives the round trip. */
START_TEST(roundtrip)
{
	unsigned char in[300], back[300];
	char out[B64_ENCODED_LEN(300)];
	size_t n, i;
	long m;
	int url;

	srandom(7);
	for (n = 0; n <= sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)random();
		for (url = 0; url <= 1; url++) {
			m = b64_encode(in, n, out, sizeof(out), url);
			ck_assert_int_ge(m, 0);
			ck_assert_int_eq(b64_decode(out, (size_t)m, back,
			    sizeof(back), url), (long)n);
			ck_assert(memcmp(in, back, n) == 0);
		}
	}
}
END_TEST

/* All the b64 tests in one suite. */
static Suite *
b64_suite(void)
{
	Suite *s = suite_create("b64");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, rfc_vectors, 0, sizeof(vec) / sizeof(vec[0]));
	tcase_add_test(tc, alphabets);
	tcase_add_loop_test(tc, strict_std, 0,
	    sizeof(bad_std) / sizeof(bad_std[0]));
	tcase_add_loop_test(tc, strict_url, 0,
	    sizeof(bad_url) / sizeof(bad_url[0]));
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, short_buffers);
	tcase_add_test(tc, roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(b64_suite());
}
