/* oci.h - OCI names and tags, manifest parsing, API JSON bodies. */
#ifndef RM_OCI_H
#define RM_OCI_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define OCI_NAME_MAX		255
#define OCI_TAG_MAX		128
#define OCI_MEDIATYPE_MAX	255		/* fits struct oci_desc.mediatype */
#define OCI_MANIFEST_MAX	(4 * 1024 * 1024)
#define OCI_JSON_DEPTH_MAX	64		/* deepest [ / { nesting accepted */
#define OCI_JSON_VALUES_MAX	65536 		/* most JSON values in a manifest */

#define MT_OCI_MANIFEST		"application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX		"application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST		"application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_EMPTY		"application/vnd.oci.empty.v1+json"
#define MT_DOCKER_SCHEMA1	"application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* 1 valid, 0 not. */
int	 oci_name_valid(const char *name);
int	 oci_tag_valid(const char *tag);
int	 oci_mediatype_valid(const char *mt);	/* RFC 6838 type/subtype only */

enum oci_kind { OCI_KIND_MANIFEST, OCI_KIND_INDEX };

struct oci_desc {
	char		 mediatype[OCI_MEDIATYPE_MAX + 1];
	struct digest	 digest;
	int64_t		 size;
	char		*artifact_type;		/* malloc'd or NULL */
	char		*annotations_json;	/* compact JSON object, malloc'd, or NULL */
	int		 has_urls;		/* urls: non-empty, http(s) only */
};

struct oci_manifest {
	enum oci_kind	 kind;
	char		 mediatype[OCI_MEDIATYPE_MAX + 1];	/* effective media type */
	char		*artifact_type;		/* artifactType, else config.mediaType, else NULL */
	int		 has_config;
	struct oci_desc	 config;
	struct oci_desc	*refs;			/* layers or manifests */
	size_t		 nrefs;
	int		 has_subject;
	struct oci_desc	 subject;
	char		*annotations_json;	/* compact JSON object or NULL */
};

/*
 * 0 ok; -1 invalid (MANIFEST_INVALID, reason in err); -2 unsupported (Docker
 * schema1, an unknown manifest media type, a digest algorithm other than
 * sha256/sha512). On error *m holds nothing; oci_manifest_free is harmless.
 */
int	 oci_manifest_parse(const char *body, size_t len, const char *content_type,
	    struct oci_manifest *m, char *err, size_t errlen);
void	 oci_manifest_free(struct oci_manifest *);
void	 oci_desc_clear(struct oci_desc *);

/* 1 if the layer d may live outside the registry, so a manifest PUT need
 * not find its blob: a Docker foreign or OCI non-distributable layer type
 * whose descriptor carries urls (Distribution 2.8's rule). */
int	 oci_layer_external(const struct oci_desc *d);

/* Compact JSON bodies, malloc'd; NULL if a string is not valid UTF-8 or an
 * annotations_json is not a JSON object. */
char	*oci_referrers_json(const struct oci_desc *descs, size_t n);
char	*oci_tags_json(const char *name, char *const *tags, size_t n);
char	*oci_catalog_json(char *const *repos, size_t n);
/* Never NULL: detail is embedded as JSON if it parses, else as a string;
 * bytes that are not valid UTF-8 become '?'. */
char	*oci_error_json(const char *code, const char *message, const char *detail);

/* 1 if stored_mt may answer a request with this Accept (NULL: no header). */
int	 oci_accept_ok(const char *accept, const char *stored_mt);
void	 oci_preload(void);

#endif
