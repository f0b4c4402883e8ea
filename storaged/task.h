/*
 * task.h - pieces of storaged's work that would block its event loop
 * (parsing and hashing a big manifest, write + fsync + rename, syncing and
 * moving a committed upload, unlinking a big file), run on threads; their
 * results are taken back in the loop, which alone touches the index and
 * the links.
 */
#ifndef SD_TASK_H
#define SD_TASK_H

#include <pthread.h>
#include <stddef.h>
#include <sys/queue.h>

#include "thread.h"

typedef void (*task_fn)(void *arg);

struct task;

/* Tasks that must reach the disk in the order they were asked for run
 * through a queue: one at a time, each started (its prepare called, in
 * the loop) only after the one before it is done. */
struct taskq {
	TAILQ_HEAD(, task) wait;
	int		 running;
};
#define TASKQ_INITIALIZER(q)	{ TAILQ_HEAD_INITIALIZER((q).wait), 0 }

/*
 * Run run(arg) on a thread, then done(arg) in the loop (never before
 * task_run returns).  With q, after every task queued on q before it, and
 * prepare(arg) (if not NULL) in the loop just before run starts.  While it
 * runs, run may touch only what arg owns: never the index, a link, the
 * configuration or the log.
 */
void	 task_run(struct taskq *q, task_fn prepare, task_fn run, task_fn done,
	    void *arg);
/* Tasks not done yet (stop waits for them). */
size_t	 task_busy(void);

#endif
