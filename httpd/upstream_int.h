/*
 * upstream_int.h - what the files of httpd's upstream client share: one
 * exchange's state.  Nothing outside upstream*.c looks inside.
 */
#ifndef RM_HTTPD_UPSTREAM_INT_H
#define RM_HTTPD_UPSTREAM_INT_H

#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "http.h"
#include "upstream.h"
#include "wwwauth.h"

#define UP_PATH_MAX	UPSTREAM_PATH_MAX
#define UP_REDIRECTS	5

enum up_state { UP_IDLE, UP_RESOLVE, UP_CONNECT, UP_HANDSHAKE, UP_SEND,
	UP_HEAD, UP_BODY };
enum up_consumed { UPC_MORE, UPC_PAUSE, UPC_GONE };

struct up_target {
	int		 tls;
	char		 host[CACHE_HOST_MAX];
	char		 port[8];
	char		 path[UP_PATH_MAX];	/* with its query */
};

struct upreq {
	size_t		 upi;
	struct up_target t;
	char		 method[8];
	char		 accept[512];
	char		 scope[WWWAUTH_PARAM_MAX];
	char		 authz[WWWAUTH_TOKEN_MAX + 16];	/* Authorization */
	const struct up_ops *ops;
	void		*arg;
	enum up_state	 state;
	int		 fd;
	void		*ssl;			/* SSL * */
	struct resolve	*rs;
	int		 events;		/* what I/O waits for */
	int		 paused;
	struct buf	 in, out, head;
	struct http_request resp;		/* points into head */
	uint64_t	 body_max, body_got, body_left;
	int		 body_framing;		/* 0 length, 1 chunked,
						   2 until close */
	struct http_chunked chunk;
	int		 auth_round;		/* a token was fetched */
	int		 redirects;
	int		 token_req;		/* this one asks a realm */
	int		 reused;		/* on a pooled connection */
	int		 fresh_only;		/* that failed: dial anew */
	struct upreq	*child;			/* its token request */
	struct ev_timer	 timer;
	uint64_t	 progress_ms;
	/* a forwarded request (upstream_forward): the client's headers,
	 * intercept nothing, the body sent */
	struct buf	 fwd_hdrs;
	int		 fwd;
	up_body_fn	 body;
	int		 body_sent;
};

/* upstream.c */
struct upreq *up_new(size_t upi, const char *method, const struct up_ops *,
	    void *arg);
void	 up_dial(struct upreq *);
void	 up_disconnect(struct upreq *);
void	 up_free(struct upreq *);
void	 up_fail(struct upreq *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 up_receive(struct upreq *);
/* r's pooled connection died before its answer began: 1 when r was
 * dialled anew (once), 0 when that does not apply. */
int	 up_redial(struct upreq *);

/* upstream_body.c: head and body of the response in r->in */
enum up_consumed up_consume(struct upreq *);
/* n body bytes went straight to the sink (UPC_PAUSE: reading stopped) */
enum up_consumed up_sunk(struct upreq *, size_t n);
void	 up_eof(struct upreq *, int clean);

/* upstream_auth.c: 1 if the head was a 401 or a redirect handled here
 * (r starts again, or failed: gone either way), 0 for the caller's */
int	 up_intercept(struct upreq *);
void	 up_authorize(struct upreq *);	/* r->authz for the first try */
/* "https://host[:port]/path?query" into t; -1 if it is not that */
int	 up_url_parse(const char *url, struct up_target *t);

/* upstream_pool.c: idle connections by (upi, target).  put: 0 when the
 * pool took r's connection (r->fd is -1 then), -1 when r keeps it; take:
 * 0 when r now has a connected one (TLS set up). */
int	 uppool_put(struct upreq *);
int	 uppool_take(struct upreq *);
void	 uppool_flush(void);

/* upstream_conf.c */
void	*up_ssl_ctx(size_t upi);		/* SSL_CTX *, NULL logged */

#endif
