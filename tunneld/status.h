/*
 * status.h - the relay's status page (tunnel.relay.status_listen): GET /
 * as HTML for people and GET /status.json for scripts, both from the one
 * JSON document the relay makes (the shape is in DESIGN.md, Tunnel), behind
 * Basic auth from a bcrypt hash or an htpasswd file; never open.
 */
#ifndef RM_TUNNELD_STATUS_H
#define RM_TUNNELD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

/* The relay's document, made afresh per request (the caller's to free). */
typedef json_t *(*status_doc_fn)(void);

void	 status_set_doc(status_doc_fn);

/*
 * The credentials: one user and a bcrypt hash of its password (status_user,
 * status_password), or the bytes of an htpasswd file (status_htpasswd).
 * Each replaces what was set before (a reload); -1 with err for a hash or
 * a file that cannot check any password, and then nobody gets in: until
 * one succeeds every request is refused.
 */
int	 status_auth_set(const char *user, const char *hash, char *err,
	    size_t errlen);
int	 status_auth_htpasswd(const char *data, size_t len, char *err,
	    size_t errlen);

/*
 * status_auth.c: may the request with this Authorization header (NULL:
 * none) see the page?  0: yes; 401, 429 or 503: the answer now, with
 * *wait seconds for a Retry-After (429, 503); -1: a bcrypt check runs off
 * the loop, and done(0 or the status, arg) answers later, unless
 * status_auth_cancel(*check) comes first (the client left).
 */
struct status_check;
typedef void (*status_auth_fn)(int status, void *arg);
int	 status_auth(const char *authorization, unsigned *wait,
	    status_auth_fn done, void *arg, struct status_check **check);
void	 status_auth_cancel(struct status_check *);
/* Requests refused for the bcrypt budget (429), or checks full (503). */
uint64_t status_auth_limited(void);
uint64_t status_auth_busy(void);

/* Serve on the listening socket fd (taken; M_LISTEN "status"). */
void	 status_start(int fd);
/* Serve the metrics listener's pages (lib/mpage.h) on fd (taken; M_LISTEN
 * "metrics": metrics.listen on a host without httpd). */
void	 status_start_metrics(int fd);

/* status_html.c: the page for doc, appended to out (what a browser shows). */
void	 status_html(const json_t *doc, struct buf *out);

#endif
