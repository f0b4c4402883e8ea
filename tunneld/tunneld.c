/*
 * tunneld.c - the tunnel worker: the relay on a public host (relay*.c),
 * the client next to the registry (client*.c), or both.  Master sends the
 * configuration, the relay's listeners, its certificate and key, the CA
 * bundle a client verifies the relay with, and asks for the status
 * document; this file takes those and hands them to the role.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "log.h"
#include "ossl.h"
#include "proc.h"
#include "status.h"
#include "tunneld.h"
#include "util.h"
#include "worker.h"

static const struct link_accept tunneld_accept[] = {
	{ PROC_MASTER, M_LISTEN, 0 },
	{ PROC_MASTER, M_TLS_CERT, 0 },
	{ PROC_MASTER, M_TLS_KEY, 0 },
	{ PROC_MASTER, M_TLS_END, 0 },
	{ PROC_MASTER, M_TUNNEL_CA, 0 },
	{ PROC_MASTER, M_TUNNEL_USERS, 0 },
	{ PROC_MASTER, M_TUNNEL_STATUS, 0 },
	{ 0, 0, 0 }
};

static char *chain, *key;		/* the relay's pair, being received */
static size_t chainlen, keylen;
static int is_relay;

static void
take_body(struct msg *m, char **out, size_t *len, int secret)
{
	const struct msg_val *v = &m->v[A_BODY];

	if (*out && secret)
		OPENSSL_cleanse(*out, *len);
	free(*out);
	*out = xmalloc(v->len + 1);
	memcpy(*out, v->p, v->len);
	*len = v->len;
	if (secret)	/* the frame is our receive buffer: no copy stays */
		OPENSSL_cleanse((void *)(uintptr_t)v->p, v->len);
}

/* The chain and key are in: the relay's context for new connections. */
static void
on_tls_end(void)
{
	SSL_CTX *ctx;

	if (chain == NULL || key == NULL) {
		log_warnx("relay certificate: no chain or no key from master");
		return;
	}
	if ((ctx = tun_server_ctx(chain, chainlen, key, keylen)) != NULL)
		relay_set_ctx(ctx);
	OPENSSL_cleanse(key, keylen);
	free(key);
	free(chain);
	key = chain = NULL;
}

static void
on_listen(struct msg *m)
{
	const char *name = msg_str(m, A_NAME);
	int fd = msg_take_fd(m, A_FD);

	if (strcmp(name, "relay") == 0) {
		is_relay = 1;
		relay_listener(fd);
	} else if (strcmp(name, "status") == 0) {
		status_set_doc(relay_status_doc);
		status_start(fd);
	} else if (strcmp(name, "metrics") == 0)
		status_start_metrics(fd);
	else {
		log_warnx("unexpected listener %s", name);
		close(fd);
	}
}

/* The status page's htpasswd file, from master (status_htpasswd). */
static void
status_users(const void *data, size_t len)
{
	char err[256];

	if (conf_str(P_TUNNEL_RELAY_STATUS_USER)[0] != '\0')
		return;		/* status_user and status_password rule */
	if (status_auth_htpasswd(data, len, err, sizeof(err)) == -1)
		log_warnx("tunnel.relay.status_htpasswd: %s: the status page "
		    "lets no one in", err);
}

/* status_user and status_password (a reload may change them). */
static void
status_configured(void)
{
	const char *user = conf_str(P_TUNNEL_RELAY_STATUS_USER);
	char err[256];

	if (*user != '\0' && status_auth_set(user,
	    conf_str(P_TUNNEL_RELAY_STATUS_PASSWORD), err, sizeof(err)) == -1)
		log_warnx("tunnel.relay.status_password: %s: the status page "
		    "lets no one in", err);
}

static void
tunneld_request(struct link *l, struct msg *m)
{
	switch (m->type) {
	case M_LISTEN:
		on_listen(m);
		break;
	case M_TLS_CERT:
		take_body(m, &chain, &chainlen, 0);
		break;
	case M_TLS_KEY:
		take_body(m, &key, &keylen, 1);
		break;
	case M_TLS_END:
		on_tls_end();
		break;
	case M_TUNNEL_CA:
		client_set_ca(m->v[A_BODY].p, m->v[A_BODY].len);
		break;
	case M_TUNNEL_USERS:
		status_users(m->v[A_BODY].p, m->v[A_BODY].len);
		break;
	case M_TUNNEL_STATUS:
		if (is_relay || client_running())
			relay_status_request(l, m, is_relay);
		else
			link_reply_err(l, m->id, 0, "no tunnel runs");
		break;
	}
}

static void
tunneld_configured(int first)
{
	relay_configured();
	client_configured();
	status_configured();
}

/* Before the sandbox: OpenSSL's configuration and the host's name. */
static void
tunneld_preload(void)
{
	if (worker_crypto()) {
		ossl_preload();
		if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
			log_warnx("libssl not initialised");
	}
	client_preload();
}

/* A scrape: a relay's figures; a tunnel client has none of its own yet. */
static void
tunneld_metrics(struct buf *b)
{
	if (is_relay)
		relay_metrics(b);
}

static const struct worker_ops tunneld_ops = {
	.id = PROC_TUNNELD,
	.accept = tunneld_accept,
	.configured = tunneld_configured,
	.request = tunneld_request,
	.preload = tunneld_preload,
	.metrics = tunneld_metrics,
};

int
main(int argc, char **argv)
{
	worker_main(argc, argv, &tunneld_ops);
}
