/*
 * keyhash.c - one HMAC context per process, keyed once: a lookup costs one
 * HMAC and no allocation.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keyhash.h"
#include "log.h"
#include "ossl.h"

static EVP_MAC_CTX *mac;

void
keyhash_init(void)
{
	unsigned char key[32];
	OSSL_PARAM params[2];
	EVP_MAC *m;

	ossl_need();
	if (RAND_bytes(key, sizeof(key)) != 1)
		fatalx("RAND_bytes failed");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (mac = EVP_MAC_CTX_new(m)) == NULL ||
	    EVP_MAC_init(mac, key, sizeof(key), params) != 1)
		fatalx("HMAC-SHA256 is not available");
	EVP_MAC_free(m);
	OPENSSL_cleanse(key, sizeof(key));
}

void
keyhash(unsigned char out[KEYHASH_LEN], size_t n, const char *const *fields)
{
	size_t len = KEYHASH_LEN;

	if (mac == NULL)
		keyhash_init();
	/* a NULL key restarts with the key set at init */
	if (EVP_MAC_init(mac, NULL, 0, NULL) != 1)
		fatalx("HMAC init failed");
	for (size_t i = 0; i < n; i++) {
		const char *s = fields[i] ? fields[i] : "";
		if (EVP_MAC_update(mac, (const unsigned char *)s,
		    strlen(s) + 1) != 1)
			fatalx("HMAC update failed");
	}
	if (EVP_MAC_final(mac, out, &len, KEYHASH_LEN) != 1 ||
	    len != KEYHASH_LEN)
		fatalx("HMAC final failed");
}

uint64_t
keyhash_slot_find(const struct keyhash_slot *set, size_t n,
    const unsigned char h[KEYHASH_LEN], uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].expires > now &&
		    CRYPTO_memcmp(set[i].mac, h, KEYHASH_LEN) == 0)
			return set[i].expires - now;
	return 0;
}

void
keyhash_slot_put(struct keyhash_slot *set, size_t n,
    const unsigned char h[KEYHASH_LEN], uint64_t expires)
{
	struct keyhash_slot *victim = &set[0];

	for (size_t i = 0; i < n; i++) {
		if (memcmp(set[i].mac, h, KEYHASH_LEN) == 0) {
			victim = &set[i];
			break;
		}
		if (set[i].expires < victim->expires)
			victim = &set[i];
	}
	memcpy(victim->mac, h, KEYHASH_LEN);
	victim->expires = expires;
}
