/*
 * task.c - storaged's blocking work on threads, the way copier.c moves
 * upload bodies: a task runs on a thread of its own, which touches nothing
 * but what the task was given; when it ends it goes on a done list and wakes
 * the loop through an eventfd, and the loop joins the thread and calls the
 * task's done callback.  So a 4 MiB manifest parsed, hashed and fsynced, or
 * a committed upload synced and moved, costs every other lookup nothing.
 * The index stays single-threaded: only done callbacks, in the loop, change
 * it.  Queues keep disk changes that must not cross (two PUTs of one tag, a
 * DELETE after a PUT) in the order the loop asked for them.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "digest.h"
#include "ev.h"
#include "log.h"
#include "task.h"
#include "util.h"

#define TASK_THREADS_MAX 16		/* more tasks wait for a thread */
#define TASK_STACK	(256 * 1024)	/* parsing recurses 64 deep at most */

struct task {
	TAILQ_ENTRY(task) entry;	/* on a wait list or the done list */
	LIST_ENTRY(task) live;		/* while its thread runs */
	pthread_t	 thread;
	int		 threaded;	/* joined in the loop */
	struct taskq	*q;
	task_fn		 prepare, run, done;
	void		*arg;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, task) done_list = TAILQ_HEAD_INITIALIZER(done_list);
static TAILQ_HEAD(, task) waiting = TAILQ_HEAD_INITIALIZER(waiting);
static LIST_HEAD(, task) live = LIST_HEAD_INITIALIZER(live);
static int donefd = -1;
static size_t nthreads, nbusy;

/* The task's work is over: hand it to the loop. */
static void
task_finished(struct task *t)
{
	pthread_mutex_lock(&done_lock);
	TAILQ_INSERT_TAIL(&done_list, t, entry);
	pthread_mutex_unlock(&done_lock);
	(void)eventfd_write(donefd, 1);
}

static void *
task_main(void *arg)
{
	struct task *t = arg;

	t->run(t->arg);
	task_finished(t);
	return NULL;
}

/* Give t a thread, or a place in line for one; run it here if no thread
 * can be had at all (slower for everyone, but never lost). */
static void
task_launch(struct task *t)
{
	if (nthreads >= TASK_THREADS_MAX) {
		TAILQ_INSERT_TAIL(&waiting, t, entry);
		return;
	}
	if (t->prepare)
		t->prepare(t->arg);
	if (thread_spawn(&t->thread, task_main, t, TASK_STACK) == 0) {
		t->threaded = 1;
		nthreads++;
		LIST_INSERT_HEAD(&live, t, live);
		return;
	}
	log_warn("task: no thread, running in the loop");
	t->run(t->arg);
	task_finished(t);
}

/* One ended task: join, call back, start what waited for it. */
static void
task_reap(struct task *t)
{
	struct task *next;

	if (t->threaded) {
		pthread_join(t->thread, NULL);
		LIST_REMOVE(t, live);
		nthreads--;
	}
	t->done(t->arg);
	nbusy--;
	if (t->q != NULL) {
		if ((next = TAILQ_FIRST(&t->q->wait)) != NULL) {
			TAILQ_REMOVE(&t->q->wait, next, entry);
			task_launch(next);
		} else
			t->q->running = 0;
	}
	free(t);
	while (nthreads < TASK_THREADS_MAX &&
	    (next = TAILQ_FIRST(&waiting)) != NULL) {
		TAILQ_REMOVE(&waiting, next, entry);
		task_launch(next);
	}
}

/* The eventfd fired: reap every ended task, in the order they ended. */
static void
on_task_done(int fd, int events, void *arg)
{
	struct task *t;
	eventfd_t v;

	(void)eventfd_read(donefd, &v);
	for (;;) {
		pthread_mutex_lock(&done_lock);
		if ((t = TAILQ_FIRST(&done_list)) != NULL)
			TAILQ_REMOVE(&done_list, t, entry);
		pthread_mutex_unlock(&done_lock);
		if (t == NULL)
			return;
		task_reap(t);
	}
}

/* At exit no task thread may still be inside libcrypto or a write when
 * exit's cleanup runs: wait for each to end its work (done is not
 * called). */
static void
task_join_all(void)
{
	struct task *t;

	while ((t = LIST_FIRST(&live)) != NULL) {
		pthread_join(t->thread, NULL);
		LIST_REMOVE(t, live);
	}
}

/* The eventfd and the exit handler, once; OpenSSL is set up first so
 * its own exit handler runs after ours. */
static void
task_init(void)
{
	struct digest d;

	if (donefd != -1)
		return;
	if ((donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("task: eventfd");
	ev_add(donefd, EV_READ, on_task_done, NULL);
	digest_buf(DIGEST_SHA256, "", 0, &d);
	if (atexit(task_join_all) != 0)
		fatalx("task: no exit handler");
}

void
task_run(struct taskq *q, task_fn prepare, task_fn run, task_fn done,
    void *arg)
{
	struct task *t;

	task_init();
	t = xcalloc(1, sizeof(*t));
	t->q = q;
	t->prepare = prepare;
	t->run = run;
	t->done = done;
	t->arg = arg;
	nbusy++;
	if (q != NULL && q->running) {
		TAILQ_INSERT_TAIL(&q->wait, t, entry);
		return;
	}
	if (q != NULL)
		q->running = 1;
	task_launch(t);
}

size_t
task_busy(void)
{
	return nbusy;
}
