/* thread.c - spawning worker threads that leave signals to the loop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "thread.h"
#include "util.h"

/* Spawn a thread with every signal but the faults blocked. */
int
thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg, size_t stack)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
	    SIGSYS };	/* a seccomp trap must reach its handler */
	pthread_attr_t attr;
	sigset_t set, old;
	int rc;

	sigfillset(&set);
	for (size_t i = 0; i < nitems(faults); i++)
		sigdelset(&set, faults[i]);
	if ((rc = pthread_attr_init(&attr)) != 0)
		return errno = rc, -1;
	(void)pthread_attr_setstacksize(&attr, stack);
	pthread_sigmask(SIG_SETMASK, &set, &old);
	rc = pthread_create(t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : (errno = rc, -1);
}
