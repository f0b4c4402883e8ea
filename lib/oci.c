/*
 * oci.c - the OCI distribution spec's names and tags, manifest parsing and
 * validation (OCI image manifest and index, Docker schema2 manifest and
 * manifest list), the JSON bodies the API answers with, and Accept matching.
 * Everything here reads untrusted client input: lengths are bounded before
 * anything is scanned and JSON nesting is bounded before jansson recurses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digest.h"
#include "log.h"
#include "oci.h"
#include "util.h"

static const struct {
	const char	*mt;
	enum oci_kind	 kind;
} known_mts[] = {
	{ MT_OCI_MANIFEST,	OCI_KIND_MANIFEST },
	{ MT_DOCKER_MANIFEST,	OCI_KIND_MANIFEST },
	{ MT_OCI_INDEX,		OCI_KIND_INDEX },
	{ MT_DOCKER_LIST,	OCI_KIND_INDEX },
};

/* 1 if c is in [a-z0-9], the only characters of name components. */
static int
is_lalnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 1 if c is in [a-zA-Z0-9]. */
static int
is_alnum(int c)
{
	return is_lalnum(c) || (c >= 'A' && c <= 'Z');
}

/* ASCII lowercase, independent of locale. */
static int
to_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Consume one path component [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* at *pp. */
static int
name_component(const char **pp)
{
	const char *p = *pp;

	if (!is_lalnum((unsigned char)*p))
		return 0;
	for (;;) {
		while (is_lalnum((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '/')
			break;
		if (*p == '.')
			p++;
		else if (*p == '_')
			p += p[1] == '_' ? 2 : 1;
		else if (*p == '-')
			while (*p == '-')
				p++;
		else
			return 0;
		if (!is_lalnum((unsigned char)*p))
			return 0;
	}
	*pp = p;
	return 1;
}

/* 1 if name is a repository name: components joined by single '/'. */
int
oci_name_valid(const char *name)
{
	const char *p = name;
	size_t n;

	n = strnlen(name, OCI_NAME_MAX + 1);
	if (n == 0 || n > OCI_NAME_MAX)
		return 0;
	for (;;) {
		if (!name_component(&p))
			return 0;
		if (*p == '\0')
			return 1;
		p++;
	}
}

/* 1 if tag matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. */
int
oci_tag_valid(const char *tag)
{
	size_t n, i;

	n = strnlen(tag, OCI_TAG_MAX + 1);
	if (n == 0 || n > OCI_TAG_MAX)
		return 0;
	if (!is_alnum((unsigned char)tag[0]) && tag[0] != '_')
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alnum((unsigned char)tag[i]) && tag[i] != '.' &&
		    tag[i] != '_' && tag[i] != '-')
			return 0;
	return 1;
}

/* 1 if c may follow the first character of an RFC 6838 restricted-name. */
static int
is_mtchar(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$&-^_.+", c) != NULL);
}

/* Length of the restricted-name at s (1..127 chars), 0 if there is none. */
static size_t
mt_name(const char *s)
{
	size_t i;

	if (!is_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < 127 && is_mtchar((unsigned char)s[i]); i++)
		;
	return i;
}

/* 1 if mt is type "/" subtype as the image-spec schema allows. */
int
oci_mediatype_valid(const char *mt)
{
	size_t n;

	if ((n = mt_name(mt)) == 0 || mt[n] != '/')
		return 0;
	mt += n + 1;
	if ((n = mt_name(mt)) == 0 || mt[n] != '\0')
		return 0;
	return 1;
}

static int	fail(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Replace bytes outside printable ASCII so s is safe in logs and JSON. */
static void
ascii_only(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* Store a formatted reason (printable ASCII) in err, if any; return rc. */
static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		ascii_only(err);
	}
	return rc;
}

/*
 * 1 if body's [ / { nesting stays within OCI_JSON_DEPTH_MAX and it holds at
 * most OCI_JSON_VALUES_MAX values (containers plus commas, strings skipped).
 * Checked before jansson sees the text: its parser recurses, and a 4 MiB
 * body of tiny values would cost it a hundred times that in memory.
 */
static int
json_shape_ok(const char *body, size_t len)
{
	size_t i, values = 1;
	int depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (body[i] == '\\')
				i++;
			else if (body[i] == '"')
				instr = 0;
			continue;
		}
		switch (body[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > OCI_JSON_DEPTH_MAX)
				return 0;
			values++;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		case ',':
			values++;
			break;
		}
		if (values > OCI_JSON_VALUES_MAX)
			return 0;
	}
	return 1;
}

/* Compact text of an annotations object (string values only) in *out. */
static int
annotations_dump(json_t *o, const char *where, char **out, char *err,
    size_t errlen)
{
	const char *key;
	json_t *v;

	*out = NULL;
	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return fail(err, errlen, -1, "%s annotations: not an object",
		    where);
	json_object_foreach(o, key, v) {
		if (!json_is_string(v))
			return fail(err, errlen, -1,
			    "%s annotations: value of \"%.64s\" not a string",
			    where, key);
	}
	if ((*out = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("json_dumps failed");
	return 0;
}

/* Copy the media type string j into out, which holds OCI_MEDIATYPE_MAX. */
static int
mediatype_get(json_t *j, const char *where, const char *field, char *out,
    char *err, size_t errlen)
{
	const char *s;

	if (!json_is_string(j))
		return fail(err, errlen, -1, "%s: %s missing or not a string",
		    where, field);
	s = json_string_value(j);
	if (json_string_length(j) > OCI_MEDIATYPE_MAX ||
	    !oci_mediatype_valid(s))
		return fail(err, errlen, -1, "%s: %s is not a media type",
		    where, field);
	if (str_copy(out, s, OCI_MEDIATYPE_MAX + 1) == -1)
		fatalx("media type length check broken");
	return 0;
}

/* Optional artifactType of o in *out (malloc'd), NULL when absent. */
static int
artifact_type_get(json_t *o, const char *where, char **out, char *err,
    size_t errlen)
{
	char mt[OCI_MEDIATYPE_MAX + 1];
	json_t *j;

	*out = NULL;
	if ((j = json_object_get(o, "artifactType")) == NULL)
		return 0;
	if (mediatype_get(j, where, "artifactType", mt, err, errlen) == -1)
		return -1;
	*out = xstrdup(mt);
	return 0;
}

/* 1 if u is an http or https URL without a fragment, as Distribution
 * wants the urls of a layer that is fetched from elsewhere. */
static int
url_fetchable(const char *u)
{
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	return strchr(u, '#') == NULL && u[strcspn(u, ":") + 3] != '\0';
}

/* Check the optional descriptor fields this parser does not keep, noting
 * in d whether urls is a non-empty list of fetchable URLs. */
static int
desc_extras_ok(json_t *o, const char *where, struct oci_desc *d, char *err,
    size_t errlen)
{
	json_t *j, *u;
	size_t i;

	if ((j = json_object_get(o, "urls")) != NULL) {
		if (!json_is_array(j))
			return fail(err, errlen, -1, "%s: urls not an array",
			    where);
		d->has_urls = json_array_size(j) > 0;
		json_array_foreach(j, i, u) {
			if (!json_is_string(u))
				return fail(err, errlen, -1,
				    "%s: urls[%zu] not a string", where, i);
			if (!url_fetchable(json_string_value(u)))
				d->has_urls = 0;
		}
	}
	if ((j = json_object_get(o, "platform")) != NULL && !json_is_object(j))
		return fail(err, errlen, -1, "%s: platform not an object",
		    where);
	if ((j = json_object_get(o, "data")) != NULL && !json_is_string(j))
		return fail(err, errlen, -1, "%s: data not a string", where);
	return 0;
}

/* Fill d from the descriptor object o; d holds nothing on error. */
static int
desc_parse(json_t *o, const char *where, struct oci_desc *d, char *err,
    size_t errlen)
{
	json_t *j;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return fail(err, errlen, -1, "%s: not an object", where);
	if (mediatype_get(json_object_get(o, "mediaType"), where, "mediaType",
	    d->mediatype, err, errlen) == -1)
		return -1;
	if (!json_is_string(j = json_object_get(o, "digest")))
		return fail(err, errlen, -1, "%s: digest missing or not a string",
		    where);
	if ((rc = digest_parse(json_string_value(j), &d->digest)) == -2)
		return fail(err, errlen, -2, "%s: unsupported digest algorithm",
		    where);
	if (rc != 0)
		return fail(err, errlen, -1, "%s: invalid digest", where);
	if (!json_is_integer(j = json_object_get(o, "size")))
		return fail(err, errlen, -1, "%s: size missing or not an integer",
		    where);
	if ((d->size = json_integer_value(j)) < 0)
		return fail(err, errlen, -1, "%s: negative size", where);
	if (desc_extras_ok(o, where, d, err, errlen) == -1)
		return -1;
	if (artifact_type_get(o, where, &d->artifact_type, err, errlen) == -1)
		return -1;
	if (annotations_dump(json_object_get(o, "annotations"), where,
	    &d->annotations_json, err, errlen) == -1) {
		oci_desc_clear(d);
		return -1;
	}
	return 0;
}

/* Parse the descriptor array a (layers or manifests) into m->refs. */
static int
refs_parse(json_t *a, const char *field, struct oci_manifest *m, char *err,
    size_t errlen)
{
	char where[32];
	size_t i, cap = 0;
	json_t *o;
	int rc;

	if (!json_is_array(a))
		return fail(err, errlen, -1, "%s missing or not an array", field);
	/* Grow as descriptors pass, so "[{},{},...]" cannot make us allocate. */
	json_array_foreach(a, i, o) {
		if (m->nrefs == cap) {
			cap = cap ? cap * 2 : 8;
			m->refs = xreallocarray(m->refs, cap, sizeof(*m->refs));
		}
		(void)snprintf(where, sizeof(where), "%s[%zu]", field, i);
		if ((rc = desc_parse(o, where, &m->refs[i], err, errlen)) != 0)
			return rc;
		m->nrefs++;
	}
	return 0;
}

/*
 * The Content-Type's media type, lowercased and without parameters, in out.
 * 1 present, 0 absent or empty, -1 not a media type.
 */
static int
content_type_get(const char *ct, char *out, size_t outlen)
{
	size_t n, i;

	if (ct == NULL)
		return 0;
	ct += strspn(ct, " \t");
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	if (n >= outlen)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)to_lower((unsigned char)ct[i]);
	out[n] = '\0';
	return oci_mediatype_valid(out) ? 1 : -1;
}

/* Index into known_mts of mt, -1 if unknown. */
static int
known_mt(const char *mt)
{
	size_t i;

	for (i = 0; i < nitems(known_mts); i++)
		if (strcmp(known_mts[i].mt, mt) == 0)
			return (int)i;
	return -1;
}

/* Effective media type in m->mediatype: body's, else Content-Type's, or "". */
static int
effective_mt(json_t *root, const char *content_type, struct oci_manifest *m,
    char *err, size_t errlen)
{
	char ct[OCI_MEDIATYPE_MAX + 1];
	json_t *j;
	int have;

	m->mediatype[0] = '\0';
	if ((have = content_type_get(content_type, ct, sizeof(ct))) == -1)
		return fail(err, errlen, -1, "Content-Type is not a media type");
	if ((j = json_object_get(root, "mediaType")) != NULL) {
		if (mediatype_get(j, "manifest", "mediaType", m->mediatype,
		    err, errlen) == -1)
			return -1;
		if (have && strcmp(ct, m->mediatype) != 0)
			return fail(err, errlen, -1,
			    "mediaType does not match Content-Type");
	} else if (have)
		(void)str_copy(m->mediatype, ct, sizeof(m->mediatype));
	if (strcmp(m->mediatype, MT_DOCKER_SCHEMA1) == 0 ||
	    strcmp(m->mediatype, MT_DOCKER_SCHEMA1_SIGNED) == 0)
		return fail(err, errlen, -2,
		    "Docker schema1 manifests are not supported");
	if (m->mediatype[0] != '\0' && known_mt(m->mediatype) == -1)
		return fail(err, errlen, -2, "unsupported manifest media type");
	return 0;
}

/* Check schemaVersion is 2; untyped schemaVersion 1 is schema1 (-2). */
static int
schema_version_check(json_t *root, const struct oci_manifest *m, char *err,
    size_t errlen)
{
	json_t *j;

	if (!json_is_integer(j = json_object_get(root, "schemaVersion")))
		return fail(err, errlen, -1,
		    "schemaVersion missing or not an integer");
	if (json_integer_value(j) == 1 && m->mediatype[0] == '\0')
		return fail(err, errlen, -2,
		    "Docker schema1 manifests are not supported");
	if (json_integer_value(j) != 2)
		return fail(err, errlen, -1, "schemaVersion must be 2");
	return 0;
}

/* Set m->kind from the media type, or for an untyped body from its fields. */
static int
kind_pick(json_t *root, struct oci_manifest *m, char *err, size_t errlen)
{
	int has_idx, has_img, k;

	if (m->mediatype[0] != '\0') {
		if ((k = known_mt(m->mediatype)) == -1)
			fatalx("unknown media type passed the check");
		m->kind = known_mts[k].kind;
		return 0;
	}
	has_idx = json_object_get(root, "manifests") != NULL;
	has_img = json_object_get(root, "config") != NULL &&
	    json_object_get(root, "layers") != NULL;
	if (has_idx == has_img)
		return fail(err, errlen, -1,
		    "no mediaType and not clearly a manifest or an index");
	m->kind = has_idx ? OCI_KIND_INDEX : OCI_KIND_MANIFEST;
	(void)str_copy(m->mediatype, has_idx ? MT_OCI_INDEX : MT_OCI_MANIFEST,
	    sizeof(m->mediatype));
	return 0;
}

/* Fill config and layers of an image (CVE-2021-41190: no manifests). */
static int
image_parse(json_t *root, struct oci_manifest *m, char *err, size_t errlen)
{
	int rc;

	if (json_object_get(root, "manifests") != NULL)
		return fail(err, errlen, -1,
		    "image manifest must not have manifests");
	if (json_object_get(root, "config") == NULL)
		return fail(err, errlen, -1, "config missing");
	if ((rc = desc_parse(json_object_get(root, "config"), "config",
	    &m->config, err, errlen)) != 0)
		return rc;
	m->has_config = 1;
	return refs_parse(json_object_get(root, "layers"), "layers", m, err,
	    errlen);
}

/* Fill the manifests of an index (CVE-2021-41190: no config or layers). */
static int
index_parse(json_t *root, struct oci_manifest *m, char *err, size_t errlen)
{
	if (json_object_get(root, "config") != NULL ||
	    json_object_get(root, "layers") != NULL)
		return fail(err, errlen, -1,
		    "index must not have config or layers");
	return refs_parse(json_object_get(root, "manifests"), "manifests", m,
	    err, errlen);
}

/* Fill m from the parsed top-level object root. */
static int
manifest_fill(json_t *root, const char *content_type, struct oci_manifest *m,
    char *err, size_t errlen)
{
	json_t *j;
	int rc;

	if ((rc = effective_mt(root, content_type, m, err, errlen)) != 0 ||
	    (rc = schema_version_check(root, m, err, errlen)) != 0 ||
	    (rc = kind_pick(root, m, err, errlen)) != 0)
		return rc;
	rc = m->kind == OCI_KIND_INDEX ? index_parse(root, m, err, errlen) :
	    image_parse(root, m, err, errlen);
	if (rc != 0)
		return rc;
	if ((j = json_object_get(root, "subject")) != NULL) {
		if ((rc = desc_parse(j, "subject", &m->subject, err,
		    errlen)) != 0)
			return rc;
		m->has_subject = 1;
	}
	if (artifact_type_get(root, "manifest", &m->artifact_type, err,
	    errlen) == -1)
		return -1;
	if (m->artifact_type == NULL && m->has_config)
		m->artifact_type = xstrdup(m->config.mediatype);
	return annotations_dump(json_object_get(root, "annotations"),
	    "manifest", &m->annotations_json, err, errlen);
}

/* Parse and validate a manifest body as a client PUTs it. */
int
oci_manifest_parse(const char *body, size_t len, const char *content_type,
    struct oci_manifest *m, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(m, 0, sizeof(*m));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > OCI_MANIFEST_MAX)
		return fail(err, errlen, -1, "manifest larger than %d bytes",
		    OCI_MANIFEST_MAX);
	if (body == NULL || len == 0)
		return fail(err, errlen, -1, "empty manifest");
	if (!json_shape_ok(body, len))
		return fail(err, errlen, -1,
		    "JSON nested too deeply or too many values");
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		return fail(err, errlen, -1, "invalid JSON: %.80s",
		    jerr.text);
	if (!json_is_object(root))
		rc = fail(err, errlen, -1, "manifest is not a JSON object");
	else
		rc = manifest_fill(root, content_type, m, err, errlen);
	json_decref(root);
	if (rc != 0)
		oci_manifest_free(m);
	return rc;
}

/* Layer media types that Distribution lets live elsewhere, given urls:
 * Docker's foreign layers and OCI's non-distributable ones. */
static const char *const external_mts[] = {
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

/* 1 if a manifest may reference layer d without the registry holding it:
 * exact media types only (a type that merely contains "foreign" is an
 * ordinary layer), and only with urls to fetch it from. */
int
oci_layer_external(const struct oci_desc *d)
{
	size_t i;

	if (!d->has_urls)
		return 0;
	for (i = 0; i < nitems(external_mts); i++)
		if (strcmp(d->mediatype, external_mts[i]) == 0)
			return 1;
	return 0;
}

/* Free what a descriptor holds and zero it. */
void
oci_desc_clear(struct oci_desc *d)
{
	free(d->artifact_type);
	free(d->annotations_json);
	memset(d, 0, sizeof(*d));
}

/* Free what a parsed manifest holds and zero it. */
void
oci_manifest_free(struct oci_manifest *m)
{
	size_t i;

	for (i = 0; i < m->nrefs; i++)
		oci_desc_clear(&m->refs[i]);
	free(m->refs);
	oci_desc_clear(&m->config);
	oci_desc_clear(&m->subject);
	free(m->artifact_type);
	free(m->annotations_json);
	memset(m, 0, sizeof(*m));
}

/* Set key of o to v (taking v); 0 ok, -1 if v is NULL or the set fails. */
static int
jset(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

/* Append v to array a (taking v); 0 ok, -1 if v is NULL or the append fails. */
static int
jappend(json_t *a, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_array_append_new(a, v) == 0 ? 0 : -1;
}

/* Compact text of j, malloc'd; consumes j; NULL if j is NULL. */
static char *
jdump(json_t *j)
{
	char *s;

	if (j == NULL)
		return NULL;
	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("json_dumps failed");
	json_decref(j);
	return s;
}

/* The JSON object text s, NULL if it is anything else. */
static json_t *
object_load(const char *s)
{
	json_t *j;
	size_t n;

	n = strnlen(s, OCI_MANIFEST_MAX + 1);
	if (n > OCI_MANIFEST_MAX || !json_shape_ok(s, n) ||
	    (j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A descriptor as a JSON object, NULL if its strings are not representable. */
static json_t *
desc_json(const struct oci_desc *d)
{
	char dg[DIGEST_STRMAX];
	json_t *o;

	if ((o = json_object()) == NULL)
		fatalx("json_object failed");
	if (digest_format(&d->digest, dg, sizeof(dg)) == -1 ||
	    jset(o, "mediaType", json_string(d->mediatype)) == -1 ||
	    jset(o, "digest", json_string(dg)) == -1 ||
	    jset(o, "size", json_integer(d->size)) == -1)
		goto bad;
	if (d->artifact_type != NULL &&
	    jset(o, "artifactType", json_string(d->artifact_type)) == -1)
		goto bad;
	if (d->annotations_json != NULL &&
	    jset(o, "annotations", object_load(d->annotations_json)) == -1)
		goto bad;
	return o;
bad:
	json_decref(o);
	return NULL;
}

/* The referrers answer: an OCI index listing descs. */
char *
oci_referrers_json(const struct oci_desc *descs, size_t n)
{
	json_t *root, *a;
	size_t i;

	root = json_object();
	a = json_array();
	if (root == NULL || a == NULL)
		fatalx("json allocation failed");
	if (jset(root, "schemaVersion", json_integer(2)) == -1 ||
	    jset(root, "mediaType", json_string(MT_OCI_INDEX)) == -1 ||
	    jset(root, "manifests", a) == -1)
		fatalx("json allocation failed");
	for (i = 0; i < n; i++) {
		if (jappend(a, desc_json(&descs[i])) == -1) {
			json_decref(root);
			return NULL;
		}
	}
	return jdump(root);
}

/* A JSON array of the strings v[0..n), NULL if one is not valid UTF-8. */
static json_t *
strings_json(char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		fatalx("json_array failed");
	for (i = 0; i < n; i++) {
		if (jappend(a, json_string(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* {"name":name,"tags":[...]} */
char *
oci_tags_json(const char *name, char *const *tags, size_t n)
{
	json_t *root;

	if ((root = json_object()) == NULL)
		fatalx("json_object failed");
	if (jset(root, "name", json_string(name)) == -1 ||
	    jset(root, "tags", strings_json(tags, n)) == -1) {
		json_decref(root);
		return NULL;
	}
	return jdump(root);
}

/* {"repositories":[...]} */
char *
oci_catalog_json(char *const *repos, size_t n)
{
	json_t *root;

	if ((root = json_object()) == NULL)
		fatalx("json_object failed");
	if (jset(root, "repositories", strings_json(repos, n)) == -1) {
		json_decref(root);
		return NULL;
	}
	return jdump(root);
}

/* s as a JSON string; if it is not UTF-8, a copy in printable ASCII. */
static json_t *
jstr_safe(const char *s)
{
	json_t *j;
	char *t;

	if ((j = json_string(s)) != NULL)
		return j;
	t = xstrdup(s);
	ascii_only(t);
	if ((j = json_string(t)) == NULL)
		fatalx("json_string failed");
	free(t);
	return j;
}

/* detail as JSON: parsed if it is JSON text, else as a string, or null. */
static json_t *
detail_json(const char *detail)
{
	json_t *j;
	size_t n;

	if (detail == NULL)
		return json_null();
	n = strnlen(detail, OCI_MANIFEST_MAX + 1);
	if (n <= OCI_MANIFEST_MAX && json_shape_ok(detail, n) &&
	    (j = json_loadb(detail, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    NULL)) != NULL)
		return j;
	return jstr_safe(detail);
}

/* {"errors":[{"code":..,"message":..,"detail":..}]} */
char *
oci_error_json(const char *code, const char *message, const char *detail)
{
	json_t *root, *a, *e;

	root = json_object();
	a = json_array();
	e = json_object();
	if (root == NULL || a == NULL || e == NULL)
		fatalx("json allocation failed");
	if (jset(root, "errors", a) == -1 || jappend(a, e) == -1)
		fatalx("json allocation failed");
	if (jset(e, "code", jstr_safe(code)) == -1 ||
	    jset(e, "message", jstr_safe(message)) == -1 ||
	    jset(e, "detail", detail_json(detail)) == -1)
		fatalx("json allocation failed");
	return jdump(root);
}

/* Trim spaces and tabs around s[0..*n); returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* 1 if a and b (lengths na, nb) are equal ignoring ASCII case. */
static int
eq_nocase(const char *a, size_t na, const char *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* 1 if the q-value v[0..n) is "0", "0.", "0.0" ... "0.000". */
static int
q_is_zero(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > 5 || v[0] != '0')
		return 0;
	if (n == 1)
		return 1;
	if (v[1] != '.')
		return 0;
	for (i = 2; i < n; i++)
		if (v[i] != '0')
			return 0;
	return 1;
}

/* 1 if the parameters p[0..n) (";a=b;q=0") include a zero q-value. */
static int
params_q_zero(const char *p, size_t n)
{
	const char *s, *v;
	size_t len, i;

	while (n > 0) {
		s = p + 1;		/* skip ';' */
		len = n - 1;
		for (i = 0; i < len && s[i] != ';'; i++)
			;
		p = s + i;
		n = len - i;
		v = trim(s, &i);
		if (i < 2 || to_lower((unsigned char)v[0]) != 'q' || v[1] != '=')
			continue;
		if (q_is_zero(v + 2, i - 2))
			return 1;
	}
	return 0;
}

/* 1 if the Accept entry e[0..n) admits mt. */
static int
accept_entry_ok(const char *e, size_t n, const char *mt)
{
	const char *semi;
	size_t tn, mtn, slash;

	semi = memchr(e, ';', n);
	tn = semi ? (size_t)(semi - e) : n;
	if (semi && params_q_zero(semi, n - tn))
		return 0;
	e = trim(e, &tn);
	mtn = strlen(mt);
	if (tn == 0)
		return 0;
	if (eq_nocase(e, tn, "*/*", 3))
		return 1;
	if (tn >= 3 && e[tn - 2] == '/' && e[tn - 1] == '*') {
		slash = tn - 1;		/* "type/" */
		return mtn > slash && eq_nocase(e, slash, mt, slash);
	}
	return eq_nocase(e, tn, mt, mtn);
}

/* 1 if Accept is absent or blank, or one of its entries admits stored_mt. */
int
oci_accept_ok(const char *accept, const char *stored_mt)
{
	const char *p;
	size_t n, tn;
	int entries = 0;

	if (accept == NULL)
		return 1;
	for (p = accept;; p += n + 1) {
		n = strcspn(p, ",");
		tn = n;
		(void)trim(p, &tn);
		if (tn > 0) {
			entries++;
			if (accept_entry_ok(p, n, stored_mt))
				return 1;
		}
		if (p[n] == '\0')
			break;
	}
	return entries == 0;
}

/* Seed jansson's hash tables from /dev/urandom while it can be read: in a
 * chroot jansson falls back to time and pid, which a client could guess. */
void
oci_preload(void)
{
	json_object_seed(0);
}
