/* ev.c - epoll loop with a binary heap of timers and signals via signalfd. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "util.h"

struct ev_slot {
	ev_fd_cb	 cb;
	void		*arg;
	int		 events;
	int		 active;
	int		 quiet;		/* not counted by ev_ready */
};

static int ep = -1;
static struct ev_slot *slots;
static int nslots;
static struct ev_timer **heap;
static int nheap, heapcap;
static int sigfd = -1;
static sigset_t sigmask;
static ev_signal_cb sigcbs[65];
static void *sigargs[65];
static int running;
static uint64_t now_cached;
static int nready;		/* descriptors the last wait found ready */
static int nquiet;		/* watched descriptors marked quiet */

void
ev_init(void)
{
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	sigemptyset(&sigmask);
	now_cached = now_ms();
}

uint64_t
ev_now(void)
{
	return now_cached;
}

static uint32_t
ev_mask(int events)
{
	uint32_t m = 0;

	if (events & EV_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & EV_WRITE)
		m |= EPOLLOUT;
	return m;
}

/* Watch fd for events; one callback per descriptor. */
void
ev_add(int fd, int events, ev_fd_cb cb, void *arg)
{
	struct epoll_event e;

	if (fd < 0)
		fatalx("bad fd %d", fd);
	if (fd >= nslots) {
		int n = nslots ? nslots : 64;
		while (n <= fd)
			n *= 2;
		slots = xreallocarray(slots, (size_t)n, sizeof(*slots));
		memset(slots + nslots, 0, (size_t)(n - nslots) * sizeof(*slots));
		nslots = n;
	}
	if (slots[fd].active)
		fatalx("fd %d already watched", fd);
	slots[fd] = (struct ev_slot){ cb, arg, events, 1, 0 };
	memset(&e, 0, sizeof(e));
	e.events = ev_mask(events);
	e.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1)
		fatal("epoll_ctl add %d", fd);
}

void
ev_set(int fd, int events)
{
	struct epoll_event e;

	if (fd < 0 || fd >= nslots || !slots[fd].active)
		fatalx("fd %d not watched", fd);
	if (slots[fd].events == events)
		return;
	slots[fd].events = events;
	memset(&e, 0, sizeof(e));
	e.events = ev_mask(events);
	e.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) == -1)
		fatal("epoll_ctl mod %d", fd);
}

void
ev_del(int fd)
{
	if (fd < 0 || fd >= nslots || !slots[fd].active)
		return;
	nquiet -= slots[fd].quiet;
	slots[fd].active = 0;
	if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == -1 && errno != EBADF)
		log_warn("epoll_ctl del %d", fd);
}

static void
heap_swap(int a, int b)
{
	struct ev_timer *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void
heap_up(int i)
{
	while (i > 0 && heap[(i - 1) / 2]->when > heap[i]->when) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < nheap && heap[l]->when < heap[m]->when)
			m = l;
		if (r < nheap && heap[r]->when < heap[m]->when)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	t->cb = cb;
	t->arg = arg;
	t->when = 0;
	t->heap_idx = -1;
}

int
ev_timer_armed(const struct ev_timer *t)
{
	return t->heap_idx >= 0;
}

/* Fire t once, ms from now; re-arming moves it. */
void
ev_timer_arm(struct ev_timer *t, uint64_t ms)
{
	ev_timer_cancel(t);
	if (nheap == heapcap) {
		heapcap = heapcap ? heapcap * 2 : 64;
		heap = xreallocarray(heap, (size_t)heapcap, sizeof(*heap));
	}
	t->when = now_ms() + ms;
	t->heap_idx = nheap;
	heap[nheap++] = t;
	heap_up(t->heap_idx);
}

void
ev_timer_cancel(struct ev_timer *t)
{
	int i = t->heap_idx;

	if (i < 0)
		return;
	t->heap_idx = -1;
	nheap--;
	if (i == nheap)
		return;
	heap[i] = heap[nheap];
	heap[i]->heap_idx = i;
	heap_up(i);
	heap_down(heap[i]->heap_idx);
}

static void
ev_sigfd_read(int fd, int events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < nitems(sigcbs) && sigcbs[si.ssi_signo])
			sigcbs[si.ssi_signo]((int)si.ssi_signo,
			    sigargs[si.ssi_signo]);
	}
}

/* Deliver signo through the loop, never in a handler. */
void
ev_signal(int signo, ev_signal_cb cb, void *arg)
{
	if (signo <= 0 || signo >= (int)nitems(sigcbs))
		fatalx("bad signal %d", signo);
	sigcbs[signo] = cb;
	sigargs[signo] = arg;
	sigaddset(&sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &sigmask, NULL) == -1)
		fatal("sigprocmask");
	if (sigfd == -1) {
		sigfd = signalfd(-1, &sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
		if (sigfd == -1)
			fatal("signalfd");
		ev_add(sigfd, EV_READ, ev_sigfd_read, NULL);
	} else if (signalfd(sigfd, &sigmask, 0) == -1)
		fatal("signalfd update");
}

static int
ev_next_timeout(void)
{
	uint64_t now;

	if (nheap == 0)
		return -1;
	now = now_ms();
	if (heap[0]->when <= now)
		return 0;
	return (int)(heap[0]->when - now > 60000 ? 60000 : heap[0]->when - now);
}

static void
ev_run_timers(void)
{
	uint64_t now = now_ms();

	while (nheap > 0 && heap[0]->when <= now) {
		struct ev_timer *t = heap[0];
		ev_timer_cancel(t);
		t->cb(t->arg);
	}
}

static void
ev_dispatch(struct epoll_event *e)
{
	int fd = e->data.fd, ev = 0;

	if (fd >= nslots || !slots[fd].active)
		return;
	if (e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev |= EV_READ;
	if (e->events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		ev |= EV_WRITE;
	ev &= slots[fd].events | ((e->events & (EPOLLHUP | EPOLLERR)) ?
	    (EV_READ | EV_WRITE) : 0);
	if (ev)
		slots[fd].cb(fd, ev, slots[fd].arg);
}

int
ev_ready(void)
{
	return nready;
}

void
ev_quiet(int fd)
{
	if (fd >= 0 && fd < nslots && slots[fd].active && !slots[fd].quiet) {
		slots[fd].quiet = 1;
		nquiet++;
	}
}

/* The descriptors of a wait's events that count as requests (a process
 * without quiet ones, as every one but storaged, counts nothing). */
static int
ev_count_ready(const struct epoll_event *evs, int n)
{
	int k = 0;

	if (nquiet == 0)
		return n;
	for (int i = 0; i < n; i++)
		k += evs[i].data.fd >= nslots || !slots[evs[i].data.fd].quiet;
	return k;
}

void
ev_loop(void)
{
	struct epoll_event evs[64];
	int n;

	running = 1;
	while (running) {
		n = epoll_wait(ep, evs, (int)nitems(evs), ev_next_timeout());
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		nready = n > 0 ? ev_count_ready(evs, n) : 0;
		now_cached = now_ms();
		for (int i = 0; i < n; i++)
			ev_dispatch(&evs[i]);
		ev_run_timers();
	}
}

void
ev_break(void)
{
	running = 0;
}
