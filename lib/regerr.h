/*
 * regerr.h - the registry error codes of the OCI distribution spec, shared by
 * storaged (which detects most of them) and httpd (which turns them into
 * status lines and JSON bodies).  Declared once here.
 *
 * E(id, "CODE", http status, "message")
 */
#ifndef RM_REGERR_H
#define RM_REGERR_H

#define REG_ERRORS(E) \
	E(RE_BLOB_UNKNOWN, "BLOB_UNKNOWN", 404, "blob unknown to registry") \
	E(RE_BLOB_UPLOAD_INVALID, "BLOB_UPLOAD_INVALID", 400, "blob upload invalid") \
	E(RE_BLOB_UPLOAD_UNKNOWN, "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry") \
	E(RE_DIGEST_INVALID, "DIGEST_INVALID", 400, "provided digest did not match uploaded content") \
	E(RE_MANIFEST_BLOB_UNKNOWN, "MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry") \
	E(RE_MANIFEST_INVALID, "MANIFEST_INVALID", 400, "manifest invalid") \
	E(RE_MANIFEST_UNKNOWN, "MANIFEST_UNKNOWN", 404, "manifest unknown to registry") \
	E(RE_NAME_INVALID, "NAME_INVALID", 400, "invalid repository name") \
	E(RE_NAME_UNKNOWN, "NAME_UNKNOWN", 404, "repository name not known to registry") \
	E(RE_SIZE_INVALID, "SIZE_INVALID", 400, "provided length did not match content length") \
	E(RE_UNAUTHORIZED, "UNAUTHORIZED", 401, "authentication required") \
	E(RE_DENIED, "DENIED", 403, "requested access to the resource is denied") \
	E(RE_UNSUPPORTED, "UNSUPPORTED", 405, "the operation is unsupported") \
	E(RE_TOOMANYREQUESTS, "TOOMANYREQUESTS", 429, "too many requests") \
	E(RE_TAG_INVALID, "TAG_INVALID", 400, "manifest tag did not match URI") \
	E(RE_RANGE_INVALID, "BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable") \
	E(RE_UNAVAILABLE, "UNAVAILABLE", 503, "service unavailable, try again") \
	E(RE_INTERNAL, "UNKNOWN", 500, "internal error") \
	E(RE_TOO_LARGE, "SIZE_INVALID", 413, "content too large")

#define X_RE(id, code, status, msg) id,
enum reg_err { RE_NONE = 0, REG_ERRORS(X_RE) RE_MAX };
#undef X_RE

const char *regerr_code(int);		/* "BLOB_UNKNOWN" */
int	 regerr_status(int);		/* 404 */
const char *regerr_message(int);

#endif
