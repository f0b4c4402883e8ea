/* ev.h - the epoll event loop every process runs: descriptors, timers, signals. */
#ifndef RM_EV_H
#define RM_EV_H

#include <stdint.h>

#define EV_READ		0x1
#define EV_WRITE	0x2

typedef void (*ev_fd_cb)(int fd, int events, void *arg);
typedef void (*ev_timer_cb)(void *arg);
typedef void (*ev_signal_cb)(int signo, void *arg);

struct ev_timer {
	uint64_t	 when;		/* monotonic ms */
	ev_timer_cb	 cb;
	void		*arg;
	int		 heap_idx;	/* -1 when not armed */
};

void	ev_init(void);
void	ev_add(int fd, int events, ev_fd_cb cb, void *arg);
void	ev_set(int fd, int events);	/* change interest; 0 pauses */
void	ev_del(int fd);
void	ev_timer_init(struct ev_timer *, ev_timer_cb, void *);
void	ev_timer_arm(struct ev_timer *, uint64_t ms);
void	ev_timer_cancel(struct ev_timer *);
int	ev_timer_armed(const struct ev_timer *);
void	ev_signal(int signo, ev_signal_cb cb, void *arg);
void	ev_loop(void);
void	ev_break(void);
uint64_t ev_now(void);		/* cached time of this loop turn */
/* Descriptors this loop turn's wait found ready: 0 when only timers run,
 * so background work can tell an idle loop from one with requests. */
int	ev_ready(void);
/* fd's readiness is background work's own, not a request: ev_ready leaves
 * it out (until fd is removed). */
void	ev_quiet(int fd);

#endif
