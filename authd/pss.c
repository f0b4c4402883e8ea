/*
 * pss.c - the only raw RSA inputs authd signs.  OpenSSL 3 encodes RSA-PSS
 * itself before it calls httpd's RSA_METHOD, so authd is asked for a bare
 * c^d mod n; answered for any c, that is a decryption oracle for whoever
 * holds httpd (recorded RSA key exchanges of any server sharing the key).
 * A well-formed EMSA-PSS encoding (RFC 8017 9.1.1) with the salt TLS uses
 * (rsa_pss_rsae_*: the hash's size) is a signature of some hash and
 * nothing else: a ciphertext is one with negligible probability.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "pss.h"

/* buf ^= MGF1(seed) (RFC 8017 B.2.1), by EVP: PKCS1_MGF1 is deprecated
 * in OpenSSL 3.  0 on success. */
static int
mgf1_xor(unsigned char *buf, size_t len, const unsigned char *seed,
    size_t seedlen, const EVP_MD *md)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char c[4], h[EVP_MAX_MD_SIZE];
	unsigned int hlen;
	size_t done = 0;
	uint32_t i;

	for (i = 0; ctx != NULL && done < len; i++) {
		c[0] = (unsigned char)(i >> 24);
		c[1] = (unsigned char)(i >> 16);
		c[2] = (unsigned char)(i >> 8);
		c[3] = (unsigned char)i;
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, seed, seedlen) != 1 ||
		    EVP_DigestUpdate(ctx, c, sizeof(c)) != 1 ||
		    EVP_DigestFinal_ex(ctx, h, &hlen) != 1)
			break;
		for (unsigned int j = 0; j < hlen && done < len; j++)
			buf[done++] ^= h[j];
	}
	EVP_MD_CTX_free(ctx);
	return done == len ? 0 : -1;
}

/* Does em (emlen bytes, its top zbits bits zero, 0xbc last: checked)
 * unmask with md to PS || 0x01 || salt, |salt| = md's size? */
static int
pss_fits(const unsigned char *em, size_t emlen, unsigned int zbits,
    const EVP_MD *md)
{
	unsigned char db[PSS_IN_MAX];
	size_t hlen, dblen, pslen, i;

	if (md == NULL || EVP_MD_get_size(md) <= 0)
		return 0;
	hlen = (size_t)EVP_MD_get_size(md);
	if (emlen < 2 * hlen + 2)
		return 0;
	/* EM = maskedDB || H || 0xbc */
	dblen = emlen - hlen - 1;
	pslen = dblen - hlen - 1;
	memcpy(db, em, dblen);
	if (mgf1_xor(db, dblen, em + dblen, hlen, md) != 0)
		return 0;
	db[0] &= 0xff >> zbits;
	for (i = 0; i < pslen && db[i] == 0; i++)
		;
	return i == pslen && db[pslen] == 0x01;
}

const char *
pss_encoded(const unsigned char *in, size_t len, int modbits)
{
	static const EVP_MD *(*const hashes[])(void) = {
		EVP_sha256, EVP_sha384, EVP_sha512
	};
	size_t embits, emlen;
	unsigned int zbits;

	if (modbits < 16 || len != ((size_t)modbits + 7) / 8 ||
	    len > PSS_IN_MAX)
		return NULL;
	/* emBits = modBits - 1: a leading zero byte when that is 8k */
	embits = (size_t)modbits - 1;
	emlen = (embits + 7) / 8;
	if (emlen < len && *in++ != 0)
		return NULL;
	zbits = (unsigned int)(8 * emlen - embits);
	if (in[emlen - 1] != 0xbc || (in[0] & (0xff00 >> zbits) & 0xff) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(*hashes); i++)
		if (pss_fits(in, emlen, zbits, hashes[i]()))
			return EVP_MD_get0_name(hashes[i]());
	return NULL;
}
