/*
 * worker.h - what every worker does the same way: parse its arguments, name
 * itself, drop privileges, talk to master over the control channel (health,
 * configuration, peer sockets, stop), then run its loop.
 */
#ifndef RM_WORKER_H
#define RM_WORKER_H

#include "link.h"

struct buf;

struct worker_ops {
	int	 id;				/* PROC_HTTPD ... */
	/* extra requests this worker takes from master (M_LISTEN ...) */
	const struct link_accept *accept;
	/* configuration complete; first is 1 at start, 0 on reload */
	void	(*configured)(int first);
	/* a fresh socket to peer arrived; the worker owns fd */
	void	(*peer)(int peer, int fd);
	/* the same for a PEER_F_CA socket: httpd's synchronous channel to
	 * authd's key holder; NULL refuses one */
	void	(*peer_ca)(int peer, int fd);
	/* a master request the common code does not handle */
	void	(*request)(struct link *, struct msg *);
	/* master asked to stop: finish within conf stop_timeout, then
	 * call worker_exit(); NULL means exit at once */
	void	(*stop)(void);
	/* before the privilege drop: read what libraries read lazily */
	void	(*preload)(void);
	/* append this worker's figures in Prometheus text (lib/mtext.h)
	 * for a scrape; NULL: it has none */
	void	(*metrics)(struct buf *);
};

void	worker_main(int argc, char **argv, const struct worker_ops *)
	    __attribute__((noreturn));
void	worker_exit(void) __attribute__((noreturn));
struct link *worker_master(void);
/* Answer a health check (master's, or a peer's) with our pid. */
void	 worker_pong(struct link *, struct msg *);
int	worker_stopping(void);
/* Master passed -c: TLS or users are configured, OpenSSL starts at preload
 * (lib/ossl.h). */
int	worker_crypto(void);

#endif
