/*
 * link.h - one end of a socketpair to another regmaster process: queued
 * sends, asynchronous requests matched by id, and the accept table that says
 * which requests this process takes from that peer.
 */
#ifndef RM_LINK_H
#define RM_LINK_H

#include <stdint.h>

#include "msg.h"

struct link;

/* A request arrived; the handler answers with link_reply (now or later). */
typedef void (*link_request_cb)(struct link *, struct msg *, void *arg);
/* A reply arrived, or m is NULL when the link died first. */
typedef void (*link_reply_cb)(struct link *, struct msg *m, void *arg);
typedef void (*link_close_cb)(struct link *, void *arg);

/* Which request types a process accepts from a peer; once: at most one. */
struct link_accept {
	int	peer;
	int	type;
	int	once;
};

struct link *link_new(int fd, int peer, const struct link_accept *accept,
	    link_request_cb, link_close_cb, void *arg);
void	 link_free(struct link *);	/* fails pending requests */
int	 link_peer(const struct link *);
int	 link_fd(const struct link *);
/* Send a request; the callback runs once with the reply or NULL. */
uint32_t link_request(struct link *, struct msgb *, link_reply_cb, void *arg);
void	 link_forget(struct link *, uint32_t id);	/* drop the callback */
void	 link_reply(struct link *, uint32_t id, struct msgb *);
void	 link_notify(struct link *, struct msgb *);	/* request, no reply wanted */
void	 link_reply_err(struct link *, uint32_t id, int code, const char *text);
void	 link_reply_done(struct link *, uint32_t id);
size_t	 link_pending(const struct link *);

#endif
