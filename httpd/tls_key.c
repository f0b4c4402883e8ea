/*
 * tls_key.c - the private key httpd does not have.  Each certificate's
 * key is its public key with an EC_KEY_METHOD or RSA_METHOD whose private
 * operation asks authd over the ca channel, synchronously and with a
 * bounded wait, as OpenBSD relayd's and smtpd's ca.c do: a memory
 * disclosure in httpd then leaks no key.  A failed or late answer fails
 * the handshake, nothing more.
 *
 * These low-level methods are deprecated in OpenSSL 3 but present, and
 * OpenSSL 3 runs a key with a method of its own ("foreign") through the
 * legacy path that calls them; a provider would be the heavier way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "log.h"
#include "msg.h"
#include "tls.h"
#include "util.h"

#define CA_TIMEOUT_MS	2000

static int ca_fd = -1;
static uint32_t ca_seq;
static int ec_index = -1, rsa_index = -1;
static EC_KEY_METHOD *ec_method;
static RSA_METHOD *rsa_method;

void
tls_key_channel(int fd)
{
	if (ca_fd != -1)
		close(ca_fd);
	ca_fd = fd;
}

/* Send one M_TLS_SIGN; its id, 0 if it could not go. */
static uint32_t
ca_send(uint64_t keyid, int op, int pad, const void *in, size_t inlen)
{
	struct msgb mb;
	uint32_t id = ++ca_seq ? ca_seq : ++ca_seq;
	ssize_t n;

	msgb_init(&mb, M_TLS_SIGN);
	msgb_u64(&mb, A_KEYID, keyid);
	msgb_u64(&mb, A_CODE, (uint64_t)op);
	if (pad)
		msgb_u64(&mb, A_FLAGS, (uint64_t)pad);
	msgb_bytes(&mb, A_BODY, in, inlen);
	msgb_finish(&mb, id, 0);
	n = msg_sendfd(ca_fd, mb.b.data, mb.b.len, NULL, 0);
	msgb_free(&mb);
	return n == -1 ? 0 : id;
}

/* The answer to request id within the deadline: its signature into out;
 * the length, or -1. */
static int
ca_wait(uint32_t id, unsigned char *out, size_t outmax)
{
	static char frame[MSG_MAXFRAME];
	struct msg m;

	if (msg_wait_reply(ca_fd, id, CA_TIMEOUT_MS, frame, &m) == -1 ||
	    m.type != M_TLS_SIGNED || m.v[A_BODY].len > outmax)
		return -1;
	memcpy(out, m.v[A_BODY].p, m.v[A_BODY].len);
	return (int)m.v[A_BODY].len;
}

/* authd's private-key operation on in; its output's length or -1. */
static int
ca_call(uint64_t keyid, int op, int pad, const void *in, size_t inlen,
    unsigned char *out, size_t outmax)
{
	uint32_t id;
	int n;

	if (ca_fd == -1) {
		log_warnx("TLS handshake: no channel to authd");
		return -1;
	}
	if ((id = ca_send(keyid, op, pad, in, inlen)) == 0 ||
	    (n = ca_wait(id, out, outmax)) == -1) {
		log_warnx("TLS handshake: authd did not sign with key "
		    "%llu.%llu", (unsigned long long)(keyid >> 8),
		    (unsigned long long)(keyid & 0xff));
		return -1;
	}
	return n;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	uint64_t keyid = (uint64_t)(uintptr_t)EC_KEY_get_ex_data(ec, ec_index);
	int n;

	if (keyid == 0 || dlen <= 0)
		return 0;
	n = ca_call(keyid, TLS_OP_ECDSA_SIGN, 0, dgst, (size_t)dlen, sig,
	    (size_t)ECDSA_size(ec));
	if (n <= 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[256];
	const unsigned char *p = der;
	unsigned int len;

	if ((size_t)ECDSA_size(ec) > sizeof(der) ||
	    !ec_sign(0, dgst, dlen, der, &len, kinv, r, ec))
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	uint64_t keyid = (uint64_t)(uintptr_t)RSA_get_ex_data(rsa, rsa_index);

	if (keyid == 0 || flen <= 0)
		return -1;
	return ca_call(keyid, TLS_OP_RSA_PRIVATE, padding, from, (size_t)flen,
	    to, (size_t)RSA_size(rsa));
}

/* No RSA key exchange is offered (ECDHE only): nothing to decrypt. */
static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	return -1;
}

static void
methods_init(void)
{
	if (ec_method != NULL)
		return;
	ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ec_method = EC_KEY_METHOD_new(EC_KEY_get_default_method());
	rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
	if (ec_index == -1 || rsa_index == -1 || ec_method == NULL ||
	    rsa_method == NULL)
		fatalx("TLS key methods: out of memory");
	EC_KEY_METHOD_set_sign(ec_method, ec_sign, NULL, ec_sign_sig);
	RSA_meth_set1_name(rsa_method, "regmaster authd");
	RSA_meth_set_priv_enc(rsa_method, rsa_priv_enc);
	RSA_meth_set_priv_dec(rsa_method, rsa_priv_dec);
	RSA_meth_set_flags(rsa_method, RSA_meth_get_flags(rsa_method) |
	    RSA_FLAG_EXT_PKEY);
}

/* An EVP_PKEY of a copy of pub's EC key, signing through authd. */
static EVP_PKEY *
remote_ec(EVP_PKEY *pub, uint64_t keyid)
{
	EC_KEY *orig = EVP_PKEY_get1_EC_KEY(pub), *ec;
	EVP_PKEY *pk = NULL;

	/* a copy: the certificate's own key must keep its method */
	ec = orig ? EC_KEY_dup(orig) : NULL;
	EC_KEY_free(orig);
	if (ec && EC_KEY_set_method(ec, ec_method) == 1 &&
	    EC_KEY_set_ex_data(ec, ec_index, (void *)(uintptr_t)keyid) == 1 &&
	    (pk = EVP_PKEY_new()) != NULL && EVP_PKEY_set1_EC_KEY(pk, ec) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EC_KEY_free(ec);
	return pk;
}

static EVP_PKEY *
remote_rsa(EVP_PKEY *pub, uint64_t keyid)
{
	RSA *orig = EVP_PKEY_get1_RSA(pub), *rsa;
	EVP_PKEY *pk = NULL;

	rsa = orig ? RSAPublicKey_dup(orig) : NULL;
	RSA_free(orig);
	if (rsa && RSA_set_method(rsa, rsa_method) == 1 &&
	    RSA_set_ex_data(rsa, rsa_index, (void *)(uintptr_t)keyid) == 1 &&
	    (pk = EVP_PKEY_new()) != NULL && EVP_PKEY_set1_RSA(pk, rsa) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	RSA_free(rsa);
	return pk;
}

EVP_PKEY *
tls_key_remote(X509 *leaf, uint64_t keyid)
{
	EVP_PKEY *pub = X509_get0_pubkey(leaf), *pk = NULL;

	methods_init();
	if (pub != NULL && EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC)
		pk = remote_ec(pub, keyid);
	else if (pub != NULL && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		pk = remote_rsa(pub, keyid);
	else
		log_warnx("certificate %llu.%llu: neither an EC nor an RSA key",
		    (unsigned long long)(keyid >> 8),
		    (unsigned long long)(keyid & 0xff));
	ERR_clear_error();
	return pk;
}
