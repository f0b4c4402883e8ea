/* worker_driver.c - see worker_driver.h. */
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proc.h"
#include "worker_driver.h"

jmp_buf *wd_crash_jmp;
struct msg wd_rep;
void (*wd_other)(struct msg *);

static uint8_t rbuf[MSG_MAXFRAME];

const char *
wd_builddir(void)
{
	const char *b = getenv("top_builddir");

	return b ? b : ".";
}

void
wd_send(int fd, struct msgb *mb, uint32_t id)
{
	msgb_finish(mb, id, 0);
	if (msg_sendfd(fd, mb->b.data, mb->b.len, mb->fds, mb->nfds) !=
	    (ssize_t)mb->b.len && wd_crash_jmp) {
		msgb_free(mb);
		longjmp(*wd_crash_jmp, 1);
	}
	ck_assert_msg(mb->b.len > 0, "send failed");
	msgb_free(mb);
}

void
wd_recv(int fd)
{
	int fds[MSG_MAXFDS], nfds, broken;
	const char *err = NULL;
	ssize_t n;

	n = msg_recvfd(fd, rbuf, sizeof(rbuf), fds, &nfds, &broken);
	if (n <= 0 && wd_crash_jmp)
		longjmp(*wd_crash_jmp, 1);
	ck_assert_msg(n > 0, "the worker went away (%zd)", n);
	ck_assert_msg(!broken, "truncated frame");
	ck_assert_msg(msg_decode(rbuf, (size_t)n, fds, nfds, &wd_rep,
	    &err) == 0, "bad frame: %s", err);
}

int
wd_recv_wait(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, ms) != 1)
		return 0;
	wd_recv(fd);
	return 1;
}

struct msg *
wd_call(struct wdrv *w, struct msgb *mb)
{
	uint32_t id = ++w->nextid;

	wd_send(w->fd, mb, id);
	for (;;) {
		wd_recv(w->fd);
		if (wd_rep.id == id && (wd_rep.flags & MSG_F_REPLY))
			return &wd_rep;
		if (wd_other)
			wd_other(&wd_rep);
		msg_close_fds(&wd_rep);
	}
}

void
wd_conf_set(struct wdrv *w, const char *name, const char *value)
{
	struct msgb mb;

	msgb_init(&mb, M_CONF_SET);
	msgb_str(&mb, A_NAME, name);
	msgb_str(&mb, A_VALUE, value);
	wd_send(w->ctl, &mb, ++w->nextid);
}

void
wd_conf_end(struct wdrv *w)
{
	struct msgb mb;

	msgb_init(&mb, M_CONF_END);
	wd_send(w->ctl, &mb, ++w->nextid);
}

void
wd_ping(struct wdrv *w)
{
	struct msgb mb;

	msgb_init(&mb, M_PING);
	wd_send(w->ctl, &mb, ++w->nextid);
	wd_recv(w->ctl);
	ck_assert_int_eq(wd_rep.type, M_PONG);
}

void
wd_spawn(struct wdrv *w, const char *prog, const char *dir)
{
	char bin[PATH_MAX];
	int ctl[2];

	(void)snprintf(bin, sizeof(bin), "%s/%s/%s", wd_builddir(), prog,
	    prog);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    ctl), 0);
	if ((w->pid = fork()) == 0) {
		if (dup2(ctl[1], PROC_CONTROL_FD) == -1)
			_exit(127);
		if (geteuid() == 0)
			execl(bin, prog, "-f", "-u", "nobody", "-r", dir,
			    (char *)NULL);
		else
			execl(bin, prog, "-f", "-r", dir, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(w->pid, 0);
	close(ctl[1]);
	w->ctl = ctl[0];
	w->fd = -1;
	w->nextid = 0;
}

void
wd_peer(struct wdrv *w, int peer)
{
	struct msgb mb;
	int link[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    link), 0);
	msgb_init(&mb, M_PEER);
	msgb_u64(&mb, A_PEER, (uint64_t)peer);
	msgb_fd(&mb, A_FD, link[1]);
	wd_send(w->ctl, &mb, ++w->nextid);
	if (w->fd != -1)
		close(w->fd);
	w->fd = link[0];
}

void
wd_stop(struct wdrv *w, int sig)
{
	int st;

	kill(w->pid, sig);
	ck_assert_int_eq(waitpid(w->pid, &st, 0), w->pid);
	if (w->fd != -1)
		close(w->fd);
	close(w->ctl);
	w->fd = -1;
}
