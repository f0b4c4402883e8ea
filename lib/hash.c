/*
 * hash.c - incremental hashing of content with OpenSSL EVP (sha256, sha512),
 * for the processes that verify what they store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest.h"
#include "log.h"
#include "util.h"

struct hasher {
	EVP_MD_CTX	*ctx;
	enum digest_alg	 alg;
	int		 done;		/* hasher_final was called */
};

static const char *evpname[] = {
	[DIGEST_SHA256] = "SHA256",
	[DIGEST_SHA512] = "SHA512",
};

/* The EVP_MD for alg, fetched once per process (OpenSSL 3 fetches are slow). */
static const EVP_MD *
alg_md(enum digest_alg alg)
{
	if ((unsigned)alg >= nitems(evpname))
		fatalx("bad digest algorithm %d", (int)alg);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	static EVP_MD *cache[nitems(evpname)];

	if (cache[alg] == NULL &&
	    (cache[alg] = EVP_MD_fetch(NULL, evpname[alg], NULL)) == NULL)
		fatalx("EVP_MD_fetch %s failed", evpname[alg]);
	return cache[alg];
#else
	return alg == DIGEST_SHA256 ? EVP_sha256() : EVP_sha512();
#endif
}

/* Store the raw hash md[0..len) as lowercase hex in out. */
static void
hex_encode(enum digest_alg alg, const unsigned char *md, unsigned len,
    struct digest *out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned i;

	if ((size_t)len * 2 != digest_hexlen(alg))
		fatalx("digest length %u for %s", len, digest_algname(alg));
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

/* A second hasher in the same state (to go back to if bytes are undone). */
struct hasher *
hasher_dup(const struct hasher *h)
{
	struct hasher *n;

	if (h->done)
		fatalx("dup after final");
	n = xcalloc(1, sizeof(*n));
	n->alg = h->alg;
	if ((n->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(n->ctx, h->ctx) != 1)
		fatalx("EVP_MD_CTX copy failed");
	return n;
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

/* Read openssl.cnf before the chroot: in it the file is missing, and a
 * module it names would need executable mappings the sandbox forbids. */
void
hash_preload(void)
{
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		log_warnx("OpenSSL configuration not loaded");
}
