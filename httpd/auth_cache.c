/*
 * auth_cache.c - the decisions httpd remembers so that Basic credentials
 * on every request, or a token, cost one HMAC and a table probe: no
 * allocation, no round trip to authd.  Entries are keyed by HMAC-SHA256
 * under a key drawn at start, over the credentials and the repository, so
 * the table never holds a password (nor a token); a fixed set-associative
 * table bounds its memory.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "log.h"
#include "util.h"

#define CACHE_SETS	1024
#define CACHE_WAYS	4

struct entry {
	unsigned char	 key[32];
	uint64_t	 expires;	/* monotonic ms; 0: free */
	unsigned	 asked, grant;
	char		 user[AUTHHDR_USER_MAX + 1];
};

static struct entry table[CACHE_SETS][CACHE_WAYS];
static EVP_MAC_CTX *mac;
static unsigned generation;

/* The HMAC key and context, made once before the sandbox closes. */
void
cache_preload(void)
{
	unsigned char key[32];
	OSSL_PARAM params[2];
	EVP_MAC *m;

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

static void
mac_str(const char *s)
{
	if (EVP_MAC_update(mac, (const unsigned char *)(s ? s : ""),
	    strlen(s ? s : "") + 1) != 1)
		fatalx("HMAC update failed");
}

/* The key of kind ('B' Basic, 'C' certificate, 'A' anonymous, 'T'
 * token) over a, b and repo, each with its NUL so fields cannot run
 * into each other. */
void
cache_key(struct auth_key *k, char kind, const char *a, const char *b,
    const char *repo)
{
	size_t n = sizeof(k->b);

	/* a NULL key restarts with the key set at preload */
	if (EVP_MAC_init(mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(mac, (const unsigned char *)&kind, 1) != 1)
		fatalx("HMAC init failed");
	mac_str(a);
	mac_str(b);
	mac_str(repo);
	if (EVP_MAC_final(mac, k->b, &n, sizeof(k->b)) != 1 ||
	    n != sizeof(k->b))
		fatalx("HMAC final failed");
}

static struct entry *
set_of(const struct auth_key *k)
{
	uint32_t h;

	memcpy(&h, k->b, sizeof(h));
	return table[h % CACHE_SETS];
}

int
cache_get(const struct auth_key *k, uint64_t now, unsigned *grant,
    unsigned *asked, const char **user)
{
	struct entry *set = set_of(k);

	for (int i = 0; i < CACHE_WAYS; i++) {
		struct entry *e = &set[i];
		if (e->expires <= now ||
		    CRYPTO_memcmp(e->key, k->b, sizeof(e->key)) != 0)
			continue;
		*grant = e->grant;
		*asked = e->asked;
		*user = e->user;
		return 1;
	}
	return 0;
}

/* Take the entry of k, else a free or expired way, else the one that
 * expires first. */
void
cache_put(const struct auth_key *k, uint64_t expires, unsigned asked,
    unsigned grant, const char *user)
{
	struct entry *set = set_of(k), *e = &set[0];
	uint64_t now = now_ms();

	for (int i = 0; i < CACHE_WAYS; i++) {
		if (memcmp(set[i].key, k->b, sizeof(k->b)) == 0 ||
		    set[i].expires <= now) {
			e = &set[i];
			break;
		}
		if (set[i].expires < e->expires)
			e = &set[i];
	}
	if (str_copy(e->user, user ? user : "", sizeof(e->user)) == -1) {
		e->expires = 0;
		return;
	}
	memcpy(e->key, k->b, sizeof(e->key));
	e->expires = expires;
	e->asked = asked;
	e->grant = grant;
}

void
cache_flush(void)
{
	memset(table, 0, sizeof(table));
	generation++;
}

/* Answers to requests sent before a flush must not be remembered. */
unsigned
cache_generation(void)
{
	return generation;
}
