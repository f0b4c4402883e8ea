/*
 * limit.c - failed logins counted per client address and per user name in
 * a window of auth.failure_window; at auth.max_failures the next attempts
 * get 429 until the window passes, before any bcrypt: a guesser can burn
 * neither authd's CPU nor many guesses.  Names are kept as keyed hashes in
 * fixed tables (the entry with the oldest window replaced), so memory is
 * bounded and a flood of made-up names cannot pick which counter it evicts.
 * IPv6 clients are counted per /64: one host usually holds a whole /64, so
 * counting per /128 would give a guesser 2^64 fresh counters.
 */
#include <arpa/inet.h>

#include <string.h>

#include "authd.h"
#include "conf.h"
#include "util.h"

#define LIMIT_SETS	512
#define LIMIT_WAYS	8

struct lentry {
	unsigned char	 mac[32];
	uint64_t	 start;		/* ms the window began; 0: free */
	uint32_t	 count;
	int		 refused;	/* a 429 was logged in this window */
};

static struct lentry addrs[LIMIT_SETS][LIMIT_WAYS];
static struct lentry users[LIMIT_SETS][LIMIT_WAYS];

static uint64_t
window_ms(void)
{
	return (uint64_t)conf_int(P_AUTH_FAILURE_WINDOW) * 1000;
}

/* The counter of name, reset if its window passed; NULL if there is none
 * and create is 0. */
static struct lentry *
lookup(struct lentry (*tab)[LIMIT_WAYS], const char *kind, const char *name,
    int create)
{
	unsigned char mac[32];
	struct lentry *set, *victim;
	uint64_t now = now_ms();
	uint32_t h;

	keyed_hash(kind, name, mac);
	memcpy(&h, mac, sizeof(h));
	set = tab[h % LIMIT_SETS];
	victim = &set[0];
	for (int i = 0; i < LIMIT_WAYS; i++) {
		if (set[i].start && memcmp(set[i].mac, mac, sizeof(mac)) == 0) {
			victim = &set[i];
			if (now - victim->start >= window_ms())
				goto fresh;
			return victim;
		}
		if (set[i].start < victim->start)
			victim = &set[i];
	}
	if (!create)
		return NULL;
fresh:
	memcpy(victim->mac, mac, sizeof(mac));
	victim->start = now;
	victim->count = 0;
	victim->refused = 0;
	return victim;
}

/* The counter of client address addr: an IPv6 address by its /64. */
static struct lentry *
addr_lookup(const char *addr, int create)
{
	char net[INET6_ADDRSTRLEN];

	return lookup(addrs, "addr", addr_count_key(addr, net), create);
}

/* Seconds until e's window ends if it is over the limit, else 0. */
static uint64_t
entry_wait(const struct lentry *e)
{
	uint64_t end, now = now_ms();

	if (e == NULL || e->count < (uint64_t)conf_int(P_AUTH_MAX_FAILURES))
		return 0;
	end = e->start + window_ms();
	return end > now ? (end - now + 999) / 1000 : 1;
}

/*
 * The user's counter holds back only addresses that have failed in this
 * window themselves: guesses spread over many addresses still run out,
 * but the user logging in from a clean address is not locked out by them.
 */
uint64_t
limit_wait(const char *addr, const char *user)
{
	struct lentry *ae = addr_lookup(addr, 0);
	uint64_t a = entry_wait(ae);
	uint64_t u = *user && ae && ae->count ?
	    entry_wait(lookup(users, "user", user, 0)) : 0;

	return a > u ? a : u;
}

/* Counted when tried, not when bcrypt says no: checks still running
 * count too, or a burst of parallel guesses would all pass the limit. */
void
limit_fail(const char *addr, const char *user)
{
	addr_lookup(addr, 1)->count++;
	if (*user)
		lookup(users, "user", user, 1)->count++;
}

/* The attempt limit_fail counted was the right password after all. */
void
limit_refund(const char *addr, const char *user)
{
	struct lentry *e[2];

	e[0] = addr_lookup(addr, 0);
	e[1] = *user ? lookup(users, "user", user, 0) : NULL;
	for (int i = 0; i < 2; i++)
		if (e[i] && e[i]->count)
			e[i]->count--;
}

/* 1 the first time in a window that addr or user is refused: the caller
 * logs and audits that once, not every refused guess. */
int
limit_first_refusal(const char *addr, const char *user)
{
	struct lentry *e[2];
	int first = 0;

	e[0] = addr_lookup(addr, 0);
	e[1] = *user ? lookup(users, "user", user, 0) : NULL;
	for (int i = 0; i < 2; i++)
		if (entry_wait(e[i]) && !e[i]->refused) {
			e[i]->refused = 1;
			first = 1;
		}
	return first;
}
