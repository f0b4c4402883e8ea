/*
 * check_tls.c - what `regmaster check` says about the TLS files before a
 * start or reload would trip on them: every tls.certificate parses, its
 * tls.key matches it, it is not expired (a failure) and does not expire
 * within 30 days (a warning); tls.client_ca holds certificates, and
 * tls.client_crl revocation lists that are not out of date.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "master.h"

#define CHECK_EXPIRY_WARN_DAYS	30

/* Never ask for a passphrase: master has no terminal at start. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Say a problem of path with OpenSSL's reason; 1 (one problem). */
static int
tls_problem(const char *path, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	fprintf(stderr, "regmaster: %s: %s%s%s\n", path, what,
	    e ? ": " : "", e ? ERR_reason_error_string(e) : "");
	ERR_clear_error();
	return 1;
}

/* The certificates of a PEM stream: the first in *leaf (ours), how many in
 * *count; NULL, or what is wrong with the stream. */
static const char *
pem_certs_bio(BIO *b, X509 **leaf, int *count)
{
	X509 *x;
	unsigned long e;

	*leaf = NULL;
	*count = 0;
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (*leaf == NULL)
			*leaf = x;
		else
			X509_free(x);
		(*count)++;
	}
	e = ERR_peek_last_error();
	/* the end of the file reads as "no start line"; anything else is a
	 * broken block */
	if (*count > 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return NULL;
	}
	X509_free(*leaf);
	*leaf = NULL;
	return *count ? "a broken certificate after the first" :
	    "no PEM certificate in it";
}

/* pem_certs_bio of a file; 1 said if it cannot be read or is broken. */
static int
pem_certs(const char *path, X509 **leaf, int *count)
{
	BIO *b = BIO_new_file(path, "r");
	const char *why;

	*leaf = NULL;
	*count = 0;
	if (b == NULL)
		return tls_problem(path, "cannot read it");
	why = pem_certs_bio(b, leaf, count);
	BIO_free(b);
	return why ? tls_problem(path, why) : 0;
}

/* why = what and OpenSSL's reason; -1. */
static int
pair_problem(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	snprintf(why, whylen, "%s%s%s", what, e ? ": " : "",
	    e ? ERR_reason_error_string(e) : "");
	ERR_clear_error();
	return -1;
}

/*
 * One certificate chain and its private key, both PEM in memory: every
 * block parses and the key is the leaf's.  What master checks before it
 * uses a pair and what `check` says about the files.  0, or -1 with why
 * (the chain's fault: *keyfault 0; the key's: 1).
 */
int
tls_pair_check(const char *chain, size_t chainlen, const char *keypem,
    size_t keylen, int *keyfault, char *why, size_t whylen)
{
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	const char *bad;
	BIO *b;
	int n, rc = 0;

	*keyfault = 0;
	if ((b = BIO_new_mem_buf(chain, (int)chainlen)) == NULL)
		return pair_problem(why, whylen, "out of memory");
	bad = pem_certs_bio(b, &leaf, &n);
	BIO_free(b);
	if (bad)
		return pair_problem(why, whylen, bad);
	*keyfault = 1;
	if ((b = BIO_new_mem_buf(keypem, (int)keylen)) != NULL) {
		key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
		BIO_free(b);
	}
	if (key == NULL)
		rc = pair_problem(why, whylen, "no unencrypted PEM private key "
		    "in it");
	else if (X509_check_private_key(leaf, key) != 1)
		rc = pair_problem(why, whylen, "does not match the certificate "
		    "in its tls.certificate");
	ERR_clear_error();
	EVP_PKEY_free(key);		/* frees and cleanses the key */
	X509_free(leaf);
	return rc;
}

/* A notAfter as YYYY-MM-DD HH:MM UTC. */
static void
asn1_date(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, len, "(unreadable date)");
}

/* Expired: a failure; within 30 days or not yet valid: a warning. */
static int
check_expiry(const char *path, const X509 *x)
{
	const ASN1_TIME *na = X509_get0_notAfter(x);
	char date[64];
	int days, secs;

	asn1_date(na, date, sizeof(date));
	if (!ASN1_TIME_diff(&days, &secs, NULL, na))
		return tls_problem(path, "unreadable notAfter");
	if (days < 0 || secs < 0 || (days == 0 && secs == 0)) {
		fprintf(stderr, "regmaster: %s: expired on %s\n", path, date);
		return 1;
	}
	if (days < CHECK_EXPIRY_WARN_DAYS)
		fprintf(stderr, "regmaster: warning: %s: expires in %d day%s, "
		    "on %s\n", path, days, days == 1 ? "" : "s", date);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		fprintf(stderr, "regmaster: warning: %s: not valid before "
		    "its notBefore yet\n", path);
	return 0;
}

/* Warn about a private key others than its owner may read. */
static void
key_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077))
		fprintf(stderr, "regmaster: warning: %s: mode %04o lets others "
		    "than its owner read the key (only master reads it: "
		    "0600)\n", path, (unsigned)(st.st_mode & 07777));
}

/* One certificate and its key: parse, match, expiry. */
static int
check_pair(const char *certpath, const char *keypath)
{
	char *chain, *key, why[512];
	size_t clen, klen;
	X509 *leaf;
	int n, bad, keyfault;

	if ((bad = pem_certs(certpath, &leaf, &n)) != 0)
		return bad;
	bad = check_expiry(certpath, leaf);
	X509_free(leaf);
	if (file_read_all(certpath, TLS_PEM_MAX, &chain, &clen) == -1)
		return bad + tls_problem(certpath, "cannot read it");
	if (file_read_all(keypath, TLS_PEM_MAX, &key, &klen) == -1) {
		free(chain);
		return bad + tls_problem(keypath, "cannot read it");
	}
	key_mode(keypath);
	if (tls_pair_check(chain, clen, key, klen, &keyfault, why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "regmaster: %s: %s\n", keyfault ? keypath :
		    certpath, why);
		bad++;
	}
	OPENSSL_cleanse(key, klen);
	free(key);
	free(chain);
	return bad;
}

/* tls.client_ca, when set, holds at least one good certificate. */
static int
check_client_ca(void)
{
	const char *path = conf_str(P_TLS_CLIENT_CA);
	X509 *first;
	int n, bad;

	if (*path == '\0')
		return 0;
	bad = pem_certs(path, &first, &n);
	X509_free(first);
	return bad;
}

/* One revocation list: past its nextUpdate OpenSSL refuses every
 * certificate of its CA, so that is a failure. */
static int
check_crl_dates(const char *path, const X509_CRL *crl)
{
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
	char date[64];

	if (nu == NULL || X509_cmp_current_time(nu) > 0)
		return 0;
	asn1_date(nu, date, sizeof(date));
	fprintf(stderr, "regmaster: %s: a revocation list's next update was "
	    "due on %s: every client certificate of its CA is refused until "
	    "a new one is in place\n", path, date);
	return 1;
}

/* tls.client_crl, when set, needs tls.client_ca and holds CRLs. */
static int
check_client_crl(void)
{
	const char *path = conf_str(P_TLS_CLIENT_CRL);
	BIO *b;
	X509_CRL *crl;
	int n = 0, bad = 0;

	if (*path == '\0')
		return 0;
	if (*conf_str(P_TLS_CLIENT_CA) == '\0')
		return tls_problem(path, "tls.client_crl without "
		    "tls.client_ca");
	if ((b = BIO_new_file(path, "r")) == NULL)
		return tls_problem(path, "cannot read");
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		bad += check_crl_dates(path, crl);
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0)
		return tls_problem(path, "no revocation list in it");
	return bad;
}

/* Every TLS file the configuration names; the number of problems. */
int
check_tls_files(void)
{
	char *const *certs, *const *keys;
	size_t ncert, nkey, nlisten;
	int bad = 0;

	certs = conf_list(P_TLS_CERTIFICATE, &ncert);
	keys = conf_list(P_TLS_KEY, &nkey);
	(void)conf_list(P_HTTP_TLS_LISTEN, &nlisten);
	if (ncert != nkey) {
		fprintf(stderr, "regmaster: %zu tls.certificate but %zu tls.key:"
		    " they pair by order\n", ncert, nkey);
		bad++;
	}
	if (nlisten > 0 && (ncert == 0 || nkey == 0)) {
		fprintf(stderr, "regmaster: http.tls_listen needs tls.certificate"
		    " and tls.key (regmaster cert --self-signed HOST makes "
		    "a pair)\n");
		bad++;
	}
	for (size_t i = 0; i < ncert && i < nkey; i++)
		bad += check_pair(certs[i], keys[i]);
	return bad + check_client_ca() + check_client_crl();
}
