/*
 * htpasswd.c - Apache htpasswd files of bcrypt entries, as `htpasswd -B`
 * writes them ("name:$2y$10$<53 characters>").  authd parses and checks;
 * `regmaster user` parses, hashes and renders.  Only bcrypt is taken: the
 * other htpasswd formats (MD5-crypt, SHA-1, plain) are weak, so their lines
 * are skipped and counted, never verified.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "htpasswd.h"
#include "util.h"

#define BCRYPT_LEN	60	/* "$2y$" "10" "$" 22 salt + 31 hash */
#define BCRYPT_KEY_MAX	72	/* bytes of a password bcrypt uses */

struct byname {
	const char	*name;
	size_t		 i;
};

/* A valid user name: 1-255 bytes, no ':', no control characters, not
 * starting with '#' (Apache reads such a line as a comment). */
int
htpasswd_name_valid(const char *name)
{
	size_t i;

	if (name[0] == '#')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= HTPASSWD_NAME_MAX || name[i] == ':' ||
		    (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	}
	return i > 0;
}

/* 1 if c is in bcrypt's base64 alphabet. */
static int
bcrypt_char(int c)
{
	return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 1 if h[0..n) is a bcrypt hash of a variant we accept, cost 04-31. */
static int
bcrypt_valid(const char *h, size_t n)
{
	size_t i;
	int cost;

	if (n != BCRYPT_LEN || h[0] != '$' || h[1] != '2' ||
	    (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$' ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' ||
	    h[6] != '$')
		return 0;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return 0;
	for (i = 7; i < n; i++)
		if (!bcrypt_char((unsigned char)h[i]))
			return 0;
	return 1;
}

/* The password as bcrypt sees it: its first 72 bytes (libcrypt refuses
 * more than 512, where Apache's htpasswd would just ignore the rest). */
static const char *
bcrypt_key(const char *password, char buf[BCRYPT_KEY_MAX + 1])
{
	size_t n = strnlen(password, BCRYPT_KEY_MAX + 1);

	if (n <= BCRYPT_KEY_MAX)
		return password;
	memcpy(buf, password, BCRYPT_KEY_MAX);
	buf[BCRYPT_KEY_MAX] = '\0';
	return buf;
}

/* Append one entry to out and its line number to *lines, growing both
 * by doubling. */
static void
entry_add(struct htpasswd *out, size_t *cap, size_t **lines, size_t lineno,
    const char *name, size_t nlen, const char *hash, size_t hlen)
{
	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		out->e = xreallocarray(out->e, *cap, sizeof(*out->e));
		*lines = xreallocarray(*lines, *cap, sizeof(**lines));
	}
	(*lines)[out->n] = lineno;
	out->e[out->n].name = xstrndup(name, nlen);
	out->e[out->n].hash = xstrndup(hash, hlen);
	out->n++;
}

/* 1 if line[0..n) is "name:bcrypt" with a valid name; sets *colon. */
static int
line_valid(const char *line, size_t n, size_t *colon)
{
	const char *c;
	char name[HTPASSWD_NAME_MAX + 1];
	size_t nlen;

	if ((c = memchr(line, ':', n)) == NULL)
		return 0;
	nlen = (size_t)(c - line);
	if (nlen == 0 || nlen > HTPASSWD_NAME_MAX ||
	    memchr(line, '\0', nlen) != NULL)
		return 0;
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	*colon = nlen;
	return htpasswd_name_valid(name) &&
	    bcrypt_valid(c + 1, n - nlen - 1);
}

/* Count a skipped line, remembering the first one's number. */
static void
skip_line(size_t lineno, size_t *skipped, size_t *first_bad)
{
	if (skipped != NULL && (*skipped)++ == 0 && first_bad != NULL)
		*first_bad = lineno;
}

/* Order for dedup: by name, then by position in the file. */
static int
byname_cmp(const void *a, const void *b)
{
	const struct byname *x = a, *y = b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Drop every later line of a repeated name (sorting, so a file of many
 * users costs n log n, not n squared), counting them as skipped. */
static void
dedup(struct htpasswd *h, const size_t *lines, size_t *skipped,
    size_t *first_bad)
{
	struct byname *v;
	unsigned char *dup;
	size_t i, o, first = 0, ndup = 0;

	if (h->n < 2)
		return;
	v = xreallocarray(NULL, h->n, sizeof(*v));
	dup = xcalloc(h->n, 1);
	for (i = 0; i < h->n; i++) {
		v[i].name = h->e[i].name;
		v[i].i = i;
	}
	qsort(v, h->n, sizeof(*v), byname_cmp);
	for (i = 1; i < h->n; i++) {
		if (strcmp(v[i].name, v[i - 1].name) != 0)
			continue;
		if (ndup++ == 0 || lines[v[i].i] < first)
			first = lines[v[i].i];
		dup[v[i].i] = 1;
	}
	free(v);
	for (i = o = 0; i < h->n; i++) {
		if (dup[i]) {
			free(h->e[i].name);
			OPENSSL_cleanse(h->e[i].hash, strlen(h->e[i].hash));
			free(h->e[i].hash);
			continue;
		}
		h->e[o++] = h->e[i];
	}
	free(dup);
	h->n = o;
	if (ndup > 0 && skipped != NULL) {
		if (first_bad != NULL && (*skipped == 0 || first < *first_bad))
			*first_bad = first;
		*skipped += ndup;
	}
}

/* Parse a file's bytes into out (in file order; a repeated name keeps its
 * first line, as Apache's lookup does). */
int
htpasswd_parse(const char *data, size_t len, struct htpasswd *out,
    size_t *skipped, size_t *first_bad, char *err, size_t errlen)
{
	const char *p = data, *end = data + len, *nl;
	size_t n, colon, cap = 0, lineno = 0, *lines = NULL;

	memset(out, 0, sizeof(*out));
	if (skipped != NULL)
		*skipped = 0;
	if (first_bad != NULL)
		*first_bad = 0;
	if (len > HTPASSWD_MAX_FILE) {
		snprintf(err, errlen, "file larger than %d bytes",
		    HTPASSWD_MAX_FILE);
		return -1;
	}
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 || p[0] == '#')	/* blank or comment */
			continue;
		if (!line_valid(p, n, &colon)) {
			skip_line(lineno, skipped, first_bad);
			continue;
		}
		if (out->n == HTPASSWD_MAX_USERS) {
			snprintf(err, errlen, "more than %d users",
			    HTPASSWD_MAX_USERS);
			free(lines);
			htpasswd_clear(out);
			return -1;
		}
		entry_add(out, &cap, &lines, lineno, p, colon, p + colon + 1,
		    n - colon - 1);
	}
	dedup(out, lines, skipped, first_bad);
	free(lines);
	return 0;
}

/* Free every entry; h is empty afterwards. */
void
htpasswd_clear(struct htpasswd *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->e[i].name);
		OPENSSL_cleanse(h->e[i].hash, strlen(h->e[i].hash));
		free(h->e[i].hash);
	}
	free(h->e);
	h->e = NULL;
	h->n = 0;
}

/* The entry for name, or NULL; the first of the file, as Apache takes. */
const struct htpasswd_entry *
htpasswd_find(const struct htpasswd *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->e[i].name, name) == 0)
			return &h->e[i];
	return NULL;
}

/* 1 if password matches hash, 0 if not, -1 if hash is not bcrypt or
 * libcrypt refuses it.  The whole crypt output is compared in constant
 * time; crypt_data holds password-derived state, so it is wiped. */
int
htpasswd_check(const char *hash, const char *password)
{
	struct crypt_data *cd;
	char key[BCRYPT_KEY_MAX + 1];
	const char *r;
	size_t n = strlen(hash);
	int ok = -1;

	if (!bcrypt_valid(hash, n))
		return -1;
	cd = xcalloc(1, sizeof(*cd));
	r = crypt_rn(bcrypt_key(password, key), hash, cd, (int)sizeof(*cd));
	if (r != NULL && r[0] != '*' && strlen(r) == n)
		ok = CRYPTO_memcmp(r, hash, n) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	OPENSSL_cleanse(key, sizeof(key));
	free(cd);
	return ok;
}

/* Its salt and checksum, behind a "$2y$NN$" of the cost real entries have,
 * so an unknown user costs what a known one does. */
#define DUMMY_TAIL	"IqgP9KJenC4Tn0QTIdShsuU/zesZ1oyotcxJmgo6LEQtKGEpujWfO"

void
htpasswd_dummy(const char *h, char out[HTPASSWD_DUMMY_LEN])
{
	char c4 = '1', c5 = '0';

	if (h != NULL && strlen(h) == 60 && h[3] == '$' && h[6] == '$' &&
	    h[4] >= '0' && h[4] <= '3' && h[5] >= '0' && h[5] <= '9') {
		c4 = h[4];
		c5 = h[5];
	}
	(void)snprintf(out, HTPASSWD_DUMMY_LEN, "$2y$%c%c$%s", c4, c5,
	    DUMMY_TAIL);
}

/* A new "$2y$" hash of password at cost into out; 0 or -1. */
int
htpasswd_hash(const char *password, int cost, char *out, size_t len)
{
	struct crypt_data *cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], key[BCRYPT_KEY_MAX + 1];
	const char *r;
	int rc = -1;

	if (cost < 4 || cost > 31 || len < BCRYPT_LEN + 1)
		return -1;
	if (crypt_gensalt_rn("$2y$", (unsigned long)cost, NULL, 0, salt,
	    (int)sizeof(salt)) == NULL)
		return -1;
	cd = xcalloc(1, sizeof(*cd));
	r = crypt_rn(bcrypt_key(password, key), salt, cd, (int)sizeof(*cd));
	if (r != NULL && bcrypt_valid(r, strlen(r)) && r[2] == 'y') {
		memcpy(out, r, BCRYPT_LEN + 1);
		rc = 0;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	OPENSSL_cleanse(salt, sizeof(salt));
	OPENSSL_cleanse(key, sizeof(key));
	free(cd);
	return rc;
}

/* Render h as file text, one "name:hash\n" per entry (malloc'd). */
char *
htpasswd_format(const struct htpasswd *h, size_t *len)
{
	size_t i, n = 0, o = 0, a, b;
	char *s;

	for (i = 0; i < h->n; i++)
		n += strlen(h->e[i].name) + strlen(h->e[i].hash) + 2;
	s = xmalloc(n + 1);
	for (i = 0; i < h->n; i++) {
		a = strlen(h->e[i].name);
		b = strlen(h->e[i].hash);
		memcpy(s + o, h->e[i].name, a);
		s[o + a] = ':';
		memcpy(s + o + a + 1, h->e[i].hash, b);
		s[o + a + 1 + b] = '\n';
		o += a + b + 2;
	}
	s[o] = '\0';
	*len = o;
	return s;
}
