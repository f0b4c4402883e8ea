/*
 * authd.h - what authd's files share.  Everything but login.c's bcrypt pool
 * and audit.c's threads runs in the event loop, so none of this is locked.
 */
#ifndef AD_AUTHD_H
#define AD_AUTHD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "audit.h"
#include "htpasswd.h"
#include "link.h"

/* authd.c: cached decisions are stale (users or rules changed): forget
 * ours and tell httpd to forget its own. */
void	 authd_flush(void);

/* passwd.c: auth.htpasswd, re-read when it changes on disk */
int	 passwd_configure(void);	/* 1 if auth.htpasswd changed */
int	 passwd_open(void);		/* no password file: no auth */
int	 passwd_refresh(void);		/* 1 if the users changed */
const char *passwd_hash(const char *user);	/* NULL: no such user */
const char *passwd_dummy(void);		/* costs what a real check costs */
unsigned passwd_generation(void);

/* cache.c: successful password checks, keyed by a keyed hash */
void	 keyed_hash(const char *a, const char *b, unsigned char out[32]);
uint64_t cache_lookup(const char *user, const char *secret);	/* ms left */
void	 cache_insert(const char *user, const char *secret);
void	 cache_flush(void);

/* limit.c: failed logins per client address and per user */
uint64_t limit_wait(const char *addr, const char *user);	/* s; 0: go */
void	 limit_fail(const char *addr, const char *user);
void	 limit_refund(const char *addr, const char *user);
int	 limit_first_refusal(const char *addr, const char *user);

/* rules.c: auth.rules and auth.groups */
int	 rules_configure(void);		/* 1 if the rules changed */
unsigned rules_grant(const char *user, const char *repo);

/* login.c: authenticating one request, asynchronously */
enum login_result { LOGIN_OK, LOGIN_BAD, LOGIN_LIMITED, LOGIN_BUSY };

struct login;
typedef void (*login_done_fn)(struct login *);

struct login {
	TAILQ_ENTRY(login) entry;
	struct link	*link;		/* NULL once it closed */
	uint32_t	 id;
	char		 addr[64];
	char		 user[HTPASSWD_NAME_MAX + 1];	/* "": anonymous */
	char		*secret;	/* wiped before it is freed */
	char		 hash[HTPASSWD_HASH_MAX + 1];
	const char	*repo;		/* the check's (NULL: catalog) */
	unsigned	 gen;		/* passwd_generation at start */
	int		 match;		/* the bcrypt's answer */
	enum login_result result;
	uint64_t	 wait;		/* LOGIN_LIMITED: seconds */
	uint64_t	 ttl;		/* LOGIN_OK: seconds it may be cached */
	login_done_fn	 done;
	void		*arg;		/* the caller's */
};

/* Authenticate m's A_ADDR, A_USER, A_SECRET, A_FLAGS; done runs once
 * (perhaps before login_begin returns; with l->link NULL if the link
 * closed meanwhile: then it only frees what it gave as arg). */
void	 login_begin(struct link *, struct msg *, login_done_fn, void *arg);
struct buf;
void	 login_metrics(struct buf *);	/* worker_ops.metrics */
void	 login_free(struct login *);
void	 login_link_gone(struct link *);
size_t	 login_busy(void);

/* check.c, token.c: httpd's requests */
void	 check_request(struct link *, struct msg *);
int	 token_ready(void);		/* the key is made */
void	 token_init(void);		/* make it */
void	 token_send_key(struct link *);
void	 token_request(struct link *, struct msg *);

/* audit.c: the audit file master opened, appended by a thread */
void	 audit_set_fd(int fd);		/* -1: no audit log */
void	 audit_event(const struct audit_rec *);
void	 audit_body(const char *body, size_t len);
void	 audit_drain(uint64_t deadline_ms);

#endif
