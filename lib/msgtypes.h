/*
 * msgtypes.h - every attribute and message type of the inter-process protocol,
 * declared once. msg.c builds the encoder/decoder tables from these lists, each
 * process's accept table names them, and the fuzz target walks them.
 *
 * ATTR(name, kind, max bytes)
 * MSG(name, is_reply, fields...) with fields REQ(attr) or OPT(attr)
 */
#ifndef RM_MSGTYPES_H
#define RM_MSGTYPES_H

#define MSG_ATTRS(ATTR) \
	ATTR(A_NAME,	  MK_STR,   256) \
	ATTR(A_VALUE,	  MK_STR,   65536) \
	ATTR(A_PEER,	  MK_U64,   8) \
	ATTR(A_FD,	  MK_FD,    0) \
	ATTR(A_PID,	  MK_U64,   8) \
	ATTR(A_REPO,	  MK_STR,   256) \
	ATTR(A_FROM,	  MK_STR,   256) \
	ATTR(A_REF,	  MK_STR,   256) \
	ATTR(A_DIGEST,	  MK_STR,   140) \
	ATTR(A_SIZE,	  MK_U64,   8) \
	ATTR(A_OFFSET,	  MK_U64,   8) \
	ATTR(A_LENGTH,	  MK_U64,   8) \
	ATTR(A_UUID,	  MK_STR,   64) \
	ATTR(A_MEDIATYPE, MK_STR,   256) \
	ATTR(A_BODY,	  MK_BYTES, 112 * 1024) \
	ATTR(A_CODE,	  MK_U64,   8) \
	ATTR(A_TEXT,	  MK_STR,   1024) \
	ATTR(A_LAST,	  MK_STR,   256) \
	ATTR(A_COUNT,	  MK_U64,   8) \
	ATTR(A_FILTER,	  MK_STR,   256) \
	ATTR(A_FLAGS,	  MK_U64,   8) \
	ATTR(A_TIME,	  MK_U64,   8) \
	ATTR(A_ADDR,	  MK_STR,   64) \
	ATTR(A_REQID,	  MK_U64,   8) \
	ATTR(A_USER,	  MK_STR,   256) \
	ATTR(A_SECRET,	  MK_STR,   1024) \
	ATTR(A_WANT,	  MK_U64,   8) \
	ATTR(A_GRANT,	  MK_U64,   8) \
	ATTR(A_KEYID,	  MK_U64,   8) \
	ATTR(A_SCOPE,	  MK_STR,   8192) \
	ATTR(A_PATH,	  MK_STR,   1023)

#define MSG_TYPES(MSG, REQ, OPT) \
	/* master <-> every worker */ \
	MSG(M_PING,		0, OPT(A_PID)) \
	MSG(M_PONG,		1, REQ(A_PID)) \
	MSG(M_CONF_SET,		0, REQ(A_NAME) REQ(A_VALUE)) \
	MSG(M_CONF_END,		0, OPT(A_FLAGS)) \
	MSG(M_PEER,		0, REQ(A_PEER) REQ(A_FD) OPT(A_FLAGS)) \
	MSG(M_LISTEN,		0, REQ(A_FD) REQ(A_NAME) OPT(A_FLAGS)) \
	MSG(M_STOP,		0, OPT(A_TIME)) \
	MSG(M_LOG_FD,		0, REQ(A_FD)) \
	/* generic replies */ \
	MSG(M_DONE,		1, OPT(A_COUNT)) \
	MSG(M_ERR,		1, REQ(A_CODE) OPT(A_TEXT) OPT(A_VALUE)) \
	/* httpd -> storaged: blobs */ \
	MSG(M_BLOB_STAT,	0, REQ(A_REPO) REQ(A_DIGEST)) \
	MSG(M_BLOB_OPEN,	0, REQ(A_REPO) REQ(A_DIGEST)) \
	MSG(M_BLOB_DELETE,	0, REQ(A_REPO) REQ(A_DIGEST)) \
	MSG(M_BLOB_MOUNT,	0, REQ(A_REPO) REQ(A_DIGEST) OPT(A_FROM)) \
	MSG(M_BLOB,		1, REQ(A_DIGEST) REQ(A_SIZE) OPT(A_FD)) \
	/* httpd -> storaged: uploads */ \
	MSG(M_UPLOAD_START,	0, REQ(A_REPO) OPT(A_ADDR)) \
	MSG(M_UPLOAD_WRITE,	0, REQ(A_REPO) REQ(A_UUID) REQ(A_OFFSET) \
	    OPT(A_LENGTH) REQ(A_FD) OPT(A_FLAGS)) \
	/* how the body of write A_REQID ended: A_LENGTH bytes, or (none) \
	 * it failed; a notification, never answered */ \
	MSG(M_UPLOAD_END,	0, REQ(A_REPO) REQ(A_UUID) REQ(A_REQID) \
	    OPT(A_LENGTH)) \
	MSG(M_UPLOAD_STATUS,	0, REQ(A_REPO) REQ(A_UUID)) \
	MSG(M_UPLOAD_COMMIT,	0, REQ(A_REPO) REQ(A_UUID) REQ(A_DIGEST)) \
	MSG(M_UPLOAD_CANCEL,	0, REQ(A_REPO) REQ(A_UUID)) \
	MSG(M_UPLOAD,		1, REQ(A_UUID) REQ(A_OFFSET) OPT(A_DIGEST)) \
	/* httpd -> storaged: manifests, tags, catalog, referrers */ \
	MSG(M_MANIFEST_GET,	0, REQ(A_REPO) REQ(A_REF)) \
	MSG(M_MANIFEST_PUT,	0, REQ(A_REPO) REQ(A_REF) REQ(A_MEDIATYPE) \
	    REQ(A_SIZE) OPT(A_BODY) OPT(A_FD) OPT(A_FLAGS)) \
	MSG(M_MANIFEST_DELETE,	0, REQ(A_REPO) REQ(A_REF)) \
	MSG(M_MANIFEST,		1, REQ(A_DIGEST) REQ(A_MEDIATYPE) REQ(A_SIZE) \
	    OPT(A_BODY) OPT(A_FD) OPT(A_REF)) \
	MSG(M_TAGS_LIST,	0, REQ(A_REPO) OPT(A_LAST) OPT(A_COUNT)) \
	MSG(M_CATALOG,		0, OPT(A_LAST) OPT(A_COUNT)) \
	MSG(M_REFERRERS,	0, REQ(A_REPO) REQ(A_DIGEST) OPT(A_FILTER) \
	    OPT(A_LAST) OPT(A_COUNT)) \
	MSG(M_LIST,		1, REQ(A_BODY) OPT(A_LAST) OPT(A_FD) \
	    OPT(A_SIZE)) \
	/* master -> httpd: the certificate chains of a TLS generation, then \
	 * its end (optional client CA bundle); A_KEYID names the key in authd */ \
	MSG(M_TLS_CERT,		0, REQ(A_KEYID) REQ(A_BODY)) \
	MSG(M_TLS_END,		0, REQ(A_KEYID) OPT(A_BODY)) \
	/* master -> httpd: the CA bundle of upstream A_KEYID (cache.upstreams \
	 * index), opened by master: httpd's chroot holds none */ \
	MSG(M_CACHE_CA,		0, REQ(A_KEYID) REQ(A_FD)) \
	/* master -> authd: a private key (PEM) of generation A_KEYID >> 8 */ \
	MSG(M_TLS_KEY,		0, REQ(A_KEYID) REQ(A_BODY)) \
	/* httpd -> authd on the ca channel: sign with key A_KEYID; A_CODE \
	 * the operation (TLS_OP_*), A_FLAGS the RSA padding */ \
	MSG(M_TLS_SIGN,		0, REQ(A_KEYID) REQ(A_CODE) OPT(A_FLAGS) \
	    REQ(A_BODY)) \
	MSG(M_TLS_SIGNED,	1, REQ(A_BODY)) \
	/* httpd -> authd: may this client do A_WANT (ACL_* bits) on A_REPO? \
	 * A_USER/A_SECRET from Basic, or A_USER alone from a verified client \
	 * certificate (A_FLAGS AUTH_F_CERT); neither: anonymous */ \
	MSG(M_AUTH_CHECK,	0, REQ(A_ADDR) OPT(A_USER) OPT(A_SECRET) \
	    OPT(A_REPO) REQ(A_WANT) OPT(A_FLAGS)) \
	/* A_CODE: 0 granted (A_GRANT may be less than wanted), 401, 429 \
	 * (A_TIME: seconds to wait); A_TIME with 0: seconds it may be cached */ \
	MSG(M_AUTH,		1, REQ(A_CODE) OPT(A_USER) OPT(A_GRANT) \
	    OPT(A_TIME)) \
	/* httpd -> authd: a token for the scopes (one per line, \
	 * "repository:NAME:pull,push"), for service A_NAME */ \
	MSG(M_TOKEN_ISSUE,	0, REQ(A_ADDR) OPT(A_USER) OPT(A_SECRET) \
	    OPT(A_SCOPE) OPT(A_NAME) OPT(A_FLAGS)) \
	/* A_CODE as M_AUTH, or 400 (A_NAME not auth.service, A_SCOPE does \
	 * not parse, over JWT_ACCESS_MAX scopes); A_VALUE the JWT, A_TIME \
	 * its lifetime in seconds */ \
	MSG(M_TOKEN,		1, REQ(A_CODE) OPT(A_VALUE) OPT(A_TIME) \
	    OPT(A_USER)) \
	/* authd -> httpd, notifications: the token verification key (public \
	 * PEM, A_NAME its kid: when the link starts if users are configured, \
	 * else when they are or before the first M_TOKEN); forget cached \
	 * decisions (users or rules changed) */ \
	MSG(M_TOKEN_KEY,	0, REQ(A_BODY) REQ(A_NAME)) \
	MSG(M_AUTH_FLUSH,	0, OPT(A_COUNT)) \
	/* httpd -> authd: audit records, JSON lines, batched; notification */ \
	MSG(M_AUDIT,		0, REQ(A_BODY) OPT(A_COUNT)) \
	/* master -> authd: the audit file, opened for appending (at spawn \
	 * and after every reload); no A_FD: the audit log is off */ \
	MSG(M_AUDIT_FD,		0, OPT(A_FD)) \
	/* master -> storaged, once, as root: storaged's end of its repair \
	 * channel (M_STORE_REPAIR only), beside the control link */ \
	MSG(M_REPAIR_FD,	0, REQ(A_FD)) \
	/* storaged -> master on the repair channel: a write under A_PATH \
	 * (relative to the store root, below docker/registry/v2) failed \
	 * with EACCES or EPERM; give what is in the way to storaged's user. \
	 * M_DONE{A_COUNT entries changed}, or M_ERR: RE_NAME_INVALID not a \
	 * store path, RE_TOOMANYREQUESTS the repair budget is spent */ \
	MSG(M_STORE_REPAIR,	0, REQ(A_PATH)) \
	/* master -> tunneld: the relay's certificate chain (M_TLS_CERT), its \
	 * key (M_TLS_KEY), their end (M_TLS_END), all with A_KEYID 0xff; \
	 * and the CA bundle that verifies the relay (tunnel.client.ca) */ \
	MSG(M_TUNNEL_CA,	0, REQ(A_BODY)) \
	/* master -> tunneld: the status page's htpasswd file (the bytes of \
	 * tunnel.relay.status_htpasswd; tunneld's sandbox opens no file) */ \
	MSG(M_TUNNEL_USERS,	0, REQ(A_BODY)) \
	/* tunneld -> master: open public port A_CODE for a group; master \
	 * checks tunnel.relay.ports: M_BOUND, or M_ERR{A_TEXT the reason} */ \
	MSG(M_TUNNEL_BIND,	0, REQ(A_CODE)) \
	MSG(M_BOUND,		1, REQ(A_FD)) \
	/* master -> tunneld: the status document (`regmaster status`) */ \
	MSG(M_TUNNEL_STATUS,	0, OPT(A_FLAGS)) \
	MSG(M_STATUS,		1, REQ(A_BODY)) \
	/* master -> every worker: its figures for a scrape, Prometheus text \
	 * (lib/mtext.h) master checks before serving; M_METRICS, or M_ERR. \
	 * Offset 0 (or none) renders them; A_SIZE says how long they are and \
	 * master asks for the rest from A_OFFSET, in pieces of one A_BODY */ \
	MSG(M_METRICS_GET,	0, OPT(A_FLAGS) OPT(A_OFFSET)) \
	MSG(M_METRICS,		1, REQ(A_BODY) OPT(A_SIZE)) \
	/* httpd -> master, from the metrics listener: the whole page \
	 * (every worker's checked part and master's own figures) in a \
	 * memfd of A_SIZE bytes, so that no message bounds it; or M_ERR */ \
	MSG(M_SCRAPE,		0, OPT(A_FLAGS)) \
	MSG(M_SCRAPE_PAGE,	1, REQ(A_FD) REQ(A_SIZE)) \
	/* httpd -> master: is the registry ready (/readyz)? M_DONE, or \
	 * M_ERR{A_CODE 503, A_TEXT which part is not} */ \
	MSG(M_READY_GET,	0, OPT(A_FLAGS)) \
	/* master -> storaged: can the store be written (a scratch file \
	 * made, written and removed)? M_DONE, or M_ERR{A_TEXT why not} */ \
	MSG(M_STORE_PROBE,	0, OPT(A_FLAGS)) \
	/* gcd -> storaged, a collection: begin (from now on storaged \
	 * remembers every blob committed, mounted or referenced by a manifest \
	 * PUT, those of PUTs in flight too; M_ERR RE_UNAVAILABLE while the \
	 * index builds); sweep blobs, A_BODY a batch of digests (lib/gcbatch.h, \
	 * at most GCB_MAX), each refused if remembered, younger than gc.grace \
	 * or a manifest some repository links; drop a repository's layer \
	 * links to blobs this run swept (a batch too): both answered \
	 * M_GC_SWEPT{A_BODY one result a digest, in order, with the bytes \
	 * freed}; delete tag \
	 * A_REF if it still names A_DIGEST, or without \
	 * A_REF the revision A_DIGEST if no tag names it and it is not \
	 * remembered (RE_DENIED); remove upload sessions idle A_TIME seconds \
	 * (M_DONE{A_COUNT removed}); end */ \
	MSG(M_GC_BEGIN,		0, OPT(A_FLAGS)) \
	MSG(M_GC_SWEEP,		0, REQ(A_BODY)) \
	MSG(M_GC_UNLINK,	0, REQ(A_REPO) REQ(A_BODY)) \
	MSG(M_GC_SWEPT,		1, REQ(A_BODY)) \
	MSG(M_GC_MANIFEST,	0, REQ(A_REPO) REQ(A_DIGEST) OPT(A_REF)) \
	MSG(M_GC_UPLOADS,	0, REQ(A_TIME)) \
	MSG(M_GC_END,		0, OPT(A_FLAGS)) \
	/* gcd -> storaged, before a run reads the store: write the last pull \
	 * times noted (M_DONE once they are on disk) */ \
	MSG(M_GC_SYNC,		0, OPT(A_FLAGS)) \
	/* master -> gcd: collect now (A_FLAGS GC_F_DRY_RUN: report what would \
	 * go, delete nothing); M_STATUS{A_BODY the summary line}, or M_ERR \
	 * when one runs already.  gcd -> master after each run, a \
	 * notification: the storage usage it saw, lines for `regmaster \
	 * status` */ \
	MSG(M_GC_RUN,		0, OPT(A_FLAGS)) \
	MSG(M_GC_USAGE,		0, REQ(A_BODY))

/* A_FLAGS of M_UPLOAD_WRITE: the body's end is confirmed by M_UPLOAD_END
 * (a chunked body, whose clean end only httpd can tell). */
#define UPLOAD_F_CONFIRM	0x1
/* M_MANIFEST_PUT A_FLAGS: a pull-through cache's copy, stored before its
 * blobs (they are fetched when first asked for): no reference check */
#define MANIFEST_F_CACHED	0x1

/* A_FLAGS of M_LISTEN: TLS is spoken on this listener; every connection
 * on it starts with a PROXY v2 header (http.proxy_listen). */
#define LISTEN_F_TLS		0x1
#define LISTEN_F_PROXY		0x2
/* ... the metrics listener (metrics.listen): /metrics, /healthz and
 * /readyz only, never the registry API. */
#define LISTEN_F_METRICS	0x4

/* A_FLAGS of M_PEER: this socket is httpd's synchronous channel to authd's
 * key holder (M_TLS_SIGN only), besides the ordinary link. */
#define PEER_F_CA		0x1

/* A_CODE of M_TLS_SIGN. */
#define TLS_OP_RSA_PRIVATE	1	/* RSA private encrypt, A_FLAGS padding */
#define TLS_OP_ECDSA_SIGN	2	/* ECDSA over a digest, DER signature */

/* A_FLAGS of M_GC_RUN. */
#define GC_F_DRY_RUN		0x1

/* A_FLAGS of M_AUTH_CHECK / M_TOKEN_ISSUE. */
#define AUTH_F_CERT		0x1	/* A_USER is a verified certificate's */
#define AUTH_F_OFFLINE		0x2	/* offline_token=true was asked */

#endif
