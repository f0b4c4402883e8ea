/* link.c - protocol links over SOCK_SEQPACKET socketpairs. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "link.h"
#include "log.h"
#include "proc.h"
#include "util.h"

#define PENDING_BUCKETS	64
#define LINK_RECV_BATCH	64

struct pending {
	struct pending	*next;
	uint32_t	 id;
	link_reply_cb	 cb;
	void		*arg;
};

struct frame {
	struct frame	*next;
	struct buf	 b;
	int		 fds[MSG_MAXFDS];
	int		 nfds;
};

struct link {
	int		 fd;
	int		 peer;
	const struct link_accept *accept;
	link_request_cb	 on_request;
	link_close_cb	 on_close;
	void		*arg;
	uint32_t	 next_id;
	size_t		 npending;
	struct pending	*pending[PENDING_BUCKETS];
	struct frame	*outq, **outq_tail;
	uint8_t		 seen_once[M_MAX];
	uint8_t		*rbuf;
	int		 dead;
	struct ev_timer	 reaper;	/* runs on_close outside of link_io */
};

static void link_io(int, int, void *);
static void link_reap(void *);

struct link *
link_new(int fd, int peer, const struct link_accept *accept,
    link_request_cb on_request, link_close_cb on_close, void *arg)
{
	struct link *l = xcalloc(1, sizeof(*l));

	l->fd = fd;
	l->peer = peer;
	l->accept = accept;
	l->on_request = on_request;
	l->on_close = on_close;
	l->arg = arg;
	l->next_id = 1;
	l->outq_tail = &l->outq;
	l->rbuf = xmalloc(MSG_MAXFRAME);
	ev_timer_init(&l->reaper, link_reap, l);
	if (fd_set_nonblock(fd) == -1)
		fatal("nonblock");
	ev_add(fd, EV_READ, link_io, l);
	return l;
}

int
link_peer(const struct link *l)
{
	return l->peer;
}

int
link_fd(const struct link *l)
{
	return l->fd;
}

size_t
link_pending(const struct link *l)
{
	return l->npending;
}

static void
frame_free(struct frame *f)
{
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	buf_free(&f->b);
	free(f);
}

/* Free the link: pending callbacks see NULL, queued frames are dropped. */
void
link_free(struct link *l)
{
	struct pending *p;
	struct frame *f;

	ev_timer_cancel(&l->reaper);
	ev_del(l->fd);
	close(l->fd);
	l->fd = -1;
	l->dead = 1;
	/* a callback may still ask this dead link: sweep until empty */
	while (l->npending > 0) {
		for (int b = 0; b < PENDING_BUCKETS; b++) {
			while ((p = l->pending[b]) != NULL) {
				l->pending[b] = p->next;
				l->npending--;
				if (p->cb)
					p->cb(l, NULL, p->arg);
				free(p);
			}
		}
	}
	while ((f = l->outq) != NULL) {
		l->outq = f->next;
		frame_free(f);
	}
	free(l->rbuf);
	free(l);
}

static void
link_reap(void *arg)
{
	struct link *l = arg;

	if (l->on_close)
		l->on_close(l, l->arg);
	else
		link_free(l);
}

/* The peer broke the protocol or went away: stop using the link now and tell
 * the owner (who frees it) from the loop, so no caller holds a freed link. */
static void
link_die(struct link *l, const char *why)
{
	if (l->dead)
		return;
	if (why)
		log_warnx("link to %s: %s", proc_name(l->peer), why);
	ev_del(l->fd);
	l->dead = 1;
	ev_timer_arm(&l->reaper, 0);
}

/* 0 sent, 1 would block, -1 failed. */
static int
link_sendmsg(int fd, const struct buf *b, const int *fds, int nfds)
{
	if (msg_sendfd(fd, b->data, b->len, fds, nfds) >= 0)
		return 0;
	return (errno == EAGAIN || errno == ENOBUFS) ? 1 : -1;
}

static void
link_flush(struct link *l)
{
	struct frame *f;
	int r;

	while ((f = l->outq) != NULL) {
		r = link_sendmsg(l->fd, &f->b, f->fds, f->nfds);
		if (r == 1)
			break;
		l->outq = f->next;
		if (l->outq == NULL)
			l->outq_tail = &l->outq;
		frame_free(f);
		if (r == -1) {
			link_die(l, "send failed");
			return;
		}
	}
	ev_set(l->fd, EV_READ | (l->outq ? EV_WRITE : 0));
}

/* Send now if possible, else queue; descriptors are closed once sent. */
static void
link_send(struct link *l, struct msgb *mb, uint32_t id, uint16_t flags)
{
	struct frame *f;
	int r = 1;

	msgb_finish(mb, id, flags);
	if (l->dead) {
		msgb_free(mb);
		return;
	}
	if (l->outq == NULL)
		r = link_sendmsg(l->fd, &mb->b, mb->fds, mb->nfds);
	if (r == 0 || r == -1) {
		msgb_free(mb);
		if (r == -1)
			link_die(l, "send failed");
		return;
	}
	f = xcalloc(1, sizeof(*f));
	f->b = mb->b;
	memcpy(f->fds, mb->fds, sizeof(f->fds));
	f->nfds = mb->nfds;
	mb->nfds = 0;
	buf_init(&mb->b);
	*l->outq_tail = f;
	l->outq_tail = &f->next;
	ev_set(l->fd, EV_READ | EV_WRITE);
}

uint32_t
link_request(struct link *l, struct msgb *mb, link_reply_cb cb, void *arg)
{
	struct pending *p = xmalloc(sizeof(*p));
	uint32_t id;

	do {
		id = l->next_id++;
	} while (id == 0);
	p->id = id;
	p->cb = cb;
	p->arg = arg;
	p->next = l->pending[id % PENDING_BUCKETS];
	l->pending[id % PENDING_BUCKETS] = p;
	l->npending++;
	link_send(l, mb, id, 0);
	return id;
}

void
link_notify(struct link *l, struct msgb *mb)
{
	link_send(l, mb, 0, 0);
}

void
link_forget(struct link *l, uint32_t id)
{
	struct pending *p;

	for (p = l->pending[id % PENDING_BUCKETS]; p; p = p->next)
		if (p->id == id)
			p->cb = NULL;
}

void
link_reply(struct link *l, uint32_t id, struct msgb *mb)
{
	link_send(l, mb, id, MSG_F_REPLY);
}

void
link_reply_err(struct link *l, uint32_t id, int code, const char *text)
{
	struct msgb mb;

	msgb_init(&mb, M_ERR);
	msgb_u64(&mb, A_CODE, (uint64_t)code);
	if (text)
		msgb_str(&mb, A_TEXT, text);
	link_reply(l, id, &mb);
}

void
link_reply_done(struct link *l, uint32_t id)
{
	struct msgb mb;

	msgb_init(&mb, M_DONE);
	link_reply(l, id, &mb);
}

static struct pending *
pending_take(struct link *l, uint32_t id)
{
	struct pending **pp, *p;

	for (pp = &l->pending[id % PENDING_BUCKETS]; (p = *pp); pp = &p->next)
		if (p->id == id) {
			*pp = p->next;
			l->npending--;
			return p;
		}
	return NULL;
}

/* Is this request type allowed from this peer (and not a repeated once)? */
static int
link_accepts(struct link *l, int type)
{
	const struct link_accept *a;

	for (a = l->accept; a && a->type; a++) {
		if (a->peer != l->peer || a->type != type)
			continue;
		if (a->once && l->seen_once[type]++)
			return 0;
		return 1;
	}
	return 0;
}

static void
link_handle(struct link *l, struct msg *m)
{
	struct pending *p;

	if (m->flags & MSG_F_REPLY) {
		if ((p = pending_take(l, m->id)) == NULL) {
			msg_close_fds(m);
			link_die(l, "reply to no request");
			return;
		}
		if (p->cb)
			p->cb(l, m, p->arg);
		free(p);
		msg_close_fds(m);
		return;
	}
	if (!link_accepts(l, m->type)) {
		log_warnx("%s from %s not accepted", msg_type_name(m->type),
		    proc_name(l->peer));
		msg_close_fds(m);
		link_die(l, "protocol violation");
		return;
	}
	l->on_request(l, m, l->arg);
	msg_close_fds(m);
}

/* Receive one datagram; 1 got a message, 0 nothing now, -1 link gone. */
static int
link_recv_one(struct link *l, struct msg *m)
{
	int fds[MSG_MAXFDS], nfds, broken;
	const char *err = NULL;
	ssize_t n;

	n = msg_recvfd(l->fd, l->rbuf, MSG_MAXFRAME, fds, &nfds, &broken);
	if (n == -1)
		return errno == EAGAIN ? 0 :
		    (link_die(l, "recvmsg failed"), -1);
	if (n == 0 || broken)
		err = n == 0 ? NULL : "truncated frame or too many descriptors";
	else if (msg_decode(l->rbuf, (size_t)n, fds, nfds, m, &err) == 0)
		return 1;
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	link_die(l, err);
	return -1;
}

static void
link_io(int fd, int events, void *arg)
{
	struct link *l = arg;
	struct msg m;

	if (events & EV_WRITE) {
		link_flush(l);
		if (l->dead)
			return;
	}
	if (!(events & EV_READ))
		return;
	for (int i = 0; i < LINK_RECV_BATCH && !l->dead; i++) {
		if (link_recv_one(l, &m) != 1)
			return;
		link_handle(l, &m);
	}
}
