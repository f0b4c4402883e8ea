/*
 * cert.c - `regmaster cert --self-signed HOST...`: an EC P-256 key and a
 * self-signed X.509 v3 certificate for a first try of TLS, written where
 * the configuration points (the first tls.certificate and tls.key).  The
 * names and addresses given are its subjectAltNames (what clients check),
 * the first is its CN; it is valid for a year.  A docker host trusts it
 * as /etc/docker/certs.d/HOST:PORT/ca.crt.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "master.h"
#include "util.h"

#define CERT_DAYS	365
#define CERT_HOSTS_MAX	100
#define CERT_CN_MAX	64	/* ub-common-name, RFC 5280 */

/* Say how cert is called; exit status 2. */
static int
cert_usage(void)
{
	fprintf(stderr, "usage: regmaster [-c file] cert --self-signed "
	    "[--force] HOST...\n");
	return 2;
}

/* Say what OpenSSL failed at, with its reason. */
static int
cert_ssl_error(const char *what)
{
	unsigned long e = ERR_get_error();

	fprintf(stderr, "regmaster: %s: %s\n", what,
	    e ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
	return -1;
}

/* 1 if s is an IPv4 or IPv6 address. */
static int
host_is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* 1 if s is a DNS name a certificate may carry (an optional "*." first). */
static int
host_is_dns(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (strncmp(s, "*.", 2) == 0) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return 0;
	for (const char *p = s; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return 0;
			if (*p == '\0')
				return 1;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p == '-' && label > 0))
			label++;
		else
			return 0;
	}
}

/* The subjectAltName value "DNS:a,IP:b,..." of hosts (malloc'd). */
static char *
cert_san(char **hosts, int n)
{
	size_t len = 1, off = 0;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(hosts[i]) + 5;
	s = xmalloc(len);
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%s:%s",
		    i ? "," : "", host_is_ip(hosts[i]) ? "IP" : "DNS", hosts[i]);
	return s;
}

/* Add the v3 extension nid = value to x (self-signed: x is its issuer). */
static int
cert_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return cert_ssl_error(value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : cert_ssl_error("X509_add_ext");
}

/* Serial, validity, names and extensions of the certificate for hosts. */
static int
cert_fill(X509 *x, EVP_PKEY *key, char **hosts, int n)
{
	X509_NAME *name = X509_get_subject_name(x);
	BIGNUM *serial = BN_new();
	char *san = cert_san(hosts, n);
	int rc = -1;

	/* a random serial: two certificates made here never share one */
	if (serial == NULL || !BN_rand(serial, 127, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    !X509_set_version(x, 2) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) ==
	    NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)hosts[0], -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key)) {
		cert_ssl_error("certificate fields");
		goto done;
	}
	if (cert_ext(x, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    cert_ext(x, NID_key_usage, "critical,digitalSignature") == -1 ||
	    cert_ext(x, NID_ext_key_usage, "serverAuth") == -1 ||
	    cert_ext(x, NID_subject_key_identifier, "hash") == -1 ||
	    cert_ext(x, NID_authority_key_identifier, "keyid:always") == -1 ||
	    cert_ext(x, NID_subject_alt_name, san) == -1)
		goto done;
	if (!X509_sign(x, key, EVP_sha256()))
		cert_ssl_error("signing the certificate");
	else
		rc = 0;
done:
	BN_free(serial);
	free(san);
	return rc;
}

/* Write the PEM in bio to path with mode; -1 said. */
static int
cert_put(const char *path, BIO *bio, mode_t mode, int force)
{
	char *data, err[1400];
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0)
		return cert_ssl_error(path);
	if (file_replace(path, data, (size_t)len, mode, (gid_t)-1, !force,
	    err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "regmaster: %s%s\n", err, errno == EEXIST ?
	    " (--force replaces it)" : "");
	return -1;
}

/* Make the key and certificate and write both; -1 said. */
int
cert_make(const char *certpath, const char *keypath, char **hosts, int n,
    int force)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_secmem()), *cb = BIO_new(BIO_s_mem());
	int rc = -1;

	if (key == NULL || x == NULL || kb == NULL || cb == NULL) {
		cert_ssl_error("a P-256 key");
		goto done;
	}
	if (cert_fill(x, key, hosts, n) == -1)
		goto done;
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x)) {
		cert_ssl_error("PEM");
		goto done;
	}
	if (cert_put(keypath, kb, 0600, force) == -1)
		goto done;
	if (cert_put(certpath, cb, 0644, force) == -1) {
		if (!force)
			unlink(keypath);	/* ours alone: no half pair */
		goto done;
	}
	rc = 0;
done:
	BIO_free(kb);			/* secmem: cleansed as freed */
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* Every host a DNS name or an IP address, the first short enough for
 * a CN; 2 (usage) otherwise. */
static int
cert_hosts_check(char **hosts, int n)
{
	if (n < 1)
		return cert_usage();
	if (n > CERT_HOSTS_MAX) {
		fprintf(stderr, "regmaster: at most %d names\n",
		    CERT_HOSTS_MAX);
		return 2;
	}
	for (int i = 0; i < n; i++)
		if (!host_is_ip(hosts[i]) && !host_is_dns(hosts[i])) {
			fprintf(stderr, "regmaster: '%s' is neither a DNS name "
			    "nor an IP address\n", hosts[i]);
			return 2;
		}
	if (strlen(hosts[0]) > CERT_CN_MAX) {
		fprintf(stderr, "regmaster: '%s' is longer than a common name "
		    "may be (%d): name a shorter one first\n", hosts[0],
		    CERT_CN_MAX);
		return 2;
	}
	return 0;
}

/* regmaster cert --self-signed [--force] HOST...: argv[0] is "cert". */
int
cmd_cert(int argc, char **argv)
{
	char *const *certs, *const *keys;
	size_t ncert, nkey;
	int i = 1, force = 0, self = 0, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--self-signed") == 0)
			self = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else
			return cert_usage();
	}
	if (!self)
		return cert_usage();
	if ((rc = cert_hosts_check(argv + i, argc - i)) != 0)
		return rc;
	certs = conf_list(P_TLS_CERTIFICATE, &ncert);
	keys = conf_list(P_TLS_KEY, &nkey);
	if (ncert == 0 || nkey == 0) {
		fprintf(stderr, "regmaster: tls.certificate and tls.key are not "
		    "set in %s: they say where to write\n",
		    conf_current()->path ? conf_current()->path :
		    "the configuration");
		return 1;
	}
	if (!force && (access(certs[0], F_OK) == 0 ||
	    access(keys[0], F_OK) == 0)) {
		fprintf(stderr, "regmaster: %s exists (--force replaces it)\n",
		    access(keys[0], F_OK) == 0 ? keys[0] : certs[0]);
		return 1;
	}
	if (cert_make(certs[0], keys[0], argv + i, argc - i, force) == -1)
		return 1;
	printf("regmaster: wrote %s and %s, self-signed for %s, valid %d "
	    "days\n", keys[0], certs[0], argv[i], CERT_DAYS);
	return 0;
}
