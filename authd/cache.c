/*
 * cache.c - successful password checks, remembered for auth.cache_ttl so a
 * client sending Basic auth on every request pays bcrypt once.  An entry is
 * HMAC-SHA256 over the user and the password under a key made at start and
 * never stored: the cache holds no password, nor anything that tests one
 * without the key.  A fixed table (sets of a few ways, the entry nearest
 * expiry replaced) bounds memory whatever clients send.
 */
#include <string.h>

#include "authd.h"
#include "conf.h"
#include "ev.h"
#include "keyhash.h"
#include "log.h"
#include "util.h"

#define CACHE_SETS	1024
#define CACHE_WAYS	4

static struct keyhash_slot table[CACHE_SETS][CACHE_WAYS];

/* The keyed hash of the pair (a, b): what the cache and the rate limit's
 * counters are named by. */
void
keyed_hash(const char *a, const char *b, unsigned char out[32])
{
	const char *f[2] = { a, b };

	keyhash(out, 2, f);
}

static struct keyhash_slot *
cache_set(const unsigned char *mac)
{
	uint32_t h;

	memcpy(&h, mac, sizeof(h));
	return table[h % CACHE_SETS];
}

uint64_t
cache_lookup(const char *user, const char *secret)
{
	unsigned char mac[KEYHASH_LEN];

	keyed_hash(user, secret, mac);
	return keyhash_slot_find(cache_set(mac), CACHE_WAYS, mac, now_ms());
}

void
cache_insert(const char *user, const char *secret)
{
	unsigned char mac[KEYHASH_LEN];
	uint64_t ttl = (uint64_t)conf_int(P_AUTH_CACHE_TTL) * 1000;

	if (ttl == 0)
		return;
	keyed_hash(user, secret, mac);
	keyhash_slot_put(cache_set(mac), CACHE_WAYS, mac, now_ms() + ttl);
}

void
cache_flush(void)
{
	memset(table, 0, sizeof(table));
}
