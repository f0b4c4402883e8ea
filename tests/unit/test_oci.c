/* test_oci.c - unit tests for lib/oci.c: names, manifests, JSON bodies. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "oci.h"
#include "unit.h"

#define D1	"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
#define D2	"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0"
#define D3	"sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"
#define DE	"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

/* Test JSON with ' for ", so fixtures stay readable; static storage. */
static const char *
jq(const char *s)
{
	static char buf[8192];
	size_t i;

	ck_assert_uint_lt(strlen(s), sizeof(buf));
	for (i = 0; s[i] != '\0'; i++)
		buf[i] = s[i] == '\'' ? '"' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Parse fixture (quoted with ') with content type ct; expect rc. */
static int
parse(const char *fixture, const char *ct, struct oci_manifest *m)
{
	char err[256];
	const char *body = jq(fixture);
	int rc;

	err[0] = '\0';
	rc = oci_manifest_parse(body, strlen(body), ct, m, err, sizeof(err));
	if (rc != 0)
		ck_assert_msg(err[0] != '\0', "error without a reason");
	return rc;
}

static const char oci_manifest[] =
    "{'schemaVersion':2,'mediaType':'" MT_OCI_MANIFEST "',"
    "'config':{'mediaType':'application/vnd.oci.image.config.v1+json',"
    "'digest':'" D1 "','size':7023},"
    "'layers':[{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip',"
    "'digest':'" D2 "','size':32654},"
    "{'mediaType':'application/vnd.oci.image.layer.v1.tar+gzip',"
    "'digest':'" D3 "','size':16724,"
    "'annotations':{'org.opencontainers.image.title':'layer2'}}],"
    "'annotations':{'com.example.key1':'value1','com.example.key2':'value2'}}";

static const char oci_index[] =
    "{'schemaVersion':2,'mediaType':'" MT_OCI_INDEX "',"
    "'manifests':[{'mediaType':'" MT_OCI_MANIFEST "','size':7143,"
    "'digest':'" D1 "','platform':{'architecture':'ppc64le','os':'linux'}},"
    "{'mediaType':'" MT_OCI_MANIFEST "','size':7682,'digest':'" D2 "',"
    "'platform':{'architecture':'amd64','os':'linux'}}],"
    "'annotations':{'com.example.key1':'value1'}}";

static const char docker_manifest[] =
    "{'schemaVersion':2,'mediaType':'" MT_DOCKER_MANIFEST "',"
    "'config':{'mediaType':'application/vnd.docker.container.image.v1+json',"
    "'size':1469,'digest':'" D1 "'},"
    "'layers':[{'mediaType':'application/vnd.docker.image.rootfs.diff.tar.gzip',"
    "'size':2479,'digest':'" D2 "'},"
    "{'mediaType':'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',"
    "'size':1024,'digest':'" D3 "','urls':['https://example.com/l.tgz']}]}";

static const char docker_list[] =
    "{'schemaVersion':2,'mediaType':'" MT_DOCKER_LIST "',"
    "'manifests':[{'mediaType':'" MT_DOCKER_MANIFEST "','size':525,"
    "'digest':'" D1 "','platform':{'architecture':'arm','os':'linux',"
    "'variant':'v7'}},{'mediaType':'" MT_DOCKER_MANIFEST "','size':525,"
    "'digest':'" D2 "','platform':{'architecture':'amd64','os':'linux',"
    "'features':['sse4']}}]}";

static const char artifact[] =
    "{'schemaVersion':2,'mediaType':'" MT_OCI_MANIFEST "',"
    "'artifactType':'application/vnd.example.sbom.v1',"
    "'config':{'mediaType':'" MT_OCI_EMPTY "','digest':'" DE "','size':2,"
    "'data':'e30='},"
    "'layers':[{'mediaType':'application/spdx+json','digest':'" D3 "',"
    "'size':8675}],"
    "'subject':{'mediaType':'" MT_OCI_MANIFEST "','digest':'" D1 "',"
    "'size':1234},"
    "'annotations':{'org.opencontainers.image.created':'2024-01-01T00:00:00Z'}}";

START_TEST(parse_oci_manifest)
{
	struct oci_manifest m;
	char dg[DIGEST_STRMAX];

	ck_assert_int_eq(parse(oci_manifest, MT_OCI_MANIFEST, &m), 0);
	ck_assert_int_eq(m.kind, OCI_KIND_MANIFEST);
	ck_assert_str_eq(m.mediatype, MT_OCI_MANIFEST);
	ck_assert(m.has_config);
	ck_assert_int_eq(m.config.size, 7023);
	ck_assert_int_eq(digest_format(&m.config.digest, dg, sizeof(dg)), 0);
	ck_assert_str_eq(dg, D1);
	ck_assert_uint_eq(m.nrefs, 2);
	ck_assert_int_eq(m.refs[1].size, 16724);
	ck_assert_str_eq(m.refs[1].annotations_json,
	    "{\"org.opencontainers.image.title\":\"layer2\"}");
	ck_assert_ptr_null(m.refs[0].annotations_json);
	ck_assert_str_eq(m.artifact_type, "application/vnd.oci.image.config.v1+json");
	ck_assert(!m.has_subject);
	ck_assert_str_eq(m.annotations_json,
	    "{\"com.example.key1\":\"value1\",\"com.example.key2\":\"value2\"}");
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_oci_index)
{
	struct oci_manifest m;

	ck_assert_int_eq(parse(oci_index, NULL, &m), 0);
	ck_assert_int_eq(m.kind, OCI_KIND_INDEX);
	ck_assert_str_eq(m.mediatype, MT_OCI_INDEX);
	ck_assert(!m.has_config);
	ck_assert_uint_eq(m.nrefs, 2);
	ck_assert_str_eq(m.refs[0].mediatype, MT_OCI_MANIFEST);
	ck_assert_int_eq(m.refs[1].size, 7682);
	ck_assert_ptr_null(m.artifact_type);
	ck_assert_ptr_nonnull(m.annotations_json);
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_docker_manifest)
{
	struct oci_manifest m;

	ck_assert_int_eq(parse(docker_manifest,
	    "application/vnd.docker.distribution.manifest.v2+json", &m), 0);
	ck_assert_int_eq(m.kind, OCI_KIND_MANIFEST);
	ck_assert_str_eq(m.mediatype, MT_DOCKER_MANIFEST);
	ck_assert_uint_eq(m.nrefs, 2);
	ck_assert_str_eq(m.artifact_type,
	    "application/vnd.docker.container.image.v1+json");
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_docker_list)
{
	struct oci_manifest m;

	ck_assert_int_eq(parse(docker_list, MT_DOCKER_LIST, &m), 0);
	ck_assert_int_eq(m.kind, OCI_KIND_INDEX);
	ck_assert_str_eq(m.mediatype, MT_DOCKER_LIST);
	ck_assert_uint_eq(m.nrefs, 2);
	ck_assert_str_eq(m.refs[1].digest.hex, &D2[7]);
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_artifact)
{
	struct oci_manifest m;
	struct digest d;

	ck_assert_int_eq(parse(artifact, MT_OCI_MANIFEST, &m), 0);
	ck_assert_str_eq(m.artifact_type, "application/vnd.example.sbom.v1");
	ck_assert(m.has_subject);
	ck_assert_int_eq(digest_parse(D1, &d), 0);
	ck_assert(digest_equal(&m.subject.digest, &d));
	ck_assert_int_eq(m.subject.size, 1234);
	ck_assert_str_eq(m.config.mediatype, MT_OCI_EMPTY);
	ck_assert_str_eq(m.annotations_json,
	    "{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}");
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_untyped)
{
	struct oci_manifest m;

	/* No mediaType in the body: Content-Type (with parameters) decides. */
	ck_assert_int_eq(parse("{'schemaVersion':2,'config':{'mediaType':"
	    "'a/b','digest':'" D1 "','size':1},'layers':[]}",
	    " Application/VND.oci.image.manifest.v1+json ; charset=utf-8", &m),
	    0);
	ck_assert_str_eq(m.mediatype, MT_OCI_MANIFEST);
	ck_assert_uint_eq(m.nrefs, 0);
	oci_manifest_free(&m);
	/* Neither: the fields decide. */
	ck_assert_int_eq(parse("{'schemaVersion':2,'manifests':[]}", "", &m),
	    0);
	ck_assert_int_eq(m.kind, OCI_KIND_INDEX);
	ck_assert_str_eq(m.mediatype, MT_OCI_INDEX);
	oci_manifest_free(&m);
	ck_assert_int_eq(parse("{'schemaVersion':2,'config':{'mediaType':"
	    "'a/b','digest':'" D1 "','size':0},'layers':[]}", NULL, &m), 0);
	ck_assert_int_eq(m.kind, OCI_KIND_MANIFEST);
	oci_manifest_free(&m);
}
END_TEST

/* Bodies that must be refused, with the expected code and content type. */
static const struct {
	const char	*why;
	const char	*body;
	const char	*ct;
	int		 rc;
} bad_manifests[] = {
	{ "bad JSON", "{'schemaVersion':2,", NULL, -1 },
	{ "trailing garbage", "{'schemaVersion':2,'manifests':[]} x", NULL, -1 },
	{ "duplicate key", "{'schemaVersion':2,'schemaVersion':2,"
	    "'manifests':[]}", NULL, -1 },
	{ "not an object", "[1,2]", NULL, -1 },
	{ "schemaVersion 3", "{'schemaVersion':3,'mediaType':'" MT_OCI_INDEX
	    "','manifests':[]}", NULL, -1 },
	{ "schemaVersion string", "{'schemaVersion':'2','manifests':[]}",
	    NULL, -1 },
	{ "schemaVersion real", "{'schemaVersion':2.0,'manifests':[]}",
	    NULL, -1 },
	{ "no schemaVersion", "{'manifests':[]}", NULL, -1 },
	{ "typed schemaVersion 1", "{'schemaVersion':1,'mediaType':'"
	    MT_OCI_INDEX "','manifests':[]}", NULL, -1 },
	{ "Content-Type mismatch", "{'schemaVersion':2,'mediaType':'"
	    MT_OCI_INDEX "','manifests':[]}", MT_DOCKER_LIST, -1 },
	{ "Content-Type garbage", "{'schemaVersion':2,'manifests':[]}",
	    "not a type", -1 },
	{ "mediaType not string", "{'schemaVersion':2,'mediaType':7,"
	    "'manifests':[]}", NULL, -1 },
	{ "bad layer digest", "{'schemaVersion':2,'config':{'mediaType':'a/b',"
	    "'digest':'" D1 "','size':1},'layers':[{'mediaType':'a/b',"
	    "'digest':'sha256:XYZ','size':1}]}", NULL, -1 },
	{ "negative size", "{'schemaVersion':2,'config':{'mediaType':'a/b',"
	    "'digest':'" D1 "','size':-1},'layers':[]}", NULL, -1 },
	{ "float size", "{'schemaVersion':2,'config':{'mediaType':'a/b',"
	    "'digest':'" D1 "','size':1.5},'layers':[]}", NULL, -1 },
	{ "huge size", "{'schemaVersion':2,'config':{'mediaType':'a/b',"
	    "'digest':'" D1 "','size':99999999999999999999},'layers':[]}",
	    NULL, -1 },
	{ "missing size", "{'schemaVersion':2,'manifests':[{'mediaType':'a/b',"
	    "'digest':'" D1 "'}]}", NULL, -1 },
	{ "missing config", "{'schemaVersion':2,'layers':[]}", MT_OCI_MANIFEST,
	    -1 },
	{ "missing layers", "{'schemaVersion':2,'config':{'mediaType':'a/b',"
	    "'digest':'" D1 "','size':1}}", MT_OCI_MANIFEST, -1 },
	{ "missing manifests", "{'schemaVersion':2}", MT_OCI_INDEX, -1 },
	{ "neither kind", "{'schemaVersion':2}", NULL, -1 },
	{ "index with layers", "{'schemaVersion':2,'mediaType':'" MT_OCI_INDEX
	    "','manifests':[],'layers':[]}", NULL, -1 },
	{ "manifest with manifests", "{'schemaVersion':2,'config':{'mediaType':"
	    "'a/b','digest':'" D1 "','size':1},'layers':[],'manifests':[]}",
	    MT_OCI_MANIFEST, -1 },
	{ "bad descriptor mediaType", "{'schemaVersion':2,'manifests':"
	    "[{'mediaType':'nonsense','digest':'" D1 "','size':1}]}", NULL, -1 },
	{ "annotation not string", "{'schemaVersion':2,'manifests':[],"
	    "'annotations':{'a':1}}", NULL, -1 },
	{ "bad artifactType", "{'schemaVersion':2,'manifests':[],"
	    "'artifactType':'x'}", NULL, -1 },
	{ "subject not object", "{'schemaVersion':2,'manifests':[],"
	    "'subject':'" D1 "'}", NULL, -1 },
	{ "urls not strings", "{'schemaVersion':2,'manifests':[{'mediaType':"
	    "'a/b','digest':'" D1 "','size':1,'urls':[1]}]}", NULL, -1 },
	{ "empty", "", NULL, -1 },
	{ "deep nesting", "{'schemaVersion':2,'manifests':[],'x':"
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	    NULL, -1 },
	{ "schema1 typed", "{'schemaVersion':1,'name':'a','tag':'b',"
	    "'fsLayers':[]}", MT_DOCKER_SCHEMA1, -2 },
	{ "schema1 signed", "{'schemaVersion':1,'name':'a','tag':'b',"
	    "'fsLayers':[],'signatures':[]}", MT_DOCKER_SCHEMA1_SIGNED, -2 },
	{ "schema1 untyped", "{'schemaVersion':1,'name':'a','tag':'b',"
	    "'fsLayers':[]}", NULL, -2 },
	{ "unknown media type", "{'schemaVersion':2,'manifests':[]}",
	    "application/vnd.oci.artifact.manifest.v1+json", -2 },
	{ "sha384 layer", "{'schemaVersion':2,'manifests':[{'mediaType':'a/b',"
	    "'digest':'sha384:" "0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef','size':1}]}",
	    NULL, -2 },
};

START_TEST(parse_bad)
{
	struct oci_manifest m;

	ck_assert_msg(parse(bad_manifests[_i].body, bad_manifests[_i].ct,
	    &m) == bad_manifests[_i].rc, "%s", bad_manifests[_i].why);
	ck_assert_ptr_null(m.refs);
	ck_assert_ptr_null(m.annotations_json);
	oci_manifest_free(&m);
}
END_TEST

START_TEST(parse_limits)
{
	struct oci_manifest m;
	char err[128], *big;
	size_t n = OCI_MANIFEST_MAX + 1, i;

	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	ck_assert_int_eq(oci_manifest_parse(big, n, NULL, &m, err, sizeof(err)),
	    -1);
	/* Under the size limit but too many values: refused before jansson. */
	big[0] = '[';
	for (i = 1; i + 2 < n - 1; i += 2) {
		big[i] = '0';
		big[i + 1] = ',';
	}
	big[i] = '0';
	big[n - 2] = ']';
	ck_assert_int_eq(oci_manifest_parse(big, n - 1, NULL, &m, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too many"));
	ck_assert_int_eq(oci_manifest_parse("{\"a\":\"\\u0000\"}", 14, NULL,
	    &m, err, sizeof(err)), -1);
	ck_assert_int_eq(oci_manifest_parse("{}", 2, NULL, &m, NULL, 0), -1);
	free(big);
}
END_TEST

static const char *good_names[] = {
	"a", "a/b", "foo_bar", "a__b", "a--b", "a---b", "library/ubuntu",
	"a.b/c-d/e__f", "0", "x9/y8/z7",
};
static const char *bad_names[] = {
	"", "A", "-a", "a-", "a//b", "a/../b", "..", "a._b", "/a", "a/",
	"a___b", "a..b", "a b", "a:b", "a/B", "_a", "a_", "a.",
};

START_TEST(names_good)
{
	ck_assert_msg(oci_name_valid(good_names[_i]), "%s", good_names[_i]);
}
END_TEST

START_TEST(names_bad)
{
	ck_assert_msg(!oci_name_valid(bad_names[_i]), "%s", bad_names[_i]);
}
END_TEST

START_TEST(names_length)
{
	char n[OCI_NAME_MAX + 2];

	memset(n, 'a', sizeof(n));
	n[OCI_NAME_MAX] = '\0';
	ck_assert(oci_name_valid(n));
	n[OCI_NAME_MAX] = 'a';
	n[OCI_NAME_MAX + 1] = '\0';
	ck_assert(!oci_name_valid(n));
}
END_TEST

START_TEST(tags_valid)
{
	char t[OCI_TAG_MAX + 2];

	ck_assert(oci_tag_valid("latest"));
	ck_assert(oci_tag_valid("_x"));
	ck_assert(oci_tag_valid("v1.2.3-rc.1_B"));
	ck_assert(!oci_tag_valid(""));
	ck_assert(!oci_tag_valid(".x"));
	ck_assert(!oci_tag_valid("-x"));
	ck_assert(!oci_tag_valid("a/b"));
	ck_assert(!oci_tag_valid("a:b"));
	memset(t, 'a', sizeof(t));
	t[OCI_TAG_MAX] = '\0';
	ck_assert(oci_tag_valid(t));
	t[OCI_TAG_MAX] = 'a';
	t[OCI_TAG_MAX + 1] = '\0';
	ck_assert(!oci_tag_valid(t));
}
END_TEST

START_TEST(referrers_roundtrip)
{
	struct oci_manifest m;
	struct oci_desc d[2];
	json_t *j, *a, *e;
	char *s;

	ck_assert_int_eq(parse(artifact, NULL, &m), 0);
	memset(d, 0, sizeof(d));
	d[0] = m.subject;
	d[0].artifact_type = m.artifact_type;
	d[0].annotations_json = m.annotations_json;
	d[1] = m.refs[0];
	s = oci_referrers_json(d, 2);
	ck_assert_ptr_nonnull(s);
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "schemaVersion")),
	    2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "mediaType")),
	    MT_OCI_INDEX);
	a = json_object_get(j, "manifests");
	ck_assert_uint_eq(json_array_size(a), 2);
	e = json_array_get(a, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "digest")), D1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "artifactType")),
	    "application/vnd.example.sbom.v1");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e,
	    "annotations"), "org.opencontainers.image.created")),
	    "2024-01-01T00:00:00Z");
	e = json_array_get(a, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "size")), 8675);
	ck_assert_ptr_null(json_object_get(e, "annotations"));
	json_decref(j);
	free(s);
	/* An empty list is still an index with a "manifests" array. */
	s = oci_referrers_json(NULL, 0);
	ck_assert_str_eq(s, "{\"schemaVersion\":2,\"mediaType\":\""
	    MT_OCI_INDEX "\",\"manifests\":[]}");
	free(s);
	d[1].annotations_json = (char *)"[1]";
	ck_assert_ptr_null(oci_referrers_json(d, 2));
	oci_manifest_free(&m);
}
END_TEST

START_TEST(tags_catalog_json)
{
	char *tags[] = { "latest", "v1" }, *repos[] = { "a/b", "c" };
	json_t *j;
	char *s;

	s = oci_tags_json("library/ubuntu", tags, 2);
	j = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")),
	    "library/ubuntu");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j,
	    "tags"), 1)), "v1");
	json_decref(j);
	free(s);
	s = oci_tags_json("x", NULL, 0);
	ck_assert_str_eq(s, "{\"name\":\"x\",\"tags\":[]}");
	free(s);
	s = oci_catalog_json(repos, 2);
	ck_assert_str_eq(s, "{\"repositories\":[\"a/b\",\"c\"]}");
	free(s);
	tags[1] = "\xff";
	ck_assert_ptr_null(oci_tags_json("x", tags, 2));
}
END_TEST

START_TEST(error_json)
{
	json_t *j, *e;
	char *s;

	s = oci_error_json("MANIFEST_INVALID", "manifest invalid", NULL);
	ck_assert_str_eq(s, "{\"errors\":[{\"code\":\"MANIFEST_INVALID\","
	    "\"message\":\"manifest invalid\",\"detail\":null}]}");
	free(s);
	s = oci_error_json("NAME_UNKNOWN", "repository name not known",
	    "{\"name\":\"a/b\"}");
	j = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(j);
	e = json_array_get(json_object_get(j, "errors"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(e,
	    "detail"), "name")), "a/b");
	json_decref(j);
	free(s);
	/* Detail that is not JSON becomes a string; bad UTF-8 becomes '?'. */
	s = oci_error_json("DENIED", "no \xc3", "layers[0]: bad");
	ck_assert_str_eq(s, "{\"errors\":[{\"code\":\"DENIED\","
	    "\"message\":\"no ?\",\"detail\":\"layers[0]: bad\"}]}");
	free(s);
}
END_TEST

static const struct {
	const char	*accept;
	const char	*mt;
	int		 ok;
} accepts[] = {
	{ NULL, MT_OCI_INDEX, 1 },
	{ "", MT_OCI_INDEX, 1 },
	{ " , ", MT_OCI_INDEX, 1 },
	{ "*/*", MT_OCI_INDEX, 1 },
	{ "application/*", MT_DOCKER_MANIFEST, 1 },
	{ "text/*", MT_DOCKER_MANIFEST, 0 },
	{ MT_DOCKER_MANIFEST, MT_DOCKER_MANIFEST, 1 },
	{ MT_DOCKER_MANIFEST, MT_OCI_MANIFEST, 0 },
	{ MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST,
	    MT_OCI_MANIFEST, 1 },
	{ MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST,
	    MT_OCI_INDEX, 0 },
	{ MT_OCI_INDEX ";q=0.5", MT_OCI_INDEX, 1 },
	{ MT_OCI_INDEX " ; q=0", MT_OCI_INDEX, 0 },
	{ "*/*;q=0.000, " MT_OCI_MANIFEST, MT_OCI_INDEX, 0 },
	{ "APPLICATION/VND.OCI.IMAGE.INDEX.V1+JSON", MT_OCI_INDEX, 1 },
	{ "application/vnd.oci.image.index.v1", MT_OCI_INDEX, 0 },
	{ "application/json", MT_OCI_INDEX, 0 },
};

START_TEST(accept_cases)
{
	ck_assert_msg(oci_accept_ok(accepts[_i].accept, accepts[_i].mt) ==
	    accepts[_i].ok, "Accept: %s", accepts[_i].accept ?
	    accepts[_i].accept : "(none)");
}
END_TEST

#define N(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* Which layers a manifest may reference without the registry holding
 * them: only the exact foreign / non-distributable types, only with urls. */
static const struct {
	const char	*mt;
	const char	*urls;		/* JSON fragment or NULL */
	int		 external;
} layer_cases[] = {
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "['https://example.com/l.tgz']", 1 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar",
	    "['http://example.com/l.tar']", 1 },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "['https://example.com/l.tgz']", 1 },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "['https://example.com/l.tar']", 1 },
	/* no urls, or empty, or nothing fetchable: the blob must be here */
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    NULL, 0 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "[]", 0 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "['file:///etc/passwd']", 0 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "['https://example.com/a','https://']", 0 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	    "['https://example.com/a#frag']", 0 },
	/* a type that merely contains "foreign" is an ordinary layer */
	{ "application/vnd.example.foreign", "['https://example.com/x']", 0 },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip+x",
	    "['https://example.com/x']", 0 },
	{ "application/vnd.oci.image.layer.v1.tar+gzip",
	    "['https://example.com/x']", 0 },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "['https://example.com/x']", 0 },
};

START_TEST(layer_external)
{
	char fixture[1024];
	struct oci_manifest m;
	int n;

	n = snprintf(fixture, sizeof(fixture), "{'schemaVersion':2,"
	    "'mediaType':'" MT_DOCKER_MANIFEST "','config':{'mediaType':"
	    "'application/vnd.docker.container.image.v1+json','size':2,"
	    "'digest':'" D1 "'},'layers':[{'mediaType':'%s','size':5,"
	    "'digest':'" D2 "'%s%s}]}", layer_cases[_i].mt,
	    layer_cases[_i].urls ? ",'urls':" : "",
	    layer_cases[_i].urls ? layer_cases[_i].urls : "");
	ck_assert_int_lt(n, (int)sizeof(fixture));
	ck_assert_int_eq(parse(fixture, NULL, &m), 0);
	ck_assert_uint_eq(m.nrefs, 1);
	ck_assert_msg(oci_layer_external(&m.refs[0]) ==
	    layer_cases[_i].external, "%s with %s", layer_cases[_i].mt,
	    layer_cases[_i].urls ? layer_cases[_i].urls : "no urls");
	/* a config is never external */
	ck_assert(!oci_layer_external(&m.config));
	oci_manifest_free(&m);
}
END_TEST


/* All the oci tests in one suite. */
static Suite *
oci_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_oci_manifest);
	tcase_add_test(tc, parse_oci_index);
	tcase_add_test(tc, parse_docker_manifest);
	tcase_add_test(tc, parse_docker_list);
	tcase_add_test(tc, parse_artifact);
	tcase_add_test(tc, parse_untyped);
	tcase_add_loop_test(tc, parse_bad, 0, N(bad_manifests));
	tcase_add_test(tc, parse_limits);
	tcase_add_loop_test(tc, names_good, 0, N(good_names));
	tcase_add_loop_test(tc, names_bad, 0, N(bad_names));
	tcase_add_test(tc, names_length);
	tcase_add_test(tc, tags_valid);
	tcase_add_test(tc, referrers_roundtrip);
	tcase_add_test(tc, tags_catalog_json);
	tcase_add_test(tc, error_json);
	tcase_add_loop_test(tc, accept_cases, 0, N(accepts));
	tcase_add_loop_test(tc, layer_external, 0, N(layer_cases));
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(oci_suite());
}
