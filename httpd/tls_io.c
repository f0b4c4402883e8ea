/*
 * tls_io.c - a TLS connection's handshake, reads and writes for conn.c's
 * nonblocking loop: OpenSSL's "want read / want write" become the events
 * the connection waits for, and a verified client certificate's name
 * becomes the connection's cert_user.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "ev.h"
#include "log.h"
#include "tls.h"
#include "util.h"

/* A name fit to be a user: printable, no control bytes, not empty. */
static int
user_ok(const unsigned char *s, int len, size_t max)
{
	if (len <= 0 || (size_t)len >= max)
		return 0;
	for (int i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* The certificate's CN, else its first DNS or email SAN, into out. */
static int
cert_name(X509 *x, char *out, size_t outlen)
{
	X509_NAME *subj = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1), n, ok;
	GENERAL_NAMES *sans;
	unsigned char *u8;

	if (i >= 0 && (n = ASN1_STRING_to_UTF8(&u8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(subj, i)))) >= 0) {
		if ((ok = user_ok(u8, n, outlen)))
			memcpy(out, u8, (size_t)n + 1);
		OPENSSL_free(u8);
		return ok ? 0 : -1;
	}
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0, ok = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS && g->type != GEN_EMAIL)
			continue;
		n = ASN1_STRING_length(g->d.ia5);
		if ((ok = user_ok(ASN1_STRING_get0_data(g->d.ia5), n, outlen)))
			memcpy(out, ASN1_STRING_get0_data(g->d.ia5), (size_t)n);
		out[ok ? n : 0] = '\0';
		break;
	}
	GENERAL_NAMES_free(sans);
	return ok ? 0 : -1;
}

/* After the handshake: a verified client certificate names the user. */
static void
peer_user(struct conn *c)
{
	X509 *x = SSL_get0_peer_certificate(c->tls);

	c->cert_user[0] = '\0';
	if (x == NULL || SSL_get_verify_result(c->tls) != X509_V_OK)
		return;
	if (cert_name(x, c->cert_user, sizeof(c->cert_user)) == -1) {
		c->cert_user[0] = '\0';
		log_info("%s: client certificate without a usable name",
		    c->addr);
		return;
	}
	log_info("%s: client certificate of %s", c->addr, c->cert_user);
}

int
tls_handshake(struct conn *c)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->tls)) == 1) {
		c->tls_want = 0;
		peer_user(c);
		return 1;
	}
	switch (SSL_get_error(c->tls, r)) {
	case SSL_ERROR_WANT_READ:
		c->tls_want = EV_READ;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->tls_want = EV_WRITE;
		return 0;
	}
	log_info("%s: TLS handshake failed: %s", c->addr,
	    ERR_peek_last_error() ? ERR_reason_error_string(
	    ERR_peek_last_error()) : "connection closed");
	ERR_clear_error();
	return -1;
}

/*
 * What SSL's result r of an operation that moves data in direction dir
 * means: 0 at the clean end, else -1 with errno.  Waiting for the other
 * direction (a read that must write) is noted in c->tls_want, and which
 * operation waits in c->tls_retry, so conn.c retries it then.
 */
static ssize_t
io_result(struct conn *c, int r, int dir)
{
	int want = 0;

	switch (SSL_get_error(c->tls, r)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
		want = EV_READ;
		break;
	case SSL_ERROR_WANT_WRITE:
		want = EV_WRITE;
		break;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EAGAIN)
			errno = ECONNRESET;
		ERR_clear_error();
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
	if (want != dir) {
		c->tls_want = want;
		c->tls_retry = dir;
	}
	errno = EAGAIN;
	return -1;
}

ssize_t
tls_read(struct conn *c, void *p, size_t len)
{
	int n;

	ERR_clear_error();
	n = SSL_read(c->tls, p, len > INT32_MAX ? INT32_MAX : (int)len);
	return n > 0 ? n : io_result(c, n, EV_READ);
}

ssize_t
tls_write(struct conn *c, const void *p, size_t len)
{
	int n;

	ERR_clear_error();
	n = SSL_write(c->tls, p, len > INT32_MAX ? INT32_MAX : (int)len);
	return n > 0 ? n : io_result(c, n, EV_WRITE);
}

int
tls_pending(const struct conn *c)
{
	return SSL_has_pending(c->tls);
}

/* Say close_notify once; what the client answers is lingered away. */
void
tls_shutdown(struct conn *c)
{
	ERR_clear_error();
	if (SSL_is_init_finished(c->tls))
		(void)SSL_shutdown(c->tls);
	ERR_clear_error();
}
