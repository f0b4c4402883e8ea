/*
 * fuzz_jwt.c - libFuzzer target for lib/jwt.c and lib/b64.c.  The first
 * byte picks what the rest is:
 *   '0' (any byte = 0 mod 3): a token for jwt_verify as httpd gets it;
 *   '1': "header\npayload" JSON that this target signs with the right key
 *        first, so the fuzzer reaches the claim parsing behind the
 *        signature check;
 *   '2': base64 text, which must re-encode to itself when it decodes
 *        (strict decoding means one spelling per byte string).
 * An accepted token must carry sane claims and survive jwt_sign again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/pem.h>

#include "acl.h"
#include "b64.h"
#include "jwt.h"

#define NOW	1700000000LL
#define ISS	"regmaster"
#define AUD	"registry.example"

/* The key of tests/unit/test_jwt.c, so seeds made for one serve both. */
static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgP0mutj0PmGoh7m6w\n"
    "PmB9HY50YE/BOkTX8sYP/ESnWjyhRANCAATbe+dg1DthhbuyfyI1myLVNvX/6BFY\n"
    "HzXOCeQTGx1fAarUaV9Yg3YMmzQdNdFjSRKd8o3LdMLmsuJv+u4qnzzo\n"
    "-----END PRIVATE KEY-----\n";

static EVP_PKEY *key;
static char kid[64];

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Load the key once. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);

	(void)argc;
	(void)argv;
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (key == NULL || jwt_kid(key, kid, sizeof(kid)) != 0)
		abort();
	return 0;
}

/* Abort unless s is NUL-terminated within size. */
static void
terminated(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

/* An accepted token's claims are bounded, current, and sign again. */
static void
accepted(const struct jwt_claims *c)
{
	struct jwt_claims v;
	char *tok, err[128];
	size_t i;

	terminated(c->iss, sizeof(c->iss));
	terminated(c->sub, sizeof(c->sub));
	terminated(c->aud, sizeof(c->aud));
	terminated(c->jti, sizeof(c->jti));
	if (c->naccess > JWT_ACCESS_MAX || NOW >= c->exp ||
	    strcmp(c->iss, ISS) != 0 || strcmp(c->aud, AUD) != 0)
		abort();
	for (i = 0; i < c->naccess; i++) {
		terminated(c->access[i].type, sizeof(c->access[i].type));
		terminated(c->access[i].name, sizeof(c->access[i].name));
		if (c->access[i].actions & ~(unsigned)ACL_ALL)
			abort();
	}
	if ((tok = jwt_sign(key, kid, c)) == NULL)
		abort();
	if (jwt_verify(key, kid, tok, strlen(tok), ISS, AUD, NOW, &v, err,
	    sizeof(err)) != 0 || v.naccess != c->naccess ||
	    strcmp(v.sub, c->sub) != 0 || v.exp != c->exp)
		abort();
	for (i = 0; i < c->naccess; i++)
		if (v.access[i].actions != c->access[i].actions ||
		    strcmp(v.access[i].name, c->access[i].name) != 0)
			abort();
	free(tok);
}

/* Sign "header\npayload" with the key and verify the token. */
static void
forged(const uint8_t *data, size_t size)
{
	static char tok[JWT_MAX * 2];
	const uint8_t *nl = memchr(data, '\n', size);
	struct jwt_claims c;
	EVP_MD_CTX *ctx;
	unsigned char der[80], raw[64];
	const unsigned char *p = der;
	size_t o, n = sizeof(der);
	ECDSA_SIG *sig;
	long m;

	if (nl == NULL || size > JWT_MAX / 2)
		return;
	o = (size_t)b64_encode(data, (size_t)(nl - data), tok, sizeof(tok), 1);
	tok[o++] = '.';
	o += (size_t)b64_encode(nl + 1, size - (size_t)(nl + 1 - data),
	    tok + o, sizeof(tok) - o, 1);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &n, (unsigned char *)tok, o) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)n)) == NULL)
		abort();
	EVP_MD_CTX_free(ctx);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
	ECDSA_SIG_free(sig);
	tok[o++] = '.';
	m = b64_encode(raw, sizeof(raw), tok + o, sizeof(tok) - o, 1);
	if (jwt_verify(key, kid, tok, o + (size_t)m, ISS, AUD, NOW, &c, NULL,
	    0) == 0)
		accepted(&c);
}

/* What decodes must re-encode to exactly the input, in both alphabets. */
static void
canonical(const uint8_t *data, size_t size)
{
	static unsigned char out[8192];
	static char back[B64_ENCODED_LEN(8192)];
	long n, m;
	int url;

	if (size > 8192)
		return;
	for (url = 0; url <= 1; url++) {
		if ((n = b64_decode((const char *)data, size, out, sizeof(out),
		    url)) < 0)
			continue;
		m = b64_encode(out, (size_t)n, back, sizeof(back), url);
		if (m != (long)size || memcmp(back, data, size) != 0)
			abort();
	}
}

/* One input: the first byte says which of the three it is. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_claims c;
	char err[128];

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (jwt_verify(key, kid, (const char *)data + 1, size - 1, ISS,
		    AUD, NOW, &c, err, sizeof(err)) == 0)
			accepted(&c);
		else
			terminated(err, sizeof(err));
		break;
	case 1:
		forged(data + 1, size - 1);
		break;
	default:
		canonical(data + 1, size - 1);
	}
	return 0;
}
