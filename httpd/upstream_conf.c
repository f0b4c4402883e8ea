/*
 * upstream_conf.c - the upstreams httpd dials: cache.upstreams parsed,
 * each https one's CA store (master opens the bundle, ca or the system's,
 * and passes the descriptor: httpd's chroot holds no certificates, and a
 * hashed directory would be read lazily there and fail), its SSL_CTX, and
 * the start of an exchange.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "log.h"
#include "msg.h"
#include "ossl.h"
#include "upstream_int.h"
#include "util.h"

#define CA_BUNDLE_MAX	(8 * 1024 * 1024)

static struct cache_upstream *ups;
static size_t nups;
static SSL_CTX *ctxs[CACHE_UPSTREAMS_MAX];

void
upstream_configure(void)
{
	char err[256];

	uppool_flush();		/* the indices may name others now */
	if (ups != NULL)
		explicit_bzero(ups, nups * sizeof(*ups));
	free(ups);
	if (cache_upstreams_parse(conf_str(P_CACHE_UPSTREAMS), &ups, &nups,
	    err, sizeof(err)) == -1)
		fatalx("cache.upstreams: %s", err);	/* master checked it */
}

size_t
upstream_count(void)
{
	return nups;
}

const struct cache_upstream *
upstream_at(size_t i)
{
	return &ups[i];
}

/* The whole of fd (at most CA_BUNDLE_MAX) into b; -1 on error. */
static int
read_fd(int fd, struct buf *b)
{
	ssize_t n;

	for (;;) {
		buf_reserve(b, 65536);
		n = read(fd, buf_tail(b), 65536);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		b->len += (size_t)n;
		if (b->len > CA_BUNDLE_MAX)
			return -1;
	}
}

/* A client context whose store holds the certificates of pem. */
static SSL_CTX *
ctx_from_pem(const char *pem, size_t len, int *ncerts)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *st;
	X509 *x;

	*ncerts = 0;
	if (bio == NULL || ctx == NULL)
		fatalx("out of memory for an upstream's TLS");
	st = SSL_CTX_get_cert_store(ctx);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) == 1)
			(*ncerts)++;
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

void
upstream_ca(struct msg *m)
{
	uint64_t i = msg_u64(m, A_KEYID, UINT64_MAX);
	int fd = msg_take_fd(m, A_FD), n;
	struct buf b;

	buf_init(&b);
	if (i >= nups || fd == -1 || read_fd(fd, &b) == -1) {
		log_warnx("upstream CA %llu: unreadable or unknown",
		    (unsigned long long)i);
	} else {
		ossl_need();
		uppool_flush();	/* verified with the CAs they replace */
		if (ctxs[i] != NULL)
			SSL_CTX_free(ctxs[i]);
		ctxs[i] = ctx_from_pem(b.data, b.len, &n);
		if (n == 0)
			log_warnx("upstream %s: its CA bundle holds no "
			    "certificate", ups[i].url);
		else
			log_debug("upstream %s: %d CA certificates",
			    ups[i].url, n);
	}
	if (fd != -1)
		close(fd);
	buf_free(&b);
}

void *
up_ssl_ctx(size_t upi)
{
	if (upi >= nups || ctxs[upi] == NULL) {
		log_warnx("upstream %s: no CA certificates to verify it with",
		    upi < nups ? ups[upi].url : "?");
		return NULL;
	}
	return ctxs[upi];
}

struct upreq *
upstream_start(size_t upi, const char *method, const char *path,
    const char *accept, const char *scope, uint64_t body_max,
    const struct up_ops *ops, void *arg)
{
	struct upreq *r = up_new(upi, method, ops, arg);

	r->t.tls = ups[upi].tls;
	str_copy(r->t.host, ups[upi].host, sizeof(r->t.host));
	str_copy(r->t.port, ups[upi].port, sizeof(r->t.port));
	if (str_copy(r->t.path, path, sizeof(r->t.path)) == -1 ||
	    str_copy(r->accept, accept ? accept : "", sizeof(r->accept)) ==
	    -1 || str_copy(r->scope, scope, sizeof(r->scope)) == -1)
		fatalx("upstream request fields too long");
	r->body_max = body_max;
	up_authorize(r);
	up_dial(r);
	return r;
}
