/*
 * test_jwt.c - unit tests for lib/jwt.c: the libtrust key id, sign/verify
 * round trips, and the strictness of jwt_verify against tokens forged
 * here with the right key but a wrong header, payload or signature form.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "acl.h"
#include "b64.h"
#include "jwt.h"
#include "unit.h"

#define NOW	1700000000LL
#define ISS	"regmaster"
#define AUD	"registry.example"

/* A fixed P-256 key; KEY_KID was computed apart from jwt.c, with
 * `openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary |
 * head -c 30 | base32`, '=' dropped, ':' every 4 characters. */
static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgP0mutj0PmGoh7m6w\n"
    "PmB9HY50YE/BOkTX8sYP/ESnWjyhRANCAATbe+dg1DthhbuyfyI1myLVNvX/6BFY\n"
    "HzXOCeQTGx1fAarUaV9Yg3YMmzQdNdFjSRKd8o3LdMLmsuJv+u4qnzzo\n"
    "-----END PRIVATE KEY-----\n";
#define KEY_KID	"LWFW:5QGM:PXTC:JPC7:U6WE:UBXY:5GCS:NNHC:FCL7:XL77:APCD:BUBQ"

static EVP_PKEY *key, *pub, *other;

/* Load the fixed key, its public half alone, and a second key. */
static void
setup(void)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;

	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert_ptr_nonnull(key);
	n = i2d_PUBKEY(key, &der);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	other = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(pub);
	ck_assert_ptr_nonnull(other);
}

/* Free the keys. */
static void
teardown(void)
{
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
}

/* Claims for a typical pull/push token valid for five minutes. */
static void
claims_init(struct jwt_claims *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->iss, ISS);
	strcpy(c->sub, "alice");
	strcpy(c->aud, AUD);
	c->iat = c->nbf = NOW;
	c->exp = NOW + 300;
	c->naccess = 2;
	strcpy(c->access[0].type, "repository");
	strcpy(c->access[0].name, "alice/app");
	c->access[0].actions = ACL_PULL | ACL_PUSH;
	strcpy(c->access[1].type, "registry");
	strcpy(c->access[1].name, "catalog");
	c->access[1].actions = ACL_CATALOG;
}

/* The raw r||s ES256 signature of msg by k, or its DER form if der. */
static size_t
sign_raw(EVP_PKEY *k, const char *msg, unsigned char *out, int der)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char d[80];
	const unsigned char *p = d;
	size_t n = sizeof(d);
	ECDSA_SIG *sig;

	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k),
	    1);
	ck_assert_int_eq(EVP_DigestSign(ctx, d, &n, (const unsigned char *)msg,
	    strlen(msg)), 1);
	EVP_MD_CTX_free(ctx);
	if (der) {
		memcpy(out, d, n);
		return n;
	}
	sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32);
	ECDSA_SIG_free(sig);
	return 64;
}

/* A token of the given header and payload texts signed by key. */
static char *
forge(const char *hdr, const char *pay, int der)
{
	static char tok[JWT_MAX * 2];
	unsigned char sig[80];
	size_t o, n;

	o = (size_t)b64_encode(hdr, strlen(hdr), tok, sizeof(tok), 1);
	tok[o++] = '.';
	o += (size_t)b64_encode(pay, strlen(pay), tok + o, sizeof(tok) - o, 1);
	n = sign_raw(key, tok, sig, der);
	tok[o++] = '.';
	b64_encode(sig, n, tok + o, sizeof(tok) - o, 1);
	return tok;
}

/* jwt_verify of token with the fixed key, kid, issuer and audience. */
static int
verify(const char *tok, struct jwt_claims *out, char *err, size_t len)
{
	return jwt_verify(pub, KEY_KID, tok, strlen(tok), ISS, AUD, NOW, out,
	    err, len);
}

#define HDR	"{\"typ\":\"JWT\",\"alg\":\"ES256\",\"kid\":\"" KEY_KID "\"}"
#define PAY	"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\"," \
		"\"exp\":1700000300"

START_TEST(kid_libtrust)
{
	char kid[64], small[63];

	ck_assert_int_eq(jwt_kid(key, kid, sizeof(kid)), 0);
	ck_assert_str_eq(kid, KEY_KID);
	ck_assert_int_eq(jwt_kid(pub, kid, sizeof(kid)), 0);
	ck_assert_str_eq(kid, KEY_KID);
	ck_assert_int_eq(jwt_kid(other, kid, sizeof(kid)), 0);
	ck_assert_str_ne(kid, KEY_KID);
	ck_assert_uint_eq(strlen(kid), 59);
	ck_assert_int_eq(jwt_kid(key, small, sizeof(small)), -1);
}
END_TEST

START_TEST(roundtrip)
{
	struct jwt_claims c, v;
	char *tok, *tok2, err[128] = "";

	claims_init(&c);
	ck_assert_ptr_nonnull(tok = jwt_sign(key, KEY_KID, &c));
	ck_assert_int_eq(verify(tok, &v, err, sizeof(err)), 0);
	ck_assert_str_eq(v.iss, ISS);
	ck_assert_str_eq(v.sub, "alice");
	ck_assert_str_eq(v.aud, AUD);
	ck_assert_int_eq(v.exp, NOW + 300);
	ck_assert_int_eq(v.nbf, NOW);
	ck_assert_int_eq(v.iat, NOW);
	ck_assert_uint_eq(strlen(v.jti), 32);
	ck_assert_uint_eq(v.naccess, 2);
	ck_assert_str_eq(v.access[0].type, "repository");
	ck_assert_str_eq(v.access[0].name, "alice/app");
	ck_assert_uint_eq(v.access[0].actions, ACL_PULL | ACL_PUSH);
	ck_assert_str_eq(v.access[1].type, "registry");
	ck_assert_str_eq(v.access[1].name, "catalog");
	ck_assert_uint_eq(v.access[1].actions, ACL_CATALOG);
	/* Each token gets its own jti. */
	ck_assert_ptr_nonnull(tok2 = jwt_sign(key, KEY_KID, &c));
	ck_assert_int_eq(verify(tok2, &c, err, sizeof(err)), 0);
	ck_assert_str_ne(c.jti, v.jti);
	/* The public key alone verifies; no kid asked: any kid. */
	ck_assert_int_eq(jwt_verify(pub, NULL, tok, strlen(tok), ISS, AUD, NOW,
	    &v, err, sizeof(err)), 0);
	/* Another key, kid or time does not. */
	ck_assert_int_eq(jwt_verify(other, NULL, tok, strlen(tok), ISS, AUD,
	    NOW, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad signature");
	ck_assert_int_eq(jwt_verify(pub, "AAAA", tok, strlen(tok), ISS, AUD,
	    NOW, &v, err, sizeof(err)), -1);
	ck_assert_int_eq(jwt_verify(pub, KEY_KID, tok, strlen(tok), ISS, AUD,
	    NOW + 299, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(jwt_verify(pub, KEY_KID, tok, strlen(tok), ISS, AUD,
	    NOW + 300, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expired");
	ck_assert_uint_eq(v.naccess, 0);
	free(tok);
	free(tok2);
}
END_TEST

/* The header is what Docker's libtrust-era clients expect. */
START_TEST(header_form)
{
	struct jwt_claims c;
	unsigned char buf[512];
	char *tok;
	json_t *h;
	long n;

	claims_init(&c);
	c.naccess = 0;
	strcpy(c.jti, "fixed-id");
	ck_assert_ptr_nonnull(tok = jwt_sign(key, KEY_KID, &c));
	n = b64_decode(tok, strcspn(tok, "."), buf, sizeof(buf), 1);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(h = json_loadb((char *)buf, (size_t)n, 0, NULL));
	ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "ES256");
	ck_assert_str_eq(json_string_value(json_object_get(h, "typ")), "JWT");
	ck_assert_str_eq(json_string_value(json_object_get(h, "kid")), KEY_KID);
	json_decref(h);
	ck_assert_int_eq(verify(tok, &c, NULL, 0), 0);
	ck_assert_str_eq(c.jti, "fixed-id");
	ck_assert_uint_eq(c.naccess, 0);
	free(tok);
}
END_TEST

/* Only P-256 keys sign or verify. */
START_TEST(wrong_key_types)
{
	struct jwt_claims c;
	EVP_PKEY *rsa = EVP_RSA_gen(1024), *p384 = EVP_EC_gen("P-384");
	char *tok, err[128];

	ck_assert_ptr_nonnull(rsa);
	ck_assert_ptr_nonnull(p384);
	claims_init(&c);
	ck_assert_ptr_null(jwt_sign(rsa, KEY_KID, &c));
	ck_assert_ptr_null(jwt_sign(p384, KEY_KID, &c));
	ck_assert_ptr_null(jwt_sign(NULL, KEY_KID, &c));
	c.naccess = JWT_ACCESS_MAX + 1;		/* refused, not cut short */
	ck_assert_ptr_null(jwt_sign(key, KEY_KID, &c));
	c.naccess = 2;
	ck_assert_ptr_nonnull(tok = jwt_sign(key, KEY_KID, &c));
	ck_assert_int_eq(jwt_verify(rsa, NULL, tok, strlen(tok), ISS, AUD, NOW,
	    &c, err, sizeof(err)), -1);
	ck_assert_int_eq(jwt_verify(p384, NULL, tok, strlen(tok), ISS, AUD, NOW,
	    &c, err, sizeof(err)), -1);
	ck_assert_int_eq(jwt_verify(pub, NULL, tok, strlen(tok), NULL, AUD, NOW,
	    &c, err, sizeof(err)), -1);
	free(tok);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}
END_TEST

/* Forged tokens, correctly signed, that must pass (1) or fail (0). */
static const struct {
	const char *hdr, *pay;
	int ok;
} forged[] = {
	{ HDR, PAY "}", 1 },
	{ "{\"alg\":\"ES256\",\"kid\":\"" KEY_KID "\"}", PAY "}", 1 },
	{ HDR, PAY ",\"nbf\":1700000060}", 1 },
	{ HDR, PAY ",\"nbf\":1700000061}", 0 },
	{ HDR, PAY ",\"aud\":[\"x\",\"" AUD "\"]}", 0 },	/* duplicate */
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],"
	    "\"exp\":1700000300}", 1 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":[\"x\"],\"exp\":1700000300}", 0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":[1],\"exp\":1700000300}", 0 },
	{ HDR, PAY ",\"access\":[{\"type\":\"repository\",\"name\":\"a\","
	    "\"actions\":[\"*\",\"frobnicate\"]}]}", 1 },
	{ "{\"alg\":\"none\",\"kid\":\"" KEY_KID "\"}", PAY "}", 0 },
	{ "{\"alg\":\"HS256\",\"kid\":\"" KEY_KID "\"}", PAY "}", 0 },
	{ "{\"alg\":\"ES384\",\"kid\":\"" KEY_KID "\"}", PAY "}", 0 },
	{ "{\"alg\":\"es256\",\"kid\":\"" KEY_KID "\"}", PAY "}", 0 },
	{ "{\"kid\":\"" KEY_KID "\"}", PAY "}", 0 },
	{ "{\"alg\":\"ES256\"}", PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"kid\":\"x\"}", PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"kid\":7}", PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"typ\":\"JWS\",\"kid\":\"" KEY_KID "\"}",
	    PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1,\"kid\":\""
	    KEY_KID "\"}", PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"" KEY_KID "\"}",
	    PAY "}", 0 },
	{ "[\"ES256\"]", PAY "}", 0 },
	{ "{\"alg\":\"ES256\",\"kid\":\"" KEY_KID "\"", PAY "}", 0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"}", 0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"exp\":\"1700000300\"}", 0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1.7e10}", 0 },
	{ HDR, "{\"aud\":\"" AUD "\",\"exp\":1700000300}", 0 },
	{ HDR, "{\"iss\":\"other\",\"aud\":\"" AUD "\",\"exp\":1700000300}",
	    0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":\"other\",\"exp\":1700000300}",
	    0 },
	{ HDR, "{\"iss\":\"" ISS "\\u0000x\",\"aud\":\"" AUD "\","
	    "\"exp\":1700000300}", 0 },
	{ HDR, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000000}",
	    0 },
	{ HDR, PAY ",\"exp\":1800000000}", 0 },	/* duplicate key */
	{ HDR, PAY ",\"sub\":5}", 0 },
	{ HDR, PAY ",\"access\":{}}", 0 },
	{ HDR, PAY ",\"access\":[{\"type\":\"blob\",\"name\":\"a\","
	    "\"actions\":[\"pull\"]}]}", 0 },
	{ HDR, PAY ",\"access\":[{\"type\":\"repository\",\"actions\":[]}]}",
	    0 },
	{ HDR, PAY ",\"access\":[{\"type\":\"repository\",\"name\":\"a\","
	    "\"actions\":\"pull\"}]}", 0 },
	{ HDR, PAY ",\"access\":[{\"type\":\"repository\",\"name\":\"a\","
	    "\"actions\":[1]}]}", 0 },
	{ HDR, PAY ",\"access\":[\"repository:a:pull\"]}", 0 },
	{ HDR, "[1]", 0 },
	{ HDR, "", 0 },
};

START_TEST(forged_tokens)
{
	struct jwt_claims c;
	char err[128] = "";
	int rc = verify(forge(forged[_i].hdr, forged[_i].pay, 0), &c, err,
	    sizeof(err));

	if (forged[_i].ok)
		ck_assert_msg(rc == 0, "refused %s %s: %s", forged[_i].hdr,
		    forged[_i].pay, err);
	else {
		ck_assert_msg(rc == -1, "accepted %s %s", forged[_i].hdr,
		    forged[_i].pay);
		ck_assert_str_ne(err, "");
	}
}
END_TEST

/* Unknown action words grant nothing; "*" on a repository is all three. */
START_TEST(actions_words)
{
	struct jwt_claims c;

	ck_assert_int_eq(verify(forge(HDR, PAY ",\"access\":["
	    "{\"type\":\"repository\",\"name\":\"a\",\"actions\":[\"*\"]},"
	    "{\"type\":\"repository\",\"name\":\"b\",\"actions\":[\"x\"]},"
	    "{\"type\":\"registry\",\"name\":\"catalog\",\"actions\":"
	    "[\"pull\"]}]}", 0), &c, NULL, 0), 0);
	ck_assert_uint_eq(c.naccess, 3);
	ck_assert_uint_eq(c.access[0].actions, ACL_PULL | ACL_PUSH |
	    ACL_DELETE);
	ck_assert_uint_eq(c.access[1].actions, 0);
	ck_assert_uint_eq(c.access[2].actions, 0);
}
END_TEST

/* The signature must be raw r||s: DER, short, long, zero or moved
 * signatures fail even when made by the right key. */
START_TEST(signature_forms)
{
	struct jwt_claims c;
	unsigned char zero[64] = { 0 };
	char tok[1024], sig[128], *dot;

	ck_assert_int_eq(verify(forge(HDR, PAY "}", 1), &c, NULL, 0), -1);
	strcpy(tok, forge(HDR, PAY "}", 0));
	ck_assert_int_eq(verify(tok, &c, NULL, 0), 0);
	dot = strrchr(tok, '.');
	strcpy(sig, dot + 1);
	/* 63 and 65 bytes: drop or add characters */
	dot[1 + 84] = '\0';
	ck_assert_int_eq(verify(tok, &c, NULL, 0), -1);
	snprintf(dot + 1, sizeof(tok) - (size_t)(dot + 1 - tok), "%sAAA", sig);
	ck_assert_int_eq(verify(tok, &c, NULL, 0), -1);
	/* padded base64url is not JWS */
	snprintf(dot + 1, sizeof(tok) - (size_t)(dot + 1 - tok), "%s=", sig);
	ck_assert_int_eq(verify(tok, &c, NULL, 0), -1);
	b64_encode(zero, sizeof(zero), dot + 1, 100, 1);
	ck_assert_int_eq(verify(tok, &c, NULL, 0), -1);
	/* one bit of the signature */
	strcpy(dot + 1, sig);
	dot[10] = dot[10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(tok, &c, NULL, 0), -1);
}
END_TEST

/* Changing any byte of header or payload breaks the signature. */
START_TEST(tamper_every_byte)
{
	struct jwt_claims c;
	char tok[1024], *sig;
	size_t i, n;

	strcpy(tok, forge(HDR, PAY "}", 0));
	sig = strrchr(tok, '.');
	n = (size_t)(sig - tok);
	for (i = 0; i < n; i++) {
		char was = tok[i];

		if (was == '.')
			continue;
		tok[i] = was == 'a' ? 'b' : 'a';
		ck_assert_msg(verify(tok, &c, NULL, 0) == -1, "byte %zu", i);
		tok[i] = was;
	}
	ck_assert_int_eq(verify(tok, &c, NULL, 0), 0);
}
END_TEST

START_TEST(structure)
{
	struct jwt_claims c;
	char tok[JWT_MAX + 64], err[128];
	char *big;
	size_t n;

	strcpy(tok, forge(HDR, PAY "}", 0));
	n = strlen(tok);
	ck_assert_int_eq(jwt_verify(pub, KEY_KID, tok, n - 1, ISS, AUD, NOW, &c,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(jwt_verify(pub, KEY_KID, tok, 0, ISS, AUD, NOW, &c,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(verify("", &c, NULL, 0), -1);
	ck_assert_int_eq(verify("a.b", &c, NULL, 0), -1);
	ck_assert_int_eq(verify("..", &c, NULL, 0), -1);
	ck_assert_int_eq(verify("...", &c, NULL, 0), -1);
	strcat(tok, ".");
	ck_assert_int_eq(verify(tok, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "not three segments");
	tok[n] = '\0';
	tok[n - 3] = '\0';	/* a NUL within the length */
	ck_assert_int_eq(jwt_verify(pub, KEY_KID, tok, n, ISS, AUD, NOW, &c,
	    err, sizeof(err)), -1);
	/* A long payload past JWT_MAX: refused before any decoding. */
	big = malloc(JWT_MAX * 2);
	memset(big, 0, JWT_MAX * 2);
	strcpy(big, PAY ",\"x\":\"");
	memset(big + strlen(big), 'x', JWT_MAX / 4 * 3);
	strcat(big, "\"}");
	ck_assert_int_eq(verify(forge(HDR, big, 0), &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "length"));
	free(big);
}
END_TEST

/* Bounds: 32 access entries pass, 33 fail; names must fit. */
START_TEST(access_bounds)
{
	struct jwt_claims c;
	char pay[JWT_MAX], name[300];
	size_t i, o;

	for (int n = 32; n <= 33; n++) {
		o = (size_t)snprintf(pay, sizeof(pay), "%s,\"access\":[", PAY);
		for (i = 0; i < (size_t)n; i++)
			o += (size_t)snprintf(pay + o, sizeof(pay) - o,
			    "%s{\"type\":\"repository\",\"name\":\"r%zu\","
			    "\"actions\":[\"pull\"]}", i ? "," : "", i);
		snprintf(pay + o, sizeof(pay) - o, "]}");
		ck_assert_int_eq(verify(forge(HDR, pay, 0), &c, NULL, 0),
		    n == 32 ? 0 : -1);
	}
	memset(name, 'n', sizeof(name));
	for (int len = JWT_NAME_MAX - 1; len <= JWT_NAME_MAX; len++) {
		name[len] = '\0';
		snprintf(pay, sizeof(pay), "%s,\"access\":[{\"type\":"
		    "\"repository\",\"name\":\"%s\",\"actions\":[]}]}", PAY,
		    name);
		ck_assert_int_eq(verify(forge(HDR, pay, 0), &c, NULL, 0),
		    len < JWT_NAME_MAX ? 0 : -1);
		name[len] = 'n';
	}
}
END_TEST

/* Deeply nested JSON is refused by jansson's depth limit, not a crash. */
START_TEST(nesting)
{
	struct jwt_claims c;
	char pay[JWT_MAX];
	size_t i, o;

	o = (size_t)snprintf(pay, sizeof(pay), "%s,\"x\":", PAY);
	for (i = 0; i < 2500; i++)
		pay[o++] = '[';
	for (i = 0; i < 2500; i++)
		pay[o++] = ']';
	pay[o++] = '}';
	pay[o] = '\0';
	ck_assert_int_eq(verify(forge(HDR, pay, 0), &c, NULL, 0), -1);
}
END_TEST

/* All the jwt tests in one suite. */
static Suite *
jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kid_libtrust);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, header_form);
	tcase_add_test(tc, wrong_key_types);
	tcase_add_loop_test(tc, forged_tokens, 0,
	    sizeof(forged) / sizeof(forged[0]));
	tcase_add_test(tc, actions_words);
	tcase_add_test(tc, signature_forms);
	tcase_add_test(tc, tamper_every_byte);
	tcase_add_test(tc, structure);
	tcase_add_test(tc, access_bounds);
	tcase_add_test(tc, nesting);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(jwt_suite());
}
