/*
 * pool.c - a few threads for bcrypt, so that the event loop never waits for
 * a password check (one costs tens of milliseconds at cost 10).  The queue
 * is bounded: a client flood gets "busy" answers instead of growing memory
 * and latency for everyone.  Results come back through an eventfd; done
 * callbacks run in the loop, in the order the jobs ended.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <pthread.h>
#include <stdlib.h>

#include "authd.h"
#include "ev.h"
#include "log.h"
#include "thread.h"
#include "util.h"

#define POOL_THREADS	2
#define POOL_QUEUE	256		/* jobs waiting or running */
#define POOL_STACK	(128 * 1024)	/* crypt_rn's state is on the heap */

struct job {
	TAILQ_ENTRY(job) entry;
	pool_fn		 run, done;
	void		*arg;
};
TAILQ_HEAD(jobq, job);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct jobq todo = TAILQ_HEAD_INITIALIZER(todo);
static struct jobq finished = TAILQ_HEAD_INITIALIZER(finished);
static int donefd = -1;
static size_t queued;			/* loop's count: submitted, not done */

static void *
pool_main(void *unused)
{
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&lock);
		while ((j = TAILQ_FIRST(&todo)) == NULL)
			pthread_cond_wait(&wake, &lock);
		TAILQ_REMOVE(&todo, j, entry);
		pthread_mutex_unlock(&lock);
		j->run(j->arg);
		pthread_mutex_lock(&lock);
		TAILQ_INSERT_TAIL(&finished, j, entry);
		pthread_mutex_unlock(&lock);
		(void)eventfd_write(donefd, 1);
	}
	return NULL;
}

/* The eventfd fired: every ended job's done, in the loop. */
static void
on_done(int fd, int events, void *unused)
{
	struct job *j;
	eventfd_t v;

	(void)eventfd_read(donefd, &v);
	for (;;) {
		pthread_mutex_lock(&lock);
		if ((j = TAILQ_FIRST(&finished)) != NULL)
			TAILQ_REMOVE(&finished, j, entry);
		pthread_mutex_unlock(&lock);
		if (j == NULL)
			return;
		queued--;
		j->done(j->arg);
		free(j);
	}
}

/* The threads and the eventfd, on first use (after the sandbox is on, so
 * the filter is known to allow what they do). */
static void
pool_init(void)
{
	pthread_t t;

	if (donefd != -1)
		return;
	if ((donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("pool: eventfd");
	ev_add(donefd, EV_READ, on_done, NULL);
	for (int i = 0; i < POOL_THREADS; i++) {
		if (thread_spawn(&t, pool_main, NULL, POOL_STACK) == -1)
			fatal("pool: thread");
		pthread_detach(t);
	}
}

int
pool_submit(pool_fn run, pool_fn done, void *arg)
{
	struct job *j;

	pool_init();
	if (queued >= POOL_QUEUE)
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->run = run;
	j->done = done;
	j->arg = arg;
	queued++;
	pthread_mutex_lock(&lock);
	TAILQ_INSERT_TAIL(&todo, j, entry);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return 0;
}

size_t
pool_queued(void)
{
	return queued;
}
