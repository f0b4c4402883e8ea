/* thread.h - threads for work that must not block a worker's event loop. */
#ifndef RM_THREAD_H
#define RM_THREAD_H

#include <pthread.h>
#include <stddef.h>

/* A thread with the asynchronous signals blocked (the loop's signalfd
 * takes them; faults still reach it); 0 or -1 with errno. */
int	 thread_spawn(pthread_t *, void *(*)(void *), void *, size_t stack);

#endif
