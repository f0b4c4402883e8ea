/*
 * jwt.c - the JSON Web Tokens of Docker token auth (ES256, compact form).
 * authd signs with its P-256 key; httpd verifies with the public key alone.
 * Verification is strict, because a token is the one input httpd trusts
 * without asking authd: the length is bounded before anything is decoded,
 * the header must say ES256 (no "none", no RSA/HMAC confusion), no critical
 * extension is understood so any "crit" is refused, the signature is the
 * JWS raw r||s of exactly 64 bytes (not DER), the JSON is parsed by jansson
 * with duplicate keys refused, and exp is required.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "acl.h"
#include "b64.h"
#include "jwt.h"
#include "util.h"

#define SIG_LEN		64		/* r || s, 32 bytes each */
#define NBF_LEEWAY	60		/* seconds a clock may run behind */
#define SEG_MAX		(JWT_MAX / 4 * 3)	/* a decoded segment */
#define KID_BYTES	30		/* libtrust: the first 240 bits */

/* The words of the "actions" arrays and the ACL bits they stand for. */
static const struct {
	const char	*word;
	unsigned	 bit;
} jwt_actions[] = {
	{ "pull", ACL_PULL },
	{ "push", ACL_PUSH },
	{ "delete", ACL_DELETE },
};

/* Write a formatted reason into err (may be NULL); returns -1. */
static int __attribute__((format(printf, 3, 4)))
jwt_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* 1 if pkey is an EC key on P-256, the only curve ES256 allows. */
static int
key_is_p256(EVP_PKEY *pkey)
{
	char group[32];
	size_t n;

	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &n))
		return 0;
	return strcmp(group, "prime256v1") == 0;
}

/* Base32 (RFC 4648, no padding) of n bytes, n a multiple of 5. */
static void
base32(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t v;
	size_t i, o = 0;
	int k;

	for (i = 0; i + 5 <= n; i += 5) {
		v = (uint64_t)in[i] << 32 | (uint64_t)in[i + 1] << 24 |
		    (uint64_t)in[i + 2] << 16 | (uint64_t)in[i + 3] << 8 |
		    in[i + 4];
		for (k = 35; k >= 0; k -= 5)
			out[o++] = a[(v >> k) & 31];
	}
	out[o] = '\0';
}

/* libtrust's key id: SHA-256 of the DER SubjectPublicKeyInfo, the first
 * 240 bits in base32, in 12 groups of 4 joined by ':'. */
int
jwt_kid(EVP_PKEY *pkey, char *out, size_t len)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char b32[KID_BYTES / 5 * 8 + 1];
	size_t i, o = 0;
	int n;

	if (len < 64 || (n = i2d_PUBKEY(pkey, &der)) <= 0)
		return -1;
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	base32(md, KID_BYTES, b32);
	for (i = 0; b32[i] != '\0'; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = ':';
		out[o++] = b32[i];
	}
	out[o] = '\0';
	return 0;
}

/* The "actions" array for bits on an entry of type. */
static json_t *
actions_json(const char *type, unsigned bits)
{
	json_t *a = json_array();
	size_t i;

	if (strcmp(type, "registry") == 0) {
		if (bits & ACL_CATALOG)
			json_array_append_new(a, json_string("*"));
		return a;
	}
	for (i = 0; i < nitems(jwt_actions); i++)
		if (bits & jwt_actions[i].bit)
			json_array_append_new(a,
			    json_string(jwt_actions[i].word));
	return a;
}

/* The claims as the JSON object a token carries. */
static json_t *
claims_json(const struct jwt_claims *c)
{
	json_t *o, *acc, *e;
	unsigned char rnd[16];
	char jti[sizeof(rnd) * 2 + 1];
	size_t i;

	if (c->jti[0] == '\0') {	/* unique per token unless given */
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return NULL;
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", c->iss,
	    "sub", c->sub, "aud", c->aud, "exp", (json_int_t)c->exp,
	    "nbf", (json_int_t)c->nbf, "iat", (json_int_t)c->iat,
	    "jti", c->jti[0] != '\0' ? c->jti : jti);
	if (o == NULL)
		return NULL;
	acc = json_array();
	for (i = 0; i < c->naccess; i++) {
		e = json_pack("{s:s, s:s, s:o}", "type", c->access[i].type,
		    "name", c->access[i].name, "actions",
		    actions_json(c->access[i].type, c->access[i].actions));
		if (e == NULL || json_array_append_new(acc, e) != 0) {
			json_decref(acc);
			json_decref(o);
			return NULL;
		}
	}
	json_object_set_new(o, "access", acc);
	return o;
}

/* Append the base64url of j's compact text to out at *o; 0 or -1. */
static int
seg_append(json_t *j, char *out, size_t len, size_t *o)
{
	char *txt;
	long n;

	if (j == NULL || (txt = json_dumps(j, JSON_COMPACT)) == NULL)
		return -1;
	n = b64_encode(txt, strlen(txt), out + *o, len - *o, 1);
	free(txt);
	if (n < 0)
		return -1;
	*o += (size_t)n;
	return 0;
}

/* ECDSA-SHA256 over msg, as the raw r||s a JWS carries; 0 or -1. */
static int
es256_sign(EVP_PKEY *pkey, const char *msg, size_t n,
    unsigned char raw[SIG_LEN])
{
	EVP_MD_CTX *ctx;
	ECDSA_SIG *sig = NULL;
	unsigned char der[80];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t dlen = sizeof(der);
	int rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)msg, n) == 1 &&
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) != NULL) {
		ECDSA_SIG_get0(sig, &r, &s);
		if (BN_bn2binpad(r, raw, 32) == 32 &&
		    BN_bn2binpad(s, raw + 32, 32) == 32)
			rc = 0;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Write "header.payload" of hdr and pay into tok (JWT_MAX + 1 bytes),
 * leaving room for the signature; its length, or 0. */
static size_t
token_body(json_t *hdr, json_t *pay, char *tok)
{
	size_t o = 0;

	if (seg_append(hdr, tok, JWT_MAX + 1, &o) != 0 || o >= JWT_MAX)
		return 0;
	tok[o++] = '.';
	if (seg_append(pay, tok, JWT_MAX + 1, &o) != 0 || o >= JWT_MAX)
		return 0;
	return o;
}

/* Sign claims with an EC P-256 key: "header.payload.signature". */
char *
jwt_sign(EVP_PKEY *pkey, const char *kid, const struct jwt_claims *c)
{
	json_t *hdr, *pay;
	unsigned char sig[SIG_LEN];
	char *tok;
	size_t o;

	if (!key_is_p256(pkey) || kid == NULL || c->naccess > JWT_ACCESS_MAX)
		return NULL;		/* never a token granting less, silently */
	tok = xmalloc(JWT_MAX + 1);
	hdr = json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg", "ES256",
	    "kid", kid);
	pay = claims_json(c);
	o = token_body(hdr, pay, tok);
	json_decref(hdr);
	json_decref(pay);
	if (o == 0 || es256_sign(pkey, tok, o, sig) != 0)
		goto fail;
	tok[o++] = '.';
	if (b64_encode(sig, sizeof(sig), tok + o, JWT_MAX + 1 - o, 1) < 0)
		goto fail;
	return tok;
fail:
	free(tok);
	return NULL;
}

/* Decode a base64url segment and parse it as a JSON object (duplicate
 * keys refused: two "alg" or two "exp" would be read differently by
 * different parsers); NULL with err set. */
static json_t *
seg_object(const char *s, size_t n, const char *what, char *err, size_t len)
{
	unsigned char buf[SEG_MAX];
	json_error_t jerr;
	json_t *o;
	long m;

	if ((m = b64_decode(s, n, buf, sizeof(buf), 1)) <= 0) {
		jwt_err(err, len, "%s: bad base64url", what);
		return NULL;
	}
	o = json_loadb((const char *)buf, (size_t)m, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		jwt_err(err, len, "%s: not a JSON object", what);
		return NULL;
	}
	return o;
}

/* Check the header: alg ES256, typ JWT if given, kid equal, no crit. */
static int
header_check(const char *s, size_t n, const char *kid, char *err,
    size_t len)
{
	json_t *h, *typ, *k;
	const char *alg;
	int rc = -1;

	if ((h = seg_object(s, n, "header", err, len)) == NULL)
		return -1;
	alg = json_string_value(json_object_get(h, "alg"));
	typ = json_object_get(h, "typ");
	k = json_object_get(h, "kid");
	if (alg == NULL || strcmp(alg, "ES256") != 0)
		jwt_err(err, len, "alg is not ES256");
	else if (typ != NULL && (!json_is_string(typ) ||
	    strcmp(json_string_value(typ), "JWT") != 0))
		jwt_err(err, len, "typ is not JWT");
	else if (json_object_get(h, "crit") != NULL)
		jwt_err(err, len, "unknown critical header");
	else if (kid != NULL && (!json_is_string(k) ||
	    strcmp(json_string_value(k), kid) != 0))
		jwt_err(err, len, "kid does not match the key");
	else
		rc = 0;
	json_decref(h);
	return rc;
}

/* Verify the raw r||s signature sig (base64url) over msg; 0 or -1. */
static int
sig_check(EVP_PKEY *pkey, const char *msg, size_t n, const char *sig,
    size_t slen, char *err, size_t len)
{
	unsigned char raw[SIG_LEN], *der = NULL;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	EVP_MD_CTX *ctx;
	int dlen, ok = 0;

	if (b64_decode(sig, slen, raw, sizeof(raw), 1) != SIG_LEN)
		return jwt_err(err, len, "signature is not 64 bytes");
	if ((es = ECDSA_SIG_new()) == NULL)
		return jwt_err(err, len, "out of memory");
	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return jwt_err(err, len, "out of memory");
	}
	dlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (dlen > 0 && (ctx = EVP_MD_CTX_new()) != NULL) {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
		    pkey) == 1 && EVP_DigestVerify(ctx, der, (size_t)dlen,
		    (const unsigned char *)msg, n) == 1;
		EVP_MD_CTX_free(ctx);
	}
	OPENSSL_free(der);
	return ok ? 0 : jwt_err(err, len, "bad signature");
}

/* Copy string member key of o into dst; absent is "" unless required. */
static int
str_claim(json_t *o, const char *key, char *dst, size_t size, int required,
    char *err, size_t len)
{
	json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v))
		return jwt_err(err, len, "%s: missing or not a string", key);
	if (json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return jwt_err(err, len, "%s: too long or has NUL", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Read integer member key of o into *dst; absent is 0 unless required. */
static int
int_claim(json_t *o, const char *key, int64_t *dst, int required, char *err,
    size_t len)
{
	json_t *v = json_object_get(o, key);

	*dst = 0;
	if (v == NULL && !required)
		return 0;
	if (!json_is_integer(v))
		return jwt_err(err, len, "%s: missing or not an integer", key);
	*dst = json_integer_value(v);
	return 0;
}

/* The aud claim: a string, or an array of strings holding want. */
static int
aud_claim(json_t *o, const char *want, char *dst, size_t size, char *err,
    size_t len)
{
	json_t *v = json_object_get(o, "aud"), *e;
	size_t i;

	if (!json_is_array(v))
		return str_claim(o, "aud", dst, size, 1, err, len);
	dst[0] = '\0';
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return jwt_err(err, len, "aud: not strings");
		if (strcmp(json_string_value(e), want) == 0)
			return str_copy(dst, want, size) == 0 ? 0 :
			    jwt_err(err, len, "aud: too long");
	}
	return 0;
}

/* The ACL bits of an "actions" array; words granting nothing we know
 * (another registry's extensions) are ignored, not errors. */
static int
actions_claim(const char *type, json_t *v, unsigned *bits, char *err,
    size_t len)
{
	json_t *e;
	const char *w;
	size_t i, k;

	*bits = 0;
	if (!json_is_array(v))
		return jwt_err(err, len, "access: actions is not an array");
	json_array_foreach(v, i, e) {
		if ((w = json_string_value(e)) == NULL)
			return jwt_err(err, len, "access: action not a string");
		if (strcmp(w, "*") == 0)
			*bits |= strcmp(type, "registry") == 0 ? ACL_CATALOG :
			    ACL_PULL | ACL_PUSH | ACL_DELETE;
		else if (strcmp(type, "repository") == 0)
			for (k = 0; k < nitems(jwt_actions); k++)
				if (strcmp(w, jwt_actions[k].word) == 0)
					*bits |= jwt_actions[k].bit;
	}
	return 0;
}

/* The access claim: at most JWT_ACCESS_MAX {type, name, actions}. */
static int
access_claim(json_t *o, struct jwt_claims *out, char *err, size_t len)
{
	json_t *v = json_object_get(o, "access"), *e;
	struct jwt_access *a;
	size_t i;

	out->naccess = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > JWT_ACCESS_MAX)
		return jwt_err(err, len, "access: not an array of at most %d",
		    JWT_ACCESS_MAX);
	json_array_foreach(v, i, e) {
		a = &out->access[i];
		if (!json_is_object(e))
			return jwt_err(err, len, "access: not an object");
		if (str_claim(e, "type", a->type, sizeof(a->type), 1, err,
		    len) != 0 || str_claim(e, "name", a->name, sizeof(a->name),
		    1, err, len) != 0)
			return -1;
		if (strcmp(a->type, "repository") != 0 &&
		    strcmp(a->type, "registry") != 0)
			return jwt_err(err, len, "access: unknown type");
		if (actions_claim(a->type, json_object_get(e, "actions"),
		    &a->actions, err, len) != 0)
			return -1;
		out->naccess++;
	}
	return 0;
}

/* Parse the payload segment into out. */
static int
payload_parse(const char *s, size_t n, const char *aud,
    struct jwt_claims *out, char *err, size_t len)
{
	json_t *p;
	int rc = -1;

	if ((p = seg_object(s, n, "payload", err, len)) == NULL)
		return -1;
	if (str_claim(p, "iss", out->iss, sizeof(out->iss), 1, err, len) == 0 &&
	    str_claim(p, "sub", out->sub, sizeof(out->sub), 0, err, len) == 0 &&
	    aud_claim(p, aud, out->aud, sizeof(out->aud), err, len) == 0 &&
	    str_claim(p, "jti", out->jti, sizeof(out->jti), 0, err, len) == 0 &&
	    int_claim(p, "exp", &out->exp, 1, err, len) == 0 &&
	    int_claim(p, "nbf", &out->nbf, 0, err, len) == 0 &&
	    int_claim(p, "iat", &out->iat, 0, err, len) == 0 &&
	    access_claim(p, out, err, len) == 0)
		rc = 0;
	json_decref(p);
	return rc;
}

/* Check issuer, audience and the validity period. */
static int
claims_check(const struct jwt_claims *c, const char *iss, const char *aud,
    int64_t now, char *err, size_t len)
{
	if (strcmp(c->iss, iss) != 0)
		return jwt_err(err, len, "wrong issuer");
	if (strcmp(c->aud, aud) != 0)
		return jwt_err(err, len, "wrong audience");
	if (now >= c->exp)
		return jwt_err(err, len, "expired");
	if (c->nbf > now && c->nbf - now > NBF_LEEWAY)
		return jwt_err(err, len, "not valid yet");
	return 0;
}

/* Verify a compact ES256 token with the public key; 0 with *out filled. */
int
jwt_verify(EVP_PKEY *pkey, const char *kid, const char *token, size_t len,
    const char *iss, const char *aud, int64_t now, struct jwt_claims *out,
    char *err, size_t errlen)
{
	const char *d1, *d2, *end = token + len;

	memset(out, 0, sizeof(*out));
	if (iss == NULL || aud == NULL || !key_is_p256(pkey))
		return jwt_err(err, errlen, "no P-256 key, issuer or audience");
	if (len == 0 || len > JWT_MAX)
		return jwt_err(err, errlen, "token length %zu", len);
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return jwt_err(err, errlen, "not three segments");
	if (header_check(token, (size_t)(d1 - token), kid, err, errlen) != 0 ||
	    sig_check(pkey, token, (size_t)(d2 - token), d2 + 1,
	    (size_t)(end - d2 - 1), err, errlen) != 0 ||
	    payload_parse(d1 + 1, (size_t)(d2 - d1 - 1), aud, out, err,
	    errlen) != 0 ||
	    claims_check(out, iss, aud, now, err, errlen) != 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}
