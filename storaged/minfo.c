/*
 * minfo.c - the facts of manifest blobs, shared by every repository linking
 * them: a hash table keyed by the raw digest (its first bytes are already
 * uniform), interned media and artifact types, and an LRU cache of bodies.
 * Only the event loop touches any of it, except minfo_parse_stored.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "index.h"
#include "log.h"
#include "oci.h"
#include "util.h"

#define ISTR_BUCKETS	256	/* media types are few; artifact types may be many */

/* A cached body, on the LRU list. */
struct cbody {
	struct cbody	*prev, *next;
	struct minfo	*m;
	char		 bytes[];
};

/* An interned string and how many facts use it. */
struct istr {
	struct istr	*next;
	size_t		 refs;
	char		 s[];
};

static struct minfo **htab;
static size_t hsize, hcount;
static struct istr *istrs[ISTR_BUCKETS];
static struct cbody *lru_head, *lru_tail;
static size_t cached_bytes;

/* --- keys --- */

static size_t
raw_len(unsigned alg)
{
	return digest_hexlen((enum digest_alg)alg) / 2;
}

/* Bytes to a struct digest. */
static void
raw_digest(unsigned alg, const uint8_t *raw, struct digest *d)
{
	static const char x[] = "0123456789abcdef";
	size_t n = raw_len(alg);

	d->alg = (enum digest_alg)alg;
	for (size_t i = 0; i < n; i++) {
		d->hex[2 * i] = x[raw[i] >> 4];
		d->hex[2 * i + 1] = x[raw[i] & 15];
	}
	d->hex[2 * n] = '\0';
}

void
key_of(const struct digest *d, struct dkey *k)
{
	memset(k, 0, sizeof(*k));
	k->alg = (uint8_t)d->alg;
	digest_raw(d, k->raw);
}

void
key_digest(const struct dkey *k, struct digest *d)
{
	raw_digest(k->alg, k->raw, d);
}

void
minfo_digest(const struct minfo *m, struct digest *d)
{
	raw_digest(m->alg, m->raw, d);
}

void
tag_digest(const struct itag *t, struct digest *d)
{
	const char *p = t->name + strlen(t->name) + 1;

	raw_digest((uint8_t)p[0], (const uint8_t *)p + 1, d);
}

/* The allocation of a tag called name pointing at d (see struct itag). */
char *
tag_alloc(const char *name, const struct digest *d)
{
	size_t len = strlen(name), n = raw_len(d->alg);
	char *p = xmalloc(len + 2 + n);

	memcpy(p, name, len + 1);
	p[len + 1] = (char)d->alg;
	digest_raw(d, (uint8_t *)p + len + 2);
	return p;
}

/* Order of m's digest against d: by algorithm, then bytes (which is the
 * order of the lowercase hex, the order pages are given in). */
int
minfo_cmp_digest(const struct minfo *m, const struct digest *d)
{
	struct dkey k;

	if (m->alg != (uint8_t)d->alg)
		return m->alg < (uint8_t)d->alg ? -1 : 1;
	key_of(d, &k);
	return memcmp(m->raw, k.raw, raw_len(m->alg));
}

/* 1 if m has subject d. */
int
minfo_subject_is(const struct minfo *m, const struct digest *d)
{
	struct dkey k;

	if (m->x == NULL || !m->x->has_subject)
		return 0;
	key_of(d, &k);
	return memcmp(&k, &m->x->subject, sizeof(k)) == 0;
}

const char *
minfo_annotations(const struct minfo *m)
{
	return m->x ? m->x->annotations : NULL;
}

/* --- interned strings --- */

static size_t
str_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h % ISTR_BUCKETS;
}

/* The shared copy of s, one more reference to it. */
static const char *
intern(const char *s)
{
	struct istr **b = &istrs[str_hash(s)], *i;
	size_t len = strlen(s);

	for (i = *b; i; i = i->next)
		if (strcmp(i->s, s) == 0) {
			i->refs++;
			return i->s;
		}
	i = xmalloc(sizeof(*i) + len + 1);
	memcpy(i->s, s, len + 1);
	i->refs = 1;
	i->next = *b;
	*b = i;
	return i->s;
}

/* One reference less to an interned string; freed at the last. */
static void
unintern(const char *s)
{
	struct istr **pp, *i;

	if (s == NULL)
		return;
	i = (struct istr *)(void *)(s - offsetof(struct istr, s));
	if (--i->refs > 0)
		return;
	for (pp = &istrs[str_hash(s)]; *pp; pp = &(*pp)->next)
		if (*pp == i) {
			*pp = i->next;
			break;
		}
	free(i);
}

/* --- the table --- */

static size_t
khash(unsigned alg, const uint8_t *raw)
{
	size_t h;

	memcpy(&h, raw, sizeof(h));
	return h ^ alg;
}

/* The facts of manifest d, or NULL. */
struct minfo *
minfo_find(const struct digest *d)
{
	struct minfo *m;
	struct dkey k;
	size_t n = raw_len(d->alg);

	if (hsize == 0)
		return NULL;
	key_of(d, &k);
	for (m = htab[khash(k.alg, k.raw) & (hsize - 1)]; m; m = m->hnext)
		if (m->alg == k.alg && memcmp(m->raw, k.raw, n) == 0)
			return m;
	return NULL;
}

/* Double the table when it gets as full as it is wide. */
static void
htab_grow(void)
{
	struct minfo **old = htab, *m, *next;
	size_t oldsize = hsize, i, b;

	hsize = hsize ? hsize * 2 : 1024;
	htab = xcalloc(hsize, sizeof(*htab));
	for (i = 0; i < oldsize; i++) {
		for (m = old[i]; m; m = next) {
			next = m->hnext;
			b = khash(m->alg, m->raw) & (hsize - 1);
			m->hnext = htab[b];
			htab[b] = m;
		}
	}
	free(old);
}

/* The subject and annotations of a new entry, if it has either. */
static void
minfo_extra(struct minfo *m, const char *annotations,
    const struct digest *subject)
{
	if (annotations && strlen(annotations) > ANNOT_INDEX_MAX) {
		m->annot_big = 1;
		annotations = NULL;
	}
	if (annotations == NULL && subject == NULL)
		return;
	m->x = xcalloc(1, sizeof(*m->x));
	if (annotations)
		m->x->annotations = xstrdup(annotations);
	if (subject) {
		m->x->has_subject = 1;
		key_of(subject, &m->x->subject);
	}
}

/* The entry for manifest d: the one known, else a new, unreferenced one
 * with these facts (manifest facts are content-addressed). */
struct minfo *
minfo_make(const struct digest *d, uint64_t size, const char *mediatype,
    const char *artifact_type, const char *annotations,
    const struct digest *subject)
{
	struct minfo *m;
	size_t b, n = raw_len(d->alg);

	if ((m = minfo_find(d)) != NULL)
		return m;
	if (hcount >= hsize)
		htab_grow();
	m = xcalloc(1, sizeof(*m) + n);
	m->alg = (uint8_t)d->alg;
	digest_raw(d, m->raw);
	m->size = size;
	m->mediatype = intern(mediatype);
	if (artifact_type)
		m->artifact_type = intern(artifact_type);
	minfo_extra(m, annotations, subject);
	b = khash(m->alg, m->raw) & (hsize - 1);
	m->hnext = htab[b];
	htab[b] = m;
	hcount++;
	return m;
}

/* minfo_make from a parsed manifest. */
struct minfo *
minfo_new(const struct digest *d, uint64_t size, const struct oci_manifest *pm)
{
	return minfo_make(d, size, pm->mediatype, pm->artifact_type,
	    pm->annotations_json, pm->has_subject ? &pm->subject.digest : NULL);
}

static void lru_unlink(struct cbody *);

/* Drop an entry no repository links any more. */
void
minfo_forget(struct minfo *m)
{
	struct minfo **pp;

	if (m->refs != 0)
		fatalx("forgetting a linked manifest");
	for (pp = &htab[khash(m->alg, m->raw) & (hsize - 1)]; *pp;
	    pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	hcount--;
	if (m->body)
		lru_unlink(m->body);
	unintern(m->mediatype);
	unintern(m->artifact_type);
	if (m->x)
		free(m->x->annotations);
	free(m->x);
	free(m);
}

size_t
minfo_count(void)
{
	return hcount;
}

/* Forget every entry, linked or not (index_free). */
void
minfo_free_all(void)
{
	for (size_t i = 0; i < hsize; i++)
		while (htab[i]) {
			htab[i]->refs = 0;
			minfo_forget(htab[i]);
		}
	free(htab);
	htab = NULL;
	hsize = hcount = 0;
}

/* --- parsing stored bodies (thread-safe) --- */

/* 1 if the JSON text nests at most OCI_JSON_DEPTH_MAX deep, so jansson's
 * recursive parser is safe on a blob we did not validate ourselves. */
static int
json_depth_ok(const char *s, size_t len)
{
	int depth = 0, instr = 0;

	for (size_t i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
		} else if (s[i] == '"')
			instr = 1;
		else if ((s[i] == '[' || s[i] == '{') &&
		    ++depth > OCI_JSON_DEPTH_MAX)
			return 0;
		else if ((s[i] == ']' || s[i] == '}') && depth > 0)
			depth--;
	}
	return 1;
}

/* Media type of a stored body the parser refuses (Docker schema1 from an
 * old registry, an unknown type): its mediaType, else by its look. */
static void
mediatype_guess(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root, *j;

	(void)str_copy(out, "application/octet-stream", outlen);
	if (!json_depth_ok(body, len) ||
	    (root = json_loadb(body, len, 0, NULL)) == NULL)
		return;
	if (json_is_string(j = json_object_get(root, "mediaType")) &&
	    oci_mediatype_valid(json_string_value(j)))
		(void)str_copy(out, json_string_value(j), outlen);
	else if (json_integer_value(json_object_get(root,
	    "schemaVersion")) == 1)
		(void)str_copy(out, json_object_get(root, "signatures") ?
		    MT_DOCKER_SCHEMA1_SIGNED : MT_DOCKER_SCHEMA1, outlen);
	json_decref(root);
}

/* Parse a stored body; on failure guess its media type into mtfallback. */
int
minfo_parse_stored(const char *body, size_t len, struct oci_manifest *m,
    char *mtfallback, size_t mtlen)
{
	char err[256];

	if (oci_manifest_parse(body, len, NULL, m, err, sizeof(err)) == 0)
		return 0;
	mediatype_guess(body, len, mtfallback, mtlen);
	return -1;
}

/* --- body cache --- */

/* Drop a cached body and take it off the LRU list. */
static void
lru_unlink(struct cbody *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		lru_tail = c->prev;
	cached_bytes -= c->m->size;
	c->m->body = NULL;
	free(c);
}

/* Make c the most recently used cached body. */
static void
lru_push_front(struct cbody *c)
{
	c->prev = NULL;
	c->next = lru_head;
	if (lru_head)
		lru_head->prev = c;
	lru_head = c;
	if (lru_tail == NULL)
		lru_tail = c;
}

/* The cached body of m (size m->size), NULL if not cached. */
const char *
cache_get(struct minfo *m)
{
	struct cbody *c = m->body;

	if (c == NULL)
		return NULL;
	if (lru_head != c) {
		/* move to the front without freeing */
		c->prev->next = c->next;
		if (c->next)
			c->next->prev = c->prev;
		else
			lru_tail = c->prev;
		lru_push_front(c);
	}
	return c->bytes;
}

/* Keep a copy of body, evicting the least recently used beyond budget. */
void
cache_put(struct minfo *m, const char *body, size_t len)
{
	struct cbody *c;

	if (m->body != NULL || len != m->size || len > CACHE_ITEM_MAX)
		return;
	while (lru_tail && cached_bytes + len > CACHE_BUDGET)
		lru_unlink(lru_tail);
	c = xmalloc(sizeof(*c) + (len ? len : 1));
	memcpy(c->bytes, body, len);
	c->m = m;
	m->body = c;
	cached_bytes += len;
	lru_push_front(c);
}

/* Bytes of manifest bodies cached now. */
size_t
cache_used(void)
{
	return cached_bytes;
}
