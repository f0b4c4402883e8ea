/*
 * copier.h - an upload body copied from its pipe into the data file on a
 * thread of its own, so that a disk that throttles writers stalls that
 * upload alone and never the event loop serving everyone else.
 */
#ifndef RM_COPIER_H
#define RM_COPIER_H

#include <stdint.h>

struct hasher;
struct copier;

enum copy_status {
	COPY_STOPPED,		/* stopped by copier_stop before it ended */
	COPY_EOF,		/* the pipe ended: everything was written */
	COPY_TOO_LONG,		/* more than the limit arrived */
	COPY_READ_ERR,		/* reading the pipe failed (err) */
	COPY_WRITE_ERR,		/* writing the file failed (err) */
};

struct copy_result {
	enum copy_status status;
	int		 err;		/* errno of a failure */
	uint64_t	 copied;	/* bytes written from off on */
};

/* Called in the event loop when the copy ended (never after copier_stop). */
typedef void (*copier_done_cb)(void *arg, const struct copy_result *);

struct copy_spec {
	int		 pipefd;	/* read, nonblocking */
	int		 datafd;	/* pwrite from off */
	uint64_t	 off;
	uint64_t	 limit;		/* most bytes accepted, or UINT64_MAX */
	struct hasher	*h;		/* fed every byte written, or NULL */
	int		 writeback;	/* start writeback as data goes */
};

/* Start copying; NULL if no thread could be had, errno EBUSY when
 * COPIERS_MAX copies run already. While the copy runs the caller must not
 * touch spec->h, the data file or either descriptor (they stay the
 * caller's to close afterwards). */
struct copier	*copier_start(const struct copy_spec *, copier_done_cb, void *);
/* Ask a copy to stop, without waiting (so that many stop at once). */
void		 copier_cancel(struct copier *);
/* Stop a copy and wait for its thread; the callback is not called. *res
 * says what the copy did: COPY_STOPPED with the bytes it wrote whole, or
 * how it had ended on its own. */
void		 copier_stop(struct copier *, struct copy_result *res);

#endif
