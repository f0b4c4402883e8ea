/*
 * worker_driver.h - what the end-to-end tests of a worker share: start the
 * built binary on socketpairs, play master on its control channel
 * (configuration, pings, peer sockets) and a peer on a link, blocking.
 */
#ifndef TEST_WORKER_DRIVER_H
#define TEST_WORKER_DRIVER_H

#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>

#include "msg.h"

struct wdrv {
	pid_t	 pid;
	int	 ctl;			/* our end of the control channel */
	int	 fd;			/* our end of the peer link */
	uint32_t nextid;
};

/* Set while a test expects the worker to die under it (crash tests):
 * a failed send or receive jumps there instead of failing. */
extern jmp_buf *wd_crash_jmp;
/* The last frame received; valid until the next receive. */
extern struct msg wd_rep;
/* Called by wd_call with each frame that is not the awaited reply
 * (notifications); NULL: they are dropped. */
extern void (*wd_other)(struct msg *);

const char *wd_builddir(void);
void	 wd_send(int fd, struct msgb *, uint32_t id);
void	 wd_recv(int fd);			/* into wd_rep */
/* 1 and wd_rep filled if a frame arrives on fd within ms, else 0. */
int	 wd_recv_wait(int fd, int ms);
/* Send a request on the peer link; its reply. */
struct msg *wd_call(struct wdrv *, struct msgb *);
void	 wd_conf_set(struct wdrv *, const char *name, const char *value);
void	 wd_conf_end(struct wdrv *);
void	 wd_ping(struct wdrv *);		/* master's ping, answered */
/* Start the worker prog (e.g. "authd") in dir: as root it drops to
 * nobody and chroots there; the control channel is set up. */
void	 wd_spawn(struct wdrv *, const char *prog, const char *dir);
/* A fresh link to the worker, as peer (PROC_HTTPD ...), in w->fd. */
void	 wd_peer(struct wdrv *, int peer);
void	 wd_stop(struct wdrv *, int sig);	/* signal, wait, close */

#endif
