/*
 * digest.c - content digests as the OCI distribution and image specs define
 * them ("algorithm:encoded"), and incremental hashing with OpenSSL EVP.
 * Only sha256 and sha512 are supported; other well-formed digests are told
 * apart from garbage so the API can answer UNSUPPORTED, not DIGEST_INVALID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "log.h"
#include "util.h"

struct hasher {
	EVP_MD_CTX	*ctx;
	enum digest_alg	 alg;
	int		 done;		/* hasher_final was called */
};

static const struct {
	const char	*name;
	size_t		 hexlen;
	const char	*evpname;
} algs[] = {
	[DIGEST_SHA256] = { "sha256", 64, "SHA256" },
	[DIGEST_SHA512] = { "sha512", 128, "SHA512" },
};

/* Abort on an algorithm value no caller should ever pass. */
static void
alg_check(enum digest_alg alg)
{
	if ((unsigned)alg >= nitems(algs))
		fatalx("bad digest algorithm %d", (int)alg);
}

/* The algorithm's name as digests spell it: "sha256". */
const char *
digest_algname(enum digest_alg alg)
{
	alg_check(alg);
	return algs[alg].name;
}

/* Number of hex characters in an encoded digest of alg. */
size_t
digest_hexlen(enum digest_alg alg)
{
	alg_check(alg);
	return algs[alg].hexlen;
}

/* The EVP_MD for alg, fetched once per process (OpenSSL 3 fetches are slow). */
static const EVP_MD *
alg_md(enum digest_alg alg)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	static EVP_MD *cache[nitems(algs)];

	alg_check(alg);
	if (cache[alg] == NULL &&
	    (cache[alg] = EVP_MD_fetch(NULL, algs[alg].evpname, NULL)) == NULL)
		fatalx("EVP_MD_fetch %s failed", algs[alg].evpname);
	return cache[alg];
#else
	alg_check(alg);
	return alg == DIGEST_SHA256 ? EVP_sha256() : EVP_sha512();
#endif
}

/* 1 if c may appear in an algorithm component: [a-z0-9]. */
static int
is_algchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 1 if c separates algorithm components: [+._-]. */
static int
is_algsep(int c)
{
	return c == '+' || c == '.' || c == '_' || c == '-';
}

/* 1 if c may appear in the encoded part: [a-zA-Z0-9=_-]. */
static int
is_encchar(int c)
{
	return is_algchar(c) || (c >= 'A' && c <= 'Z') || c == '=' ||
	    c == '_' || c == '-';
}

/* 1 if c is lowercase hex. */
static int
is_lowerhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 1 if s[0..n) is an OCI algorithm: components joined by one of [+._-]. */
static int
alg_syntax_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_algchar((unsigned char)s[0]) ||
	    !is_algchar((unsigned char)s[n - 1]))
		return 0;
	for (i = 1; i < n; i++) {
		if (is_algchar((unsigned char)s[i]))
			continue;
		if (!is_algsep(s[i]) || !is_algchar((unsigned char)s[i - 1]))
			return 0;
	}
	return 1;
}

/* 1 if s[0..n) is a non-empty OCI encoded part. */
static int
enc_syntax_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_encchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parse "sha256:<64 hex>" or "sha512:<128 hex>" (lowercase) into d. */
int
digest_parse(const char *s, struct digest *d)
{
	const char *colon, *enc;
	size_t n, alen, elen, i;
	unsigned a;

	if ((n = strnlen(s, DIGEST_INPUTMAX + 1)) > DIGEST_INPUTMAX)
		return -1;
	if ((colon = memchr(s, ':', n)) == NULL)
		return -1;
	alen = (size_t)(colon - s);
	enc = colon + 1;
	elen = n - alen - 1;
	if (!alg_syntax_ok(s, alen) || !enc_syntax_ok(enc, elen))
		return -1;
	for (a = 0; a < nitems(algs); a++)
		if (strlen(algs[a].name) == alen &&
		    memcmp(algs[a].name, s, alen) == 0)
			break;
	if (a == nitems(algs))
		return -2;
	if (elen != algs[a].hexlen)
		return -1;
	for (i = 0; i < elen; i++)
		if (!is_lowerhex((unsigned char)enc[i]))
			return -1;
	d->alg = (enum digest_alg)a;
	memcpy(d->hex, enc, elen);
	d->hex[elen] = '\0';
	return 0;
}

/* Write "alg:hex" into out; -1 if it does not fit. */
int
digest_format(const struct digest *d, char *out, size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "%s:%s", digest_algname(d->alg), d->hex);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

/* 1 if both digests name the same content. */
int
digest_equal(const struct digest *a, const struct digest *b)
{
	return a->alg == b->alg && strcmp(a->hex, b->hex) == 0;
}

/* Store the raw hash md[0..len) as lowercase hex in out. */
static void
hex_encode(enum digest_alg alg, const unsigned char *md, unsigned len,
    struct digest *out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned i;

	if ((size_t)len * 2 != algs[alg].hexlen)
		fatalx("digest length %u for %s", len, algs[alg].name);
	for (i = 0; i < len; i++) {
		out->hex[2 * i] = hexd[md[i] >> 4];
		out->hex[2 * i + 1] = hexd[md[i] & 0xf];
	}
	out->hex[2 * len] = '\0';
	out->alg = alg;
}

/* Start hashing with alg. */
struct hasher *
hasher_new(enum digest_alg alg)
{
	struct hasher *h;

	h = xcalloc(1, sizeof(*h));
	h->alg = alg;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("EVP_MD_CTX_new failed");
	if (EVP_DigestInit_ex(h->ctx, alg_md(alg), NULL) != 1)
		fatalx("EVP_DigestInit_ex failed");
	return h;
}

/* Feed len bytes to the hash. */
void
hasher_update(struct hasher *h, const void *p, size_t len)
{
	if (h->done)
		fatalx("update after final");
	if (len > 0 && EVP_DigestUpdate(h->ctx, p, len) != 1)
		fatalx("EVP_DigestUpdate failed");
}

/* Digest of the bytes fed so far; the hasher carries on unchanged. */
void
hasher_peek(const struct hasher *h, struct digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *tmp;

	if (h->done)
		fatalx("peek after final");
	if ((tmp = EVP_MD_CTX_new()) == NULL)
		fatalx("EVP_MD_CTX_new failed");
	if (EVP_MD_CTX_copy_ex(tmp, h->ctx) != 1 ||
	    EVP_DigestFinal_ex(tmp, md, &len) != 1)
		fatalx("EVP digest copy/final failed");
	EVP_MD_CTX_free(tmp);
	hex_encode(h->alg, md, len, out);
}

/* Finish the hash; only hasher_free may follow. */
void
hasher_final(struct hasher *h, struct digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (h->done)
		fatalx("final called twice");
	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1)
		fatalx("EVP_DigestFinal_ex failed");
	h->done = 1;
	hex_encode(h->alg, md, len, out);
}

/* Release a hasher, finished or not; NULL is fine. */
void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* One-shot digest of p[0..len). */
void
digest_buf(enum digest_alg alg, const void *p, size_t len, struct digest *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(p, len, md, &mdlen, alg_md(alg), NULL) != 1)
		fatalx("EVP_Digest failed");
	hex_encode(alg, md, mdlen, out);
}
