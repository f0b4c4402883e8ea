/*
 * status_auth.c - who may see the relay's status page: Basic credentials
 * checked against a bcrypt hash or an htpasswd file.
 *
 * tunneld's one loop also carries the tunnel's bytes, so bcrypt never runs
 * in it: checks go to lib/pwcheck's threads and the answer resumes the
 * request.  A page that reloads itself must not cost a bcrypt each time,
 * so credentials that checked out are remembered a while (as keyed
 * hashes), and looked up before any limit (a guesser cannot lock out a
 * logged-in admin).  A guesser must not burn the relay's CPU either: the
 * checks are budgeted by a token bucket (429 past it, with Retry-After),
 * and only a few may be in flight (503 past them).  An unknown user is
 * checked against a dummy hash of the real users' cost, so the answer's
 * timing does not tell which names exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "authhdr.h"
#include "ev.h"
#include "htpasswd.h"
#include "keyhash.h"
#include "log.h"
#include "pwcheck.h"
#include "status.h"
#include "tbucket.h"
#include "util.h"

#define CHECKS_BURST		4	/* bcrypt checks at once ... */
#define CHECKS_PER_S		4	/* ... and a second after that */
#define CHECKS_IN_FLIGHT	8	/* waiting or running */
#define REMEMBER_N		8	/* credentials remembered */
#define REMEMBER_MS		(10 * 60 * 1000)

struct status_check {
	struct pwcheck	*pw;
	unsigned char	 mac[KEYHASH_LEN];
	unsigned	 gen;		/* of the credentials checked against */
	int		 known;		/* a real user (not the dummy) */
	char		 user[AUTHHDR_USER_MAX + 1];
	status_auth_fn	 done;
	void		*arg;
};

static struct htpasswd users;
static int users_set;
static unsigned users_gen;
static char dummy[HTPASSWD_DUMMY_LEN];
/* keyhash(user, password) of credentials that checked out */
static struct keyhash_slot remembered[REMEMBER_N];
static struct tbucket budget;
static int budget_set;
static size_t in_flight;
static uint64_t limited_total, busy_total;

/* No credentials (refused ones replace the old too): nobody gets in, and
 * checks still running answer for credentials that are gone. */
static void
users_drop(void)
{
	htpasswd_clear(&users);
	users_set = 0;
	users_gen++;
	OPENSSL_cleanse(remembered, sizeof(remembered));
}

static void
users_replace(struct htpasswd *h)
{
	users_drop();
	users = *h;
	users_set = 1;
	htpasswd_dummy(users.e[0].hash, dummy);
}

/* Read as an htpasswd line, so the hash's shape is checked as a file's
 * is, without a bcrypt in the loop at each reload. */
int
status_auth_set(const char *user, const char *hash, char *err,
    size_t errlen)
{
	struct htpasswd h = { 0 };
	char *line;
	int n;

	users_drop();
	if (!htpasswd_name_valid(user)) {
		snprintf(err, errlen, "status user \"%s\" is not a valid name",
		    user);
		return -1;
	}
	n = xasprintf(&line, "%s:%s\n", user, hash);
	if (htpasswd_parse(line, (size_t)n, &h, NULL, NULL, err, errlen) ==
	    -1 || h.n != 1) {
		htpasswd_clear(&h);
		free(line);
		snprintf(err, errlen, "status password is not a bcrypt hash "
		    "(make one with htpasswd -nB)");
		return -1;
	}
	free(line);
	users_replace(&h);
	return 0;
}

int
status_auth_htpasswd(const char *data, size_t len, char *err, size_t errlen)
{
	struct htpasswd h = { 0 };
	size_t skipped = 0, first_bad = 0;

	users_drop();
	if (htpasswd_parse(data, len, &h, &skipped, &first_bad, err,
	    errlen) == -1)
		return -1;
	if (skipped)
		log_warnx("status htpasswd: %zu lines skipped (not name:bcrypt),"
		    " the first at line %zu", skipped, first_bad);
	if (h.n == 0) {
		htpasswd_clear(&h);
		snprintf(err, errlen, "status htpasswd file has no user");
		return -1;
	}
	users_replace(&h);
	return 0;
}

/* Back in the loop: the bcrypt's answer resumes the request. */
static void
check_done(int match, void *arg)
{
	struct status_check *k = arg;
	int status = 401;

	in_flight--;
	if (k->gen != users_gen)
		status = 503;	/* reloaded meanwhile: ask again */
	else if (match && k->known) {
		keyhash_slot_put(remembered, REMEMBER_N, k->mac, ev_now() +
		    REMEMBER_MS);
		status = 0;
	} else
		log_info("status page: %s for %s", k->known ? "wrong "
		    "password" : "unknown user", htpasswd_name_valid(k->user) ?
		    k->user : "(not a name)");
	k->done(status, k->arg);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* May another bcrypt start?  0, or the status to answer with *wait. */
static int
check_allowed(unsigned *wait)
{
	uint64_t now = ev_now();

	if (!budget_set) {
		tbucket_init(&budget, CHECKS_BURST, CHECKS_PER_S, now);
		budget_set = 1;
	}
	if (in_flight >= CHECKS_IN_FLIGHT) {
		busy_total++;
		return 503;
	}
	if ((*wait = tbucket_take(&budget, now)) != 0) {
		limited_total++;
		return 429;
	}
	return 0;
}

/* Start the bcrypt of a's password: -1 (pending, *out set), or 503. */
static int
check_start(const struct authhdr *a, const unsigned char mac[KEYHASH_LEN],
    status_auth_fn done, void *arg, struct status_check **out)
{
	const struct htpasswd_entry *e = htpasswd_find(&users, a->user);
	struct status_check *k = xcalloc(1, sizeof(*k));

	memcpy(k->mac, mac, KEYHASH_LEN);
	k->gen = users_gen;
	k->known = e != NULL;
	(void)str_copy(k->user, a->user, sizeof(k->user));
	k->done = done;
	k->arg = arg;
	if ((k->pw = pwcheck_start(e ? e->hash : dummy, a->pass, check_done,
	    k)) == NULL) {
		free(k);
		busy_total++;
		return 503;
	}
	in_flight++;
	*out = k;
	return -1;
}

int
status_auth(const char *authorization, unsigned *wait, status_auth_fn done,
    void *arg, struct status_check **out)
{
	struct authhdr a = { 0 };
	unsigned char mac[KEYHASH_LEN];
	int rc = 401;

	*wait = 0;
	*out = NULL;
	if (!users_set || authhdr_parse(authorization, &a) != AH_BASIC)
		goto done;
	keyhash(mac, 2, (const char *const[]){ a.user, a.pass });
	if (keyhash_slot_find(remembered, REMEMBER_N, mac, ev_now()) > 0)
		rc = 0;
	else if ((rc = check_allowed(wait)) == 0)
		rc = check_start(&a, mac, done, arg, out);
	if (rc == 503)
		*wait = 1;	/* a check ends in tens of milliseconds */
done:
	authhdr_clear(&a);
	return rc;
}

void
status_auth_cancel(struct status_check *k)
{
	if (k == NULL)
		return;
	/* the thread finishes the bcrypt it began; its answer goes nowhere */
	pwcheck_cancel(k->pw);
	in_flight--;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

uint64_t
status_auth_limited(void)
{
	return limited_total;
}

uint64_t
status_auth_busy(void)
{
	return busy_total;
}
