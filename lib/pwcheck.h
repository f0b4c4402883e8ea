/* pwcheck.h - bcrypt password checks off the event loop (authd, tunneld). */
#ifndef RM_PWCHECK_H
#define RM_PWCHECK_H

/*
 * Check secret against a bcrypt hash on a pool of PWCHECK_THREADS threads
 * (one check costs tens of milliseconds at cost 10: never in the loop);
 * done(match, arg) runs later in the loop, match 1 only for a hash that
 * took the secret.  For a user who does not exist, check against
 * htpasswd_dummy's hash of the real users' cost (match is then always 0):
 * the answer takes as long as for a real user, so timing does not tell
 * which names exist.  The copies of hash and secret are the check's own
 * (the secret wiped when it ends).  NULL when PWCHECK_QUEUE checks are in
 * flight: the caller answers "busy" at once.  pwcheck_cancel: done is
 * never called (a check already running is let finish, its answer
 * dropped).  The handle is gone once done ran or after the cancel.
 */
#define PWCHECK_THREADS	2
#define PWCHECK_QUEUE	256	/* checks waiting or running */

struct pwcheck;
typedef void (*pwcheck_fn)(int match, void *arg);

struct pwcheck *pwcheck_start(const char *hash, const char *secret,
	    pwcheck_fn done, void *arg);
void	 pwcheck_cancel(struct pwcheck *);

#endif
