/*
 * login.c - who is asking: one request's credentials checked, the same way
 * for an access check and a token.  The order matters: a password in the
 * success cache is accepted before the rate limit is looked at (a guesser
 * cannot lock out a user who is logged in), and the limit is looked at
 * and the attempt counted before any bcrypt (a guesser cannot burn our
 * CPU, not even with many guesses in flight at once).  bcrypt runs on the
 * pool's threads; an unknown user is checked against a dummy hash of the
 * same cost, so the answer takes as long as for a real one.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authd.h"
#include "conf.h"
#include "log.h"
#include "mtext.h"
#include "pool.h"
#include "util.h"

#define BUSY_LOG_MS	10000

static TAILQ_HEAD(, login) running = TAILQ_HEAD_INITIALIZER(running);
static size_t nrunning;
static struct pool *bcrypt_pool;	/* 2 threads, 256 jobs at most */

/* An authd record for l: login, login_failed, rate_limited. */
static void
login_audit(const struct login *l, const char *action, int status)
{
	struct audit_rec r = { l->addr, l->user, action, l->repo, NULL, NULL,
	    status, 0 };

	audit_event(&r);
}

void
login_free(struct login *l)
{
	if (l->secret) {
		explicit_bzero(l->secret, strlen(l->secret));
		free(l->secret);
	}
	explicit_bzero(l->hash, sizeof(l->hash));
	free((char *)l->repo);
	free(l);
}

/* Logins refused, counted on the main thread (finish runs there). */
static uint64_t failures, limited_total;

static void
finish(struct login *l, enum login_result result)
{
	if (result == LOGIN_BAD)
		failures++;
	else if (result == LOGIN_LIMITED)
		limited_total++;
	l->result = result;
	if (result == LOGIN_OK && l->ttl == 0)
		l->ttl = (uint64_t)conf_int(P_AUTH_CACHE_TTL);
	l->done(l);
	login_free(l);
}

/*
 * worker_ops.metrics.  The failures go out under two names with the same
 * value: registry_auth_failure_count is what registry:2 users' dashboards
 * and alerts already query, registry_auth_failure_total the name
 * Prometheus' conventions give a counter.  A counter named _count breaks
 * those conventions (promtool check metrics refuses it), so the first is
 * the count of a summary of failures (each one observed as 1: its _sum
 * is the same number).
 */
void
login_metrics(struct buf *b)
{
	mtext_family(b, "registry_auth_failure", MT_SUMMARY, "logins refused "
	    "for wrong or missing credentials (registry:2's name)");
	mtext_count(b, "registry_auth_failure_count", NULL, 0, failures);
	mtext_count(b, "registry_auth_failure_sum", NULL, 0, failures);
	mtext_single(b, "registry_auth_failure_total", MT_COUNTER,
	    "logins refused for wrong or missing credentials (Basic, token "
	    "requests)", failures);
	mtext_single(b, "registry_auth_rate_limited_total", MT_COUNTER,
	    "logins refused without a check because the address or user was "
	    "over auth.max_failures", limited_total);
}

/* On a pool thread: touches nothing but l's hash and secret. */
static void
bcrypt_run(void *arg)
{
	struct login *l = arg;

	l->match = htpasswd_check(l->hash, l->secret) == 1 && l->match;
}

/* Back in the loop: remember the outcome, then answer (if still asked). */
static void
bcrypt_done(void *arg)
{
	struct login *l = arg;

	TAILQ_REMOVE(&running, l, entry);
	nrunning--;
	if (l->match) {
		if (l->gen == passwd_generation())
			cache_insert(l->user, l->secret);
		limit_refund(l->addr, l->user);
		login_audit(l, "login", 200);
		finish(l, LOGIN_OK);
		return;
	}
	login_audit(l, "login_failed", 401);
	log_info("%s: wrong password for %s", l->addr, l->user);
	finish(l, LOGIN_BAD);
}

/* Over the limit: 429 with the wait; said and audited once a window. */
static int
limited(struct login *l)
{
	if ((l->wait = limit_wait(l->addr, l->user)) == 0)
		return 0;
	if (limit_first_refusal(l->addr, l->user)) {
		log_warnx("%s: too many failed logins from this address or "
		    "for user %s: refused for %llu s", l->addr,
		    htpasswd_name_valid(l->user) ? l->user : "(not a name)",
		    (unsigned long long)l->wait);
		login_audit(l, "rate_limited", 429);
	}
	return 1;
}

/* The password is not in the cache: bcrypt it on the pool. */
static void
check_password(struct login *l, const char *secret)
{
	static uint64_t busy_logged;
	const char *hash = passwd_hash(l->user);

	l->match = hash != NULL;
	if (str_copy(l->hash, hash ? hash : passwd_dummy(),
	    sizeof(l->hash)) == -1)
		(void)str_copy(l->hash, passwd_dummy(), sizeof(l->hash));
	l->secret = xstrdup(secret);
	l->gen = passwd_generation();
	if (bcrypt_pool == NULL)
		bcrypt_pool = pool_new("bcrypt", 2, 256, 128 * 1024);
	if (pool_submit(bcrypt_pool, bcrypt_run, bcrypt_done, l) == -1) {
		if (now_ms() - busy_logged >= BUSY_LOG_MS) {
			log_warnx("password checks queue full: answering busy");
			busy_logged = now_ms();
		}
		limit_refund(l->addr, l->user);	/* never tried */
		l->wait = 1;
		finish(l, LOGIN_BUSY);
		return;
	}
	TAILQ_INSERT_TAIL(&running, l, entry);
	nrunning++;
}

/* Credentials of a user: the certificate's, the cache's, or bcrypt. */
static void
login_user(struct login *l, const char *secret, uint64_t flags)
{
	uint64_t left;

	if (!htpasswd_name_valid(l->user) || (secret == NULL &&
	    !(flags & AUTH_F_CERT))) {
		if (!limited(l)) {
			limit_fail(l->addr, l->user);
			login_audit(l, "login_failed", 401);
			finish(l, LOGIN_BAD);
		} else
			finish(l, LOGIN_LIMITED);
		return;
	}
	if (flags & AUTH_F_CERT) {
		finish(l, LOGIN_OK);
		return;
	}
	if ((left = cache_lookup(l->user, secret)) > 0) {
		l->ttl = (left + 999) / 1000;
		finish(l, LOGIN_OK);
		return;
	}
	if (limited(l)) {
		finish(l, LOGIN_LIMITED);
		return;
	}
	limit_fail(l->addr, l->user);	/* refunded if it is right */
	check_password(l, secret);
}

void
login_begin(struct link *lk, struct msg *m, login_done_fn done, void *arg)
{
	struct login *l = xcalloc(1, sizeof(*l));
	const char *user = msg_str(m, A_USER), *repo = msg_str(m, A_REPO);

	l->link = lk;
	l->id = m->id;
	l->done = done;
	l->arg = arg;
	l->repo = repo ? xstrdup(repo) : NULL;
	(void)str_copy(l->addr, msg_str(m, A_ADDR), sizeof(l->addr));
	if (passwd_refresh())
		authd_flush();
	/* no password file: everyone is anonymous, and may do everything */
	if (passwd_open() || user == NULL) {
		finish(l, LOGIN_OK);
		return;
	}
	if (str_copy(l->user, user, sizeof(l->user)) == -1)
		l->user[0] = '\0';	/* A_USER is bounded below this */
	login_user(l, msg_str(m, A_SECRET), msg_u64(m, A_FLAGS, 0));
}

/* The link closed: answers still owed on it go nowhere, but the checks
 * run to their end (a guess counts even if the guesser hung up). */
void
login_link_gone(struct link *lk)
{
	struct login *l;

	TAILQ_FOREACH(l, &running, entry)
		if (l->link == lk)
			l->link = NULL;
}

size_t
login_busy(void)
{
	return nrunning;
}
