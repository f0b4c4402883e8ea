/*
 * auth_cache.c - the decisions httpd remembers so that Basic credentials
 * on every request, or a token, cost one HMAC and a table probe: no
 * allocation, no round trip to authd.  Entries are keyed by HMAC-SHA256
 * under a key drawn at first use, over the credentials and the repository,
 * so the table never holds a password (nor a token); a fixed
 * set-associative table bounds its memory.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "keyhash.h"
#include "log.h"
#include "util.h"

#define CACHE_SETS	1024
#define CACHE_WAYS	4
/*
 * An expired password decision may still serve this long while one
 * renewal of it is out: otherwise every client of a busy credential
 * misses at the same instant and authd gets as many bcrypts at once
 * (its own success cache expires with ours).
 */
#define CACHE_STALE_MS	5000

struct entry {
	unsigned char	 key[32];
	uint64_t	 expires;	/* monotonic ms; 0: free */
	unsigned	 asked, grant;
	int		 refreshing;	/* a renewal is out (cache_claim) */
	char		 user[AUTHHDR_USER_MAX + 1];
};

static struct entry table[CACHE_SETS][CACHE_WAYS];
static unsigned generation;

/* The key of kind ('B' Basic, 'C' certificate, 'A' anonymous, 'T'
 * token) over a, b and repo. */
void
cache_key(struct auth_key *k, char kind, const char *a, const char *b,
    const char *repo)
{
	const char kstr[2] = { kind, '\0' };
	const char *f[4] = { kstr, a, b, repo };

	keyhash(k->b, 4, f);
}

static struct entry *
set_of(const struct auth_key *k)
{
	uint32_t h;

	memcpy(&h, k->b, sizeof(h));
	return table[h % CACHE_SETS];
}

static struct entry *
find(const struct auth_key *k, uint64_t now)
{
	struct entry *set = set_of(k);

	for (int i = 0; i < CACHE_WAYS; i++)
		if (set[i].expires && set[i].expires + CACHE_STALE_MS > now &&
		    CRYPTO_memcmp(set[i].key, k->b, sizeof(k->b)) == 0)
			return &set[i];
	return NULL;
}

/*
 * k's entry: 1 current; 2 expired within CACHE_STALE_MS and being renewed
 * (*renew set when the caller is to send the renewal, if claim_ok); 0 none.
 */
int
cache_get(const struct auth_key *k, uint64_t now, unsigned *grant,
    unsigned *asked, const char **user, int claim_ok, int *renew)
{
	struct entry *e = find(k, now);

	*renew = 0;
	if (e == NULL)
		return 0;
	*grant = e->grant;
	*asked = e->asked;
	*user = e->user;
	if (e->expires > now)
		return 1;
	/* stale: usable while a renewal is out, which the caller starts */
	if (!e->refreshing) {
		if (!claim_ok)
			return 0;
		e->refreshing = *renew = 1;
	}
	return 2;
}

/* The renewal failed: forget the entry (refused), or let another try. */
void
cache_unclaim(const struct auth_key *k, int drop)
{
	struct entry *e = find(k, now_ms());

	if (e && drop)
		e->expires = 0;
	else if (e)
		e->refreshing = 0;
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
		    set[i].expires + CACHE_STALE_MS <= now) {
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
	e->refreshing = 0;
}

/* Clear only the entries in use: a memset of the whole table would make
 * its 1.2 MiB resident in every httpd, auth or not (reading untouched
 * pages maps the zero page and costs nothing). */
void
cache_flush(void)
{
	for (size_t i = 0; i < CACHE_SETS; i++)
		for (size_t j = 0; j < CACHE_WAYS; j++)
			if (table[i][j].expires)
				memset(&table[i][j], 0, sizeof(table[i][j]));
	generation++;
}

/* Answers to requests sent before a flush must not be remembered. */
unsigned
cache_generation(void)
{
	return generation;
}
