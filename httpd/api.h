/*
 * api.h - what the Distribution API files of httpd share: the per-request
 * state (struct api_req, hung on conn->api), the parsed route, and the
 * helpers that talk to storaged and turn its answers into responses.
 *
 * Rule of every handler and callback: a call that responds (conn_respond*,
 * api_error*, api_send on failure) may finish the request and free both the
 * api_req and, on a closing connection, the conn; it is always the last
 * thing done with them.
 */
#ifndef RM_HTTPD_API_H
#define RM_HTTPD_API_H

#include <stdint.h>

#include "auth.h"
#include "conn.h"
#include "digest.h"
#include "link.h"
#include "oci.h"

#define API_REF_MAX	256		/* tag, digest or uuid from the path */
#define API_UUID_MAX	64		/* A_UUID's limit, NUL included */
#define API_LIST_MAX	10000		/* most entries of one list page */
#define API_INLINE_MAX	(100 * 1024)	/* larger manifests go as a memfd */

enum api_route {
	R_BASE, R_CATALOG, R_TAGS, R_MANIFEST, R_BLOB, R_UPLOAD_START,
	R_UPLOAD, R_REFERRERS
};

/* After an upload's bytes are in: answer with the status, or commit. */
enum up_next { UP_STATUS, UP_COMMIT };

/* The state of an upload write: the body and storaged's reply race. */
enum up_part { UPW_PENDING, UPW_OK, UPW_FAILED };

struct creq;
struct fwd;

struct api_req {
	enum api_route	 route;
	char		 repo[OCI_NAME_MAX + 1];
	char		 ref[API_REF_MAX];	/* tag or digest (manifests) */
	char		 digest[DIGEST_STRMAX];	/* canonical: path or query */
	char		 uuid[API_UUID_MAX];
	/* uploads */
	enum up_next	 up_next;
	int		 monolithic;		/* POST ?digest= */
	enum up_part	 w_body, w_reply;
	int		 w_body_err;		/* conn status of a failure */
	/* a chunked write awaits M_UPLOAD_END: write w_id on w_link */
	int		 w_confirm;
	uint32_t	 w_id;
	struct link	*w_link;
	uint64_t	 offset;		/* upload size from storaged */
	/* listings */
	int		 has_n;
	uint64_t	 n;
	int		 filtered;		/* referrers ?artifactType= */
	struct auth_req	 auth;			/* who asks, may they (auth.c) */
	struct creq	*cache;			/* a cached name's (cache.c) */
	struct fwd	*fwd;			/* a forwarded push's */
};

/* api.c: shared helpers */
void	 api_error(struct conn *, int regerr, const char *detail);
void	 api_error_status(struct conn *, int status, const char *code,
	    const char *message, const char *detail);
void	 api_unavailable(struct conn *);
void	 api_send(struct conn *, struct msgb *, link_reply_cb);
int	 api_reply_ok(struct conn *, struct msg *, int type);
int	 api_parse_digest(struct conn *, const char *s, char *out, size_t);
int	 api_delete_enabled(struct conn *);
int	 api_query_u64(struct conn *, const char *key, uint64_t max, int *has,
	    uint64_t *out);
int	 api_query_str(struct conn *, const char *key, char *out, size_t len,
	    int regerr);
void	 api_route(struct conn *);	/* run the route (auth.c allowed it) */
void	 api_base(struct conn *);	/* GET /v2/ answered here */

/* api_blob.c; api_on_blob(_stat): storaged's answer to M_BLOB_OPEN
 * (M_BLOB_STAT) served */
void	 api_on_blob(struct link *, struct msg *, void *conn);
void	 api_on_blob_stat(struct link *, struct msg *, void *conn);
void	 api_blob_headers(struct conn *, const char *digest);
void	 api_blob(struct conn *);
void	 api_upload_start(struct conn *);
void	 api_upload(struct conn *);
void	 api_upload_closed(struct conn *);

/* api_manifest.c; api_on_manifest: storaged's M_MANIFEST served;
 * api_manifest_ref: the path's reference checked (a digest made
 * canonical), -1 answered; api_header_safe: a header value */
void	 api_on_manifest(struct link *, struct msg *, void *conn);
int	 api_manifest_ref(struct conn *, int bad_tag);
int	 api_header_safe(const char *);
int	 api_body_memfd(const char *, size_t);	/* sealed; -1 failed */
void	 api_manifest(struct conn *);
void	 api_tags(struct conn *);
void	 api_catalog(struct conn *);
void	 api_referrers(struct conn *);

#endif
