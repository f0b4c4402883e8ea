/* test_pss.c - unit tests for authd/pss.c: the raw RSA inputs authd signs
 * are OpenSSL's own PSS encodings, and nothing a decryption would send. */
#define OPENSSL_SUPPRESS_DEPRECATED	/* RSA_padding_add_PKCS1_PSS_mgf1 */
#include <check.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "pss.h"
#include "unit.h"

/* 2048, 3072: emLen = k; 2049: emBits = 2048, so a leading zero byte. */
static const int bits[] = { 2048, 3072, 2049 };

/* The encoding reads only n's size: a public key of a random odd n of
 * that many bits will do (OpenSSL's key generation rounds 2049 down). */
static RSA *
key_make(int nbits)
{
	BIGNUM *n = BN_new(), *e = BN_new();
	RSA *rsa = RSA_new();

	ck_assert(n != NULL && e != NULL && rsa != NULL);
	ck_assert_int_eq(BN_rand(n, nbits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD),
	    1);
	ck_assert_int_eq(BN_set_word(e, RSA_F4), 1);
	ck_assert_int_eq(RSA_set0_key(rsa, n, e, NULL), 1);
	ck_assert_int_eq(RSA_bits(rsa), nbits);
	return rsa;
}

/* What OpenSSL 3 hands httpd's RSA_METHOD for an rsa_pss_rsae_* signature. */
static void
pss_make(RSA *rsa, const EVP_MD *md, unsigned char *em)
{
	unsigned char mhash[EVP_MAX_MD_SIZE];

	ck_assert_int_eq(RAND_bytes(mhash, EVP_MD_get_size(md)), 1);
	ck_assert_int_eq(RSA_padding_add_PKCS1_PSS_mgf1(rsa, em, mhash,
	    md, md, -1), 1);
}

START_TEST(openssl_pss_accepted)
{
	const EVP_MD *md[] = { EVP_sha256(), EVP_sha384(), EVP_sha512() };
	int nbits = bits[_i / 3];
	unsigned char em[PSS_IN_MAX];
	RSA *rsa = key_make(nbits);
	size_t len = (size_t)RSA_size(rsa);

	for (int n = 0; n < 20; n++) {
		/* k bytes, for 2049 bits a zero before the k-1 byte EM */
		pss_make(rsa, md[_i % 3], em);
		ck_assert(nbits % 8 != 1 || em[0] == 0);
		ck_assert_ptr_nonnull(pss_encoded(em, len, nbits));
	}
	/* a bit flipped in H changes the whole mask */
	em[len - 2] ^= 0x10;
	ck_assert_ptr_null(pss_encoded(em, len, nbits));
	em[len - 2] ^= 0x10;
	/* and a wrong modulus size is refused outright */
	ck_assert_ptr_null(pss_encoded(em, len - 1, nbits));
	ck_assert_ptr_null(pss_encoded(em, len, nbits + 8));
	RSA_free(rsa);
}
END_TEST

/* A salt other than the hash's size (what TLS never sends) is refused. */
START_TEST(other_salt_refused)
{
	unsigned char mhash[32], em[PSS_IN_MAX];
	RSA *rsa = key_make(2048);

	memset(mhash, 7, sizeof(mhash));
	ck_assert_int_eq(RSA_padding_add_PKCS1_PSS_mgf1(rsa, em, mhash,
	    EVP_sha256(), EVP_sha256(), 20), 1);
	ck_assert_ptr_null(pss_encoded(em, 256, 2048));
	ck_assert_int_eq(RSA_padding_add_PKCS1_PSS_mgf1(rsa, em, mhash,
	    EVP_sha256(), EVP_sha256(), 32), 1);
	ck_assert_ptr_nonnull(pss_encoded(em, 256, 2048));
	RSA_free(rsa);
}
END_TEST

/* A ciphertext is a random number below n: refused, even with 0xbc last
 * and its top bit clear (as a PSS encoding's is). */
START_TEST(random_refused)
{
	unsigned char c[256];
	int n;

	for (n = 0; n < 200; n++) {
		ck_assert_int_eq(RAND_bytes(c, sizeof(c)), 1);
		ck_assert_ptr_null(pss_encoded(c, sizeof(c), 2048));
		c[0] &= 0x7f;
		c[255] = 0xbc;
		ck_assert_ptr_null(pss_encoded(c, sizeof(c), 2048));
	}
	/* only the trailer: all zeros but 0xbc */
	memset(c, 0, sizeof(c));
	c[255] = 0xbc;
	ck_assert_ptr_null(pss_encoded(c, sizeof(c), 2048));
	/* top bit set: above emBits, never a PSS encoding */
	c[0] = 0x80;
	ck_assert_ptr_null(pss_encoded(c, sizeof(c), 2048));
}
END_TEST

static Suite *
pss_suite(void)
{
	Suite *s = suite_create("pss");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, openssl_pss_accepted, 0, 9);
	tcase_add_test(tc, other_salt_refused);
	tcase_add_test(tc, random_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pss_suite());
}
