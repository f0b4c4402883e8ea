/*
 * tunnel.c - what master does for tunneld: the relay's listeners (tunnel
 * clients, status page), its certificate, the client's CA bundle, and the
 * public ports tunneld claims for the groups its clients register.
 *
 * Master binds the public ports: it is root (a relay may publish port 443
 * or 80) and it enforces tunnel.relay.ports whatever tunneld asks, so a
 * compromised tunneld cannot open a port the configuration does not allow.
 *
 * The relay's certificate is the first tls.certificate/tls.key pair, else a
 * self-signed one master makes in run_dir at the first start; its SHA-256
 * fingerprint is logged so a client can pin it.  Unlike httpd's, the
 * relay's private key goes to tunneld itself, not to authd: a relay host
 * runs master and tunneld alone (the issue asks for it: no authd, no
 * store), and tunneld must hold the token in the clear anyway to check
 * the clients' HMAC, so a tunneld memory disclosure already yields the
 * secret that matters most on a relay.  Keeping the key in authd would
 * make authd mandatory on every relay and put a synchronous round trip
 * into every tunnel handshake, for little gain.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf_tunnel.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define RELAY_KEYID	0xff		/* the relay pair, of any generation */

struct pem {
	char		*data;
	size_t		 len;
};

static struct pem chain, key, ca, users;
static char fingerprint[1400];		/* path and hash, for the log */

static void
pem_clear(struct pem *p, int secret)
{
	if (p->data && secret)
		OPENSSL_cleanse(p->data, p->len);
	free(p->data);
	p->data = NULL;
	p->len = 0;
}

int
tunnel_enabled(void)
{
	size_t n;

	(void)conf_list(P_TUNNEL_RELAY_LISTEN, &n);
	return n > 0 || *conf_str(P_TUNNEL_CLIENT_RELAY) != '\0';
}

static int
relay_enabled(void)
{
	size_t n;

	(void)conf_list(P_TUNNEL_RELAY_LISTEN, &n);
	return n > 0;
}

/* The relay's pair: tls.certificate[0]/tls.key[0], else run_dir's own,
 * made when missing; -1 said. */
static int
relay_paths(char *certpath, char *keypath, size_t len)
{
	char *const *certs, *const *keys, host[256], *hosts[1];
	size_t ncert, nkey;

	certs = conf_list(P_TLS_CERTIFICATE, &ncert);
	keys = conf_list(P_TLS_KEY, &nkey);
	if (ncert > 0 && nkey > 0) {
		str_copy(certpath, certs[0], len);
		str_copy(keypath, keys[0], len);
		return 0;
	}
	if (snprintf(certpath, len, "%s/tunnel-relay.crt", conf_str(
	    P_RUN_DIR)) >= (int)len || snprintf(keypath, len,
	    "%s/tunnel-relay.key", conf_str(P_RUN_DIR)) >= (int)len)
		return log_warnx("run_dir too long"), -1;
	if (access(certpath, F_OK) == 0 && access(keypath, F_OK) == 0)
		return 0;
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0' ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
	    strlen(host) || strlen(host) > 64)
		str_copy(host, "regmaster-relay", sizeof(host));
	hosts[0] = host;
	if (cert_make(certpath, keypath, hosts, 1, 1) == -1)
		return -1;
	log_info("tunnel relay: made a self-signed certificate in %s",
	    certpath);
	return 0;
}

/* Log the leaf's SHA-256 fingerprint, the client's tunnel.client.fingerprint;
 * said again whenever tunneld gets the certificate, so the log file has it
 * (at start, the line goes to the terminal before the log is open). */
static void
fingerprint_log(const struct pem *c, const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0;
	BIO *b = BIO_new_mem_buf(c->data, (int)c->len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	if (x && X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		snprintf(fingerprint, sizeof(fingerprint), "%s: fingerprint "
		    "sha256:%s", path, hex);
		log_info("tunnel relay certificate %s", fingerprint);
	}
	X509_free(x);
	BIO_free(b);
}

/* Read and check the relay's pair into c/k; -1 logged. */
static int
relay_read(struct pem *c, struct pem *k)
{
	char certpath[1100], keypath[1100], why[512];
	int keyfault;

	if (relay_paths(certpath, keypath, sizeof(certpath)) == -1)
		return -1;
	if (file_read_all(certpath, TLS_PEM_MAX, &c->data, &c->len) == -1)
		return log_warn("%s", certpath), -1;
	if (file_read_all(keypath, TLS_PEM_MAX, &k->data, &k->len) == -1) {
		log_warn("%s", keypath);
		pem_clear(c, 0);
		return -1;
	}
	if (tls_pair_check(c->data, c->len, k->data, k->len, &keyfault, why,
	    sizeof(why)) == -1) {
		log_warnx("%s: %s", keyfault ? keypath : certpath, why);
		pem_clear(c, 0);
		pem_clear(k, 1);
		return -1;
	}
	fingerprint_log(c, certpath);
	return 0;
}

/* The file of key p (if set, at most max bytes) into out; -1 logged. */
static int
optional_read(int p, size_t max, struct pem *out)
{
	const char *path = conf_str(p);

	if (*path && file_read_all(path, max, &out->data, &out->len) == -1) {
		log_warn("%s %s", conf_params[p].name, path);
		return -1;
	}
	return 0;
}

/* The files of the configuration into the running set; -1 logged, the
 * running set kept. */
static int
files_load(void)
{
	struct pem c = { 0 }, k = { 0 }, a = { 0 }, u = { 0 };

	if (relay_enabled() && relay_read(&c, &k) == -1)
		return -1;
	if (optional_read(P_TUNNEL_CLIENT_CA, TLS_PEM_MAX, &a) == -1 ||
	    optional_read(P_TUNNEL_RELAY_STATUS_HTPASSWD,
	    msg_attr_defs[A_BODY].max, &u) == -1) {
		pem_clear(&c, 0);
		pem_clear(&k, 1);
		pem_clear(&a, 0);
		return -1;
	}
	pem_clear(&chain, 0);
	pem_clear(&key, 1);
	pem_clear(&ca, 0);
	pem_clear(&users, 0);
	chain = c;
	key = k;
	ca = a;
	users = u;
	return 0;
}

int
tunnel_start(void)
{
	if (!tunnel_enabled())
		return 0;
	if (relay_enabled())
		listen_open_tunnel();
	resolver_files(PROC_TUNNELD);
	return files_load();
}

int
tunnel_reload(void)
{
	if (!tunnel_enabled())
		return 0;
	resolver_files(PROC_TUNNELD);
	if (files_load() == -1)
		return -1;
	if (workers[PROC_TUNNELD].link)
		tunnel_send(&workers[PROC_TUNNELD]);
	return 0;
}

static void
send_body(struct link *l, int type, const struct pem *p)
{
	struct msgb mb;

	msgb_init(&mb, type);
	if (type == M_TLS_CERT || type == M_TLS_KEY)
		msgb_u64(&mb, A_KEYID, RELAY_KEYID);
	msgb_bytes(&mb, A_BODY, p->data, p->len);
	link_notify(l, &mb);
}

/* tunneld gets the relay's chain and key, then their end; the CA; the
 * status page's users. */
void
tunnel_send(struct worker *w)
{
	struct msgb mb;

	if (w->link == NULL)
		return;
	if (chain.data) {
		log_info("tunnel relay certificate %s", fingerprint);
		send_body(w->link, M_TLS_CERT, &chain);
		send_body(w->link, M_TLS_KEY, &key);
		msgb_init(&mb, M_TLS_END);
		msgb_u64(&mb, A_KEYID, RELAY_KEYID);
		link_notify(w->link, &mb);
	}
	if (ca.data)
		send_body(w->link, M_TUNNEL_CA, &ca);
	if (users.data)
		send_body(w->link, M_TUNNEL_USERS, &users);
}

/* tunneld -> master: open public port A_CODE, if tunnel.relay.ports has
 * it; answered with the listening socket or the reason. */
static void
bind_port(struct link *l, struct msg *m)
{
	struct tunnel_ports ports;
	uint64_t port = msg_u64(m, A_CODE, 0);
	const char *addr = conf_str(P_TUNNEL_RELAY_BIND);
	char spec[300], err[256], text[400];
	struct msgb mb;
	int fd;

	if (!relay_enabled() || tunnel_ports_parse(conf_str(
	    P_TUNNEL_RELAY_PORTS), &ports, err, sizeof(err)) == -1 ||
	    port > 65535 || !tunnel_port_allowed(&ports, (unsigned)port)) {
		snprintf(text, sizeof(text), "port %llu is outside "
		    "tunnel.relay.ports (%s)", (unsigned long long)port,
		    conf_str(P_TUNNEL_RELAY_PORTS));
		log_warnx("tunneld asked for %s", text);
		link_reply_err(l, m->id, 0, text);
		return;
	}
	snprintf(spec, sizeof(spec), strchr(addr, ':') ? "[%s]:%llu" :
	    "%s:%llu", addr, (unsigned long long)port);
	if ((fd = listen_one(spec)) == -1) {
		snprintf(text, sizeof(text), "cannot listen on %s: %s", spec,
		    strerror(errno));
		log_warnx("tunnel relay: %s", text);
		link_reply_err(l, m->id, 0, text);
		return;
	}
	log_info("tunnel relay: public port %s open", spec);
	msgb_init(&mb, M_BOUND);
	msgb_fd(&mb, A_FD, fd);
	link_reply(l, m->id, &mb);
}

void
tunnel_request(struct link *l, struct msg *m)
{
	if (m->type == M_TUNNEL_BIND)
		bind_port(l, m);
}
