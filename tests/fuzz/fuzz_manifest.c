/*
 * fuzz_manifest.c - libFuzzer target for the parsers of lib/oci.c and
 * lib/digest.c: manifests under every content type a client may send, and
 * digests, names, tags and Accept headers on a NUL-terminated copy.  What
 * parses must hold together; the hand-written matchers are checked against
 * POSIX regular expressions of the spec's grammar.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digest.h"
#include "oci.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *content_types[] = {
	NULL, MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST,
	MT_DOCKER_SCHEMA1,
};

static regex_t re_name, re_tag, re_digest, re_sha256, re_sha512;

/* Stop the run: libFuzzer records the input. */
#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* Compile the oracles once. */
static void
oracles_init(void)
{
	static int done;

	if (done)
		return;
	CHECK(regcomp(&re_name, "^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*"
	    "(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*$", REG_EXTENDED | REG_NOSUB) == 0);
	CHECK(regcomp(&re_tag, "^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$",
	    REG_EXTENDED | REG_NOSUB) == 0);
	CHECK(regcomp(&re_digest, "^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$",
	    REG_EXTENDED | REG_NOSUB) == 0);
	CHECK(regcomp(&re_sha256, "^sha256:[a-f0-9]{64}$",
	    REG_EXTENDED | REG_NOSUB) == 0);
	CHECK(regcomp(&re_sha512, "^sha512:[a-f0-9]{128}$",
	    REG_EXTENDED | REG_NOSUB) == 0);
	done = 1;
}

/* 1 if re matches s. */
static int
matches(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* s must be a compact JSON object. */
static void
check_object_text(const char *s)
{
	json_t *j;

	CHECK((j = json_loads(s, JSON_REJECT_DUPLICATES, NULL)) != NULL);
	CHECK(json_is_object(j));
	json_decref(j);
}

/* A parsed descriptor must be valid and re-format to a parsable digest. */
static void
check_desc(const struct oci_desc *d)
{
	char s[DIGEST_STRMAX];
	struct digest again;

	CHECK(oci_mediatype_valid(d->mediatype));
	CHECK(d->size >= 0);
	CHECK(digest_format(&d->digest, s, sizeof(s)) == 0);
	CHECK(digest_parse(s, &again) == 0 && digest_equal(&d->digest, &again));
	CHECK(strlen(d->digest.hex) == digest_hexlen(d->digest.alg));
	if (d->artifact_type != NULL)
		CHECK(oci_mediatype_valid(d->artifact_type));
	if (d->annotations_json != NULL)
		check_object_text(d->annotations_json);
}

/* A successfully parsed manifest must hold together. */
static void
check_manifest(const struct oci_manifest *m)
{
	char *r;
	size_t i;

	CHECK(m->kind == OCI_KIND_MANIFEST || m->kind == OCI_KIND_INDEX);
	if (m->kind == OCI_KIND_MANIFEST)
		CHECK(strcmp(m->mediatype, MT_OCI_MANIFEST) == 0 ||
		    strcmp(m->mediatype, MT_DOCKER_MANIFEST) == 0);
	else
		CHECK(strcmp(m->mediatype, MT_OCI_INDEX) == 0 ||
		    strcmp(m->mediatype, MT_DOCKER_LIST) == 0);
	CHECK(m->has_config == (m->kind == OCI_KIND_MANIFEST));
	CHECK(m->nrefs == 0 || m->refs != NULL);
	for (i = 0; i < m->nrefs; i++)
		check_desc(&m->refs[i]);
	if (m->has_config)
		check_desc(&m->config);
	if (m->has_subject)
		check_desc(&m->subject);
	if (m->artifact_type != NULL)
		CHECK(oci_mediatype_valid(m->artifact_type));
	if (m->has_config)
		CHECK(m->artifact_type != NULL);
	if (m->annotations_json != NULL)
		check_object_text(m->annotations_json);
	CHECK((r = oci_referrers_json(m->refs, m->nrefs)) != NULL);
	check_object_text(r);
	free(r);
}

/* Parse data as a manifest under content type ct. */
static void
one_manifest(const uint8_t *data, size_t size, const char *ct)
{
	struct oci_manifest m;
	char err[256];
	size_t i;
	int rc;

	err[0] = '\0';
	rc = oci_manifest_parse((const char *)data, size, ct, &m, err,
	    sizeof(err));
	CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc == 0)
		check_manifest(&m);
	else {
		CHECK(err[0] != '\0' && m.refs == NULL && m.nrefs == 0);
		for (i = 0; err[i] != '\0'; i++)
			CHECK(err[i] >= 0x20 && err[i] < 0x7f);
	}
	oci_manifest_free(&m);
}

/* Digests, names, tags, Accept and error bodies on the string s. */
static void
one_string(const char *s)
{
	struct digest d;
	char out[DIGEST_STRMAX], *e;
	size_t n = strlen(s);
	json_t *j;
	int rc, registered;

	rc = digest_parse(s, &d);
	registered = strncmp(s, "sha256:", 7) == 0 ||
	    strncmp(s, "sha512:", 7) == 0;
	if (n <= DIGEST_INPUTMAX) {
		CHECK((rc == 0) ==
		    (matches(&re_sha256, s) || matches(&re_sha512, s)));
		CHECK((rc == -2) == (matches(&re_digest, s) && !registered));
	} else
		CHECK(rc == -1);
	if (rc == 0) {
		CHECK(digest_format(&d, out, sizeof(out)) == 0);
		CHECK(strcmp(out, s) == 0);
	}
	CHECK(oci_name_valid(s) == (n <= OCI_NAME_MAX && matches(&re_name, s)));
	CHECK(oci_tag_valid(s) == matches(&re_tag, s));
	(void)oci_accept_ok(s, MT_OCI_INDEX);
	CHECK(oci_accept_ok(s, "*/*") == 0 || oci_accept_ok(s, "*/*") == 1);
	CHECK((e = oci_error_json(s, s, s)) != NULL);
	CHECK((j = json_loads(e, 0, NULL)) != NULL);
	json_decref(j);
	free(e);
	if (n <= OCI_MEDIATYPE_MAX && oci_mediatype_valid(s))
		CHECK(oci_accept_ok(s, s));
}

/* One input: as a manifest under every content type, then as a string. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t i;

	oracles_init();
	for (i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
		one_manifest(data, size, content_types[i]);
	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	one_string(s);
	free(s);
	return 0;
}
