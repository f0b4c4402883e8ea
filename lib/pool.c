/*
 * pool.c - bounded thread pools whose results come back through an
 * eventfd in the event loop: authd's and tunneld's bcrypt, name lookups.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <pthread.h>
#include <stdlib.h>

#include "ev.h"
#include "log.h"
#include "pool.h"
#include "thread.h"
#include "util.h"

struct job {
	TAILQ_ENTRY(job) entry;
	pool_fn		 run, done;
	void		*arg;
};
TAILQ_HEAD(jobq, job);

struct pool {
	const char	*name;
	int		 threads;
	size_t		 max, stack;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	struct jobq	 todo, finished;	/* under lock */
	int		 donefd;		/* -1 until the first submit */
	size_t		 queued;		/* loop's count */
};

static void *
pool_main(void *arg)
{
	struct pool *p = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while ((j = TAILQ_FIRST(&p->todo)) == NULL)
			pthread_cond_wait(&p->wake, &p->lock);
		TAILQ_REMOVE(&p->todo, j, entry);
		pthread_mutex_unlock(&p->lock);
		j->run(j->arg);
		pthread_mutex_lock(&p->lock);
		TAILQ_INSERT_TAIL(&p->finished, j, entry);
		pthread_mutex_unlock(&p->lock);
		(void)eventfd_write(p->donefd, 1);
	}
	return NULL;
}

/* The eventfd fired: every ended job's done, in the loop. */
static void
on_done(int fd, int events, void *arg)
{
	struct pool *p = arg;
	struct job *j;
	eventfd_t v;

	(void)eventfd_read(p->donefd, &v);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if ((j = TAILQ_FIRST(&p->finished)) != NULL)
			TAILQ_REMOVE(&p->finished, j, entry);
		pthread_mutex_unlock(&p->lock);
		if (j == NULL)
			return;
		p->queued--;
		j->done(j->arg);
		free(j);
	}
}

struct pool *
pool_new(const char *name, int threads, size_t queue, size_t stack)
{
	struct pool *p = xcalloc(1, sizeof(*p));

	p->name = name;
	p->threads = threads;
	p->max = queue;
	p->stack = stack;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	TAILQ_INIT(&p->todo);
	TAILQ_INIT(&p->finished);
	p->donefd = -1;
	return p;
}

static void
pool_start(struct pool *p)
{
	pthread_t t;

	if ((p->donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("%s pool: eventfd", p->name);
	ev_add(p->donefd, EV_READ, on_done, p);
	for (int i = 0; i < p->threads; i++) {
		if (thread_spawn(&t, pool_main, p, p->stack) == -1)
			fatal("%s pool: thread", p->name);
		pthread_detach(t);
	}
}

int
pool_submit(struct pool *p, pool_fn run, pool_fn done, void *arg)
{
	struct job *j;

	if (p->donefd == -1)
		pool_start(p);
	if (p->queued >= p->max)
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->run = run;
	j->done = done;
	j->arg = arg;
	p->queued++;
	pthread_mutex_lock(&p->lock);
	TAILQ_INSERT_TAIL(&p->todo, j, entry);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

size_t
pool_queued(const struct pool *p)
{
	return p->queued;
}
