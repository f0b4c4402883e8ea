/*
 * authd.c - the authentication worker: passwords, access rules, the token
 * key and the audit log live here, away from the network.  httpd asks it
 * who a client is and what it may do (check.c), for tokens (token.c), and
 * hands it audit records; master hands it the audit file.  This file is
 * the wiring: accept tables, dispatch, configuration and stop.
 */
#include <unistd.h>

#include <jansson.h>

#include "authd.h"
#include "ca.h"
#include "conf.h"
#include "ev.h"
#include "link.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "worker.h"

#define STOP_POLL_MS	50
#define PASSWD_POLL_MS	1000

static struct link *httpd;
static unsigned flushes;
static struct ev_timer stop_timer;
static struct ev_timer passwd_timer;
static uint64_t stop_deadline;

static const struct link_accept master_accept[] = {
	{ PROC_MASTER, M_AUDIT_FD, 0 },
	{ PROC_MASTER, M_TLS_KEY, 0 },
	{ 0, 0, 0 }
};

static const struct link_accept httpd_accept[] = {
	{ PROC_HTTPD, M_PING, 0 },
	{ PROC_HTTPD, M_AUTH_CHECK, 0 },
	{ PROC_HTTPD, M_TOKEN_ISSUE, 0 },
	{ PROC_HTTPD, M_AUDIT, 0 },
	{ 0, 0, 0 }
};

void
authd_flush(void)
{
	struct msgb mb;

	cache_flush();
	flushes++;
	if (httpd == NULL)
		return;
	msgb_init(&mb, M_AUTH_FLUSH);
	msgb_u64(&mb, A_COUNT, flushes);
	link_notify(httpd, &mb);
}

static void
httpd_request(struct link *l, struct msg *m, void *arg)
{
	switch (m->type) {
	case M_PING:		worker_pong(l, m); break;
	case M_AUTH_CHECK:	check_request(l, m); break;
	case M_TOKEN_ISSUE:	token_request(l, m); break;
	case M_AUDIT:
		audit_body(m->v[A_BODY].p, m->v[A_BODY].len);
		break;
	default:
		fatalx("accepted %s without a handler", msg_type_name(m->type));
	}
}

static void
httpd_close(struct link *l, void *arg)
{
	log_info("link to httpd closed");
	login_link_gone(l);
	if (l == httpd)
		httpd = NULL;
	link_free(l);
}

/* A new socket to httpd replaces the old one; it gets the token key. */
static void
authd_peer(int peer, int fd)
{
	if (peer != PROC_HTTPD) {
		log_warnx("unexpected peer %s", proc_name(peer));
		close(fd);
		return;
	}
	if (httpd) {
		login_link_gone(httpd);
		link_free(httpd);
	}
	httpd = link_new(fd, peer, httpd_accept, httpd_request, httpd_close,
	    NULL);
	if (token_ready())
		token_send_key(httpd);
}

/* Master's requests beyond the common ones: the audit file (none: the
 * audit log is off) and the TLS private keys httpd's handshakes need. */
static void
authd_request(struct link *l, struct msg *m)
{
	if (m->type == M_AUDIT_FD)
		audit_set_fd(msg_take_fd(m, A_FD));
	else if (m->type == M_TLS_KEY)
		ca_key(l, m);
}

/* httpd keeps decisions and asks nothing while they last: look at the
 * password file once a second anyway, so a deleted user or a changed
 * password is forgotten by both within a second, not at cache_ttl. */
static void
passwd_poll(void *arg)
{
	if (passwd_refresh())
		authd_flush();
	ev_timer_arm(&passwd_timer, PASSWD_POLL_MS);
}

/* At start and on reload: the password file is looked at again and the
 * rules re-read; decisions made under the old ones are forgotten. */
static void
authd_configured(int first)
{
	int changed;

	changed = passwd_configure();
	changed |= passwd_refresh();
	changed |= rules_configure();
	if (changed && !first)
		authd_flush();
	/* users: the token key, made now, not at start (an open registry
	 * never starts OpenSSL here) */
	if (conf_str(P_AUTH_HTPASSWD)[0] != '\0' && !token_ready()) {
		token_init();
		if (httpd)
			token_send_key(httpd);
	}
	if (first)
		ev_timer_arm(&passwd_timer, PASSWD_POLL_MS);
}

/* Exit once checks in flight are answered and the audit queue is
 * written, or at stop_timeout. */
static void
stop_check(void *arg)
{
	if (login_busy() == 0 || now_ms() >= stop_deadline) {
		audit_drain(stop_deadline);
		worker_exit();
	}
	ev_timer_arm(&stop_timer, STOP_POLL_MS);
}

static void
authd_stop(void)
{
	if (stop_deadline)
		return;
	stop_deadline = now_ms() + (uint64_t)conf_int(P_STOP_TIMEOUT) * 1000;
	stop_check(NULL);
}

/* Before the privilege drop: jansson's hash seed (the audit lines' check)
 * from the random device, and for TLS or users (-c) OpenSSL with its
 * configuration; the keys come later, from getrandom(2). */
static void
authd_preload(void)
{
	json_object_seed(0);
	if (worker_crypto())
		ca_preload();
	ev_timer_init(&stop_timer, stop_check, NULL);
	ev_timer_init(&passwd_timer, passwd_poll, NULL);
}

static const struct worker_ops authd_ops = {
	.id = PROC_AUTHD,
	.accept = master_accept,
	.configured = authd_configured,
	.peer = authd_peer,
	.peer_ca = ca_peer,
	.request = authd_request,
	.stop = authd_stop,
	.preload = authd_preload,
	.metrics = login_metrics,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &authd_ops);
}
