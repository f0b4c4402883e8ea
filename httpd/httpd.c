/*
 * httpd.c - the HTTP front end worker: takes the listening sockets master
 * opened, accepts clients and speaks the Distribution API, asking storaged
 * for everything that touches the store.  It opens no files.
 */
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "conf.h"
#include "conn.h"
#include "ev.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "oci.h"
#include "proc.h"
#include "tls.h"
#include "upstream.h"
#include "worker.h"

#define LISTEN_MAX	16

static struct link *peers[PROC_MAX];
static int listeners[LISTEN_MAX];
static int listener_flags[LISTEN_MAX];	/* LISTEN_F_* */
static int nlisteners;
static int accept_paused;
static struct ev_timer stop_timer;

static const struct link_accept httpd_accept[] = {
	{ PROC_MASTER, M_LISTEN, 0 },
	{ PROC_MASTER, M_TLS_CERT, 0 },
	{ PROC_MASTER, M_TLS_END, 0 },
	{ PROC_MASTER, M_CACHE_CA, 0 },
	{ 0, 0, 0 }
};

/* What authd tells httpd unasked: the token key, stale decisions. */
static const struct link_accept authd_accept[] = {
	{ PROC_AUTHD, M_TOKEN_KEY, 0 },
	{ PROC_AUTHD, M_AUTH_FLUSH, 0 },
	{ 0, 0, 0 }
};

struct link *
httpd_storaged(void)
{
	return peers[PROC_STORAGED];
}

struct link *
httpd_authd(void)
{
	return peers[PROC_AUTHD];
}

static void
on_listen_ready(int fd, int events, void *arg)
{
	conn_accept(fd, *(int *)arg);
}

void
conn_pause_accept(int paused)
{
	if (paused == accept_paused || worker_stopping())
		return;
	accept_paused = paused;
	for (int i = 0; i < nlisteners; i++)
		ev_set(listeners[i], paused ? 0 : EV_READ);
}

static void
httpd_listen(struct link *l, struct msg *m)
{
	int fd = msg_take_fd(m, A_FD);

	if (nlisteners == LISTEN_MAX) {
		close(fd);
		return;
	}
	listener_flags[nlisteners] = (int)(msg_u64(m, A_FLAGS, 0) &
	    (LISTEN_F_TLS | LISTEN_F_PROXY | LISTEN_F_METRICS));
	ev_add(fd, accept_paused ? 0 : EV_READ, on_listen_ready,
	    &listener_flags[nlisteners]);
	listeners[nlisteners++] = fd;
	if (listener_flags[nlisteners - 1] & LISTEN_F_METRICS)
		metrics_counting();
	log_debug("listening on %s%s%s%s", msg_str(m, A_NAME),
	    listener_flags[nlisteners - 1] & LISTEN_F_TLS ? " (TLS)" : "",
	    listener_flags[nlisteners - 1] & LISTEN_F_PROXY ? " (PROXY)" : "",
	    listener_flags[nlisteners - 1] & LISTEN_F_METRICS ? " (metrics)" :
	    "");
}

static void
httpd_request(struct link *l, struct msg *m)
{
	if (m->type == M_LISTEN)
		httpd_listen(l, m);
	else if (m->type == M_TLS_CERT)
		tls_cert(m);
	else if (m->type == M_TLS_END)
		tls_end(m);
	else if (m->type == M_CACHE_CA)
		upstream_ca(m);
}

static void
peer_close(struct link *l, void *arg)
{
	int peer = link_peer(l);

	if (peers[peer] == l)
		peers[peer] = NULL;
	log_info("lost %s", proc_name(peer));
	link_free(l);
}

/* storaged only answers; authd's notifications (authd_accept). */
static void
peer_request(struct link *l, struct msg *m, void *arg)
{
	if (m->type == M_TOKEN_KEY)
		auth_token_key(m);
	else if (m->type == M_AUTH_FLUSH)
		auth_flush();
}

/* A fresh socket to storaged or authd (at start or after its restart). */
static void
httpd_peer(int peer, int fd)
{
	if (peer != PROC_STORAGED && peer != PROC_AUTHD) {
		close(fd);
		return;
	}
	if (peers[peer]) {
		/*
		 * master's new socket can overtake the old one's hangup:
		 * say it here too. Requests failed by link_free must not
		 * find the old link.
		 */
		struct link *old = peers[peer];
		peers[peer] = NULL;
		log_info("lost %s (replaced)", proc_name(peer));
		link_free(old);
	}
	peers[peer] = link_new(fd, peer, peer == PROC_AUTHD ? authd_accept :
	    NULL, peer_request, peer_close, NULL);
	log_debug("connected to %s", proc_name(peer));
	if (peer == PROC_AUTHD) {
		/* decisions of the authd before may not hold for this one */
		auth_flush();
		audit_authd_up();
	}
}

static void
stop_check(void *arg)
{
	if (conn_count() == 0 || ev_now() >= *(uint64_t *)arg)
		worker_exit();
	ev_timer_arm(&stop_timer, 50);
}

/* Stop accepting; let requests in flight finish within stop_timeout. */
static void
httpd_stop(void)
{
	static uint64_t deadline;

	for (int i = 0; i < nlisteners; i++) {
		ev_del(listeners[i]);
		close(listeners[i]);
	}
	nlisteners = 0;
	conn_stop_accepting();
	deadline = ev_now() + (uint64_t)conf_int(P_STOP_TIMEOUT) * 1000;
	ev_timer_init(&stop_timer, stop_check, &deadline);
	stop_check(&deadline);
}

/* httpd's ca channel to authd: the TLS handshakes' signatures. */
static void
httpd_peer_ca(int peer, int fd)
{
	if (peer != PROC_AUTHD) {
		close(fd);
		return;
	}
	tls_ca_peer(fd);
}

static void
httpd_configured(int first)
{
	auth_configure();
	cache_configure();
}

static void
httpd_preload(void)
{
	oci_preload();
	if (worker_crypto())
		tls_preload();
}

/* The HTTP figures, and the cache's when it runs. */
static void
httpd_metrics(struct buf *b)
{
	metrics_render(b);
	cache_metrics(b);
}

static const struct worker_ops httpd_ops = {
	.id = PROC_HTTPD,
	.accept = httpd_accept,
	.configured = httpd_configured,
	.peer = httpd_peer,
	.peer_ca = httpd_peer_ca,
	.request = httpd_request,
	.stop = httpd_stop,
	.preload = httpd_preload,
	.metrics = httpd_metrics,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &httpd_ops);
}
