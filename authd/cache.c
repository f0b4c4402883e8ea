/*
 * cache.c - successful password checks, remembered for auth.cache_ttl so a
 * client sending Basic auth on every request pays bcrypt once.  An entry is
 * HMAC-SHA256 over the user and the password under a key made at start and
 * never stored: the cache holds no password, nor anything that tests one
 * without the key.  A fixed table (sets of a few ways, the entry nearest
 * expiry replaced) bounds memory whatever clients send.
 */
#include <sys/random.h>

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "authd.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define CACHE_SETS	1024
#define CACHE_WAYS	4
#define MAC_LEN		32

struct centry {
	unsigned char	 mac[MAC_LEN];
	uint64_t	 expires;	/* monotonic ms; 0: free */
};

static unsigned char key[32];
static struct centry table[CACHE_SETS][CACHE_WAYS];

void
cache_init(void)
{
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		fatal("getrandom");
}

/* HMAC-SHA256(key, a NUL b): the NUL keeps ("ab", "c") from ("a", "bc"). */
void
keyed_hash(const char *a, const char *b, unsigned char out[32])
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char *msg = xmalloc(la + lb + 1);
	unsigned int outlen = MAC_LEN;

	memcpy(msg, a, la + 1);
	memcpy(msg + la + 1, b, lb);
	if (HMAC(EVP_sha256(), key, sizeof(key), msg, la + lb + 1, out,
	    &outlen) == NULL)
		fatalx("HMAC-SHA256 failed");
	OPENSSL_cleanse(msg, la + lb + 1);
	free(msg);
}

static struct centry *
cache_set(const unsigned char *mac)
{
	uint32_t h;

	memcpy(&h, mac, sizeof(h));
	return table[h % CACHE_SETS];
}

uint64_t
cache_lookup(const char *user, const char *secret)
{
	unsigned char mac[MAC_LEN];
	struct centry *set;
	uint64_t now = now_ms();

	keyed_hash(user, secret, mac);
	set = cache_set(mac);
	for (int i = 0; i < CACHE_WAYS; i++)
		if (set[i].expires > now &&
		    CRYPTO_memcmp(set[i].mac, mac, MAC_LEN) == 0)
			return set[i].expires - now;
	return 0;
}

void
cache_insert(const char *user, const char *secret)
{
	unsigned char mac[MAC_LEN];
	struct centry *set, *victim;
	uint64_t ttl = (uint64_t)conf_int(P_AUTH_CACHE_TTL) * 1000;

	if (ttl == 0)
		return;
	keyed_hash(user, secret, mac);
	set = cache_set(mac);
	victim = &set[0];
	for (int i = 0; i < CACHE_WAYS; i++) {
		if (memcmp(set[i].mac, mac, MAC_LEN) == 0) {
			victim = &set[i];
			break;
		}
		if (set[i].expires < victim->expires)
			victim = &set[i];
	}
	memcpy(victim->mac, mac, MAC_LEN);
	victim->expires = now_ms() + ttl;
}

void
cache_flush(void)
{
	memset(table, 0, sizeof(table));
}
