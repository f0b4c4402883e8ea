/*
 * pwcheck.c - bcrypt on lib/pool's threads.  One pool per process: the
 * checks share its threads, so a flood of them costs at most
 * PWCHECK_THREADS cores and PWCHECK_QUEUE waiting checks.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "htpasswd.h"
#include "pool.h"
#include "pwcheck.h"
#include "util.h"

#define PWCHECK_STACK	(128 * 1024)	/* crypt_rn's state is on the heap */

struct pwcheck {
	char		 hash[HTPASSWD_HASH_MAX + 1];
	char		*secret;
	int		 match;
	int		 cancelled;	/* loop only */
	pwcheck_fn	 done;
	void		*arg;
};

static struct pool *checks;

/* On a pool thread: touches nothing but p's hash, secret and match. */
static void
check_run(void *arg)
{
	struct pwcheck *p = arg;

	p->match = htpasswd_check(p->hash, p->secret) == 1;
}

static void
check_done(void *arg)
{
	struct pwcheck *p = arg;

	OPENSSL_cleanse(p->secret, strlen(p->secret));
	free(p->secret);
	if (!p->cancelled)
		p->done(p->match, p->arg);
	free(p);
}

struct pwcheck *
pwcheck_start(const char *hash, const char *secret, pwcheck_fn done,
    void *arg)
{
	struct pwcheck *p = xcalloc(1, sizeof(*p));

	if (checks == NULL)
		checks = pool_new("bcrypt", PWCHECK_THREADS, PWCHECK_QUEUE,
		    PWCHECK_STACK);
	/* a hash longer than any htpasswd_parse keeps: "" matches nothing */
	if (str_copy(p->hash, hash, sizeof(p->hash)) == -1)
		p->hash[0] = '\0';
	p->secret = xstrdup(secret);
	p->done = done;
	p->arg = arg;
	if (pool_submit(checks, check_run, check_done, p) == -1) {
		OPENSSL_cleanse(p->secret, strlen(p->secret));
		free(p->secret);
		free(p);
		return NULL;
	}
	return p;
}

void
pwcheck_cancel(struct pwcheck *p)
{
	if (p != NULL)
		p->cancelled = 1;	/* check_done frees it */
}
