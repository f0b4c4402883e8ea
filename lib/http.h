/* http.h - HTTP/1.1 request side: heads, chunked bodies, ranges, queries. */
#ifndef RM_HTTP_H
#define RM_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD		(16 * 1024)	/* request line + headers */
#define HTTP_MAX_HEADERS	64
#define HTTP_MAX_TARGET		4096
#define HTTP_MAX_CONTENT_LENGTH	(UINT64_C(1) << 62)

#define HTTP_CHUNK_MAX_EXT	256		/* chunk-ext on a size line */
#define HTTP_CHUNK_MAX_LINE	4096		/* a framing or trailer line */
#define HTTP_CHUNK_MAX_TRAILER	(8 * 1024)	/* the trailer section */

enum http_method {
	HTTP_M_GET, HTTP_M_HEAD, HTTP_M_PUT, HTTP_M_POST, HTTP_M_PATCH,
	HTTP_M_DELETE, HTTP_M_OPTIONS, HTTP_M_OTHER
};

struct http_header {
	char	*name;			/* NUL-terminated in place */
	char	*value;			/* OWS trimmed, NUL-terminated */
};

struct http_request {
	enum http_method method;
	char	*method_str;
	char	*target;	/* request-target, cut at '?': equals path */
	char	*path;		/* target up to '?', NUL-terminated */
	char	*query;		/* after '?', or "" */
	int	 minor;		/* HTTP/1.minor: 0 or 1 */
	struct http_header hdr[HTTP_MAX_HEADERS];
	int	 nhdr;
	size_t	 head_len;	/* head bytes including the final CRLFCRLF */
	int64_t	 content_length;/* -1 when absent */
	int	 chunked;	/* Transfer-Encoding: chunked */
	int	 keep_alive;	/* version default and Connection */
	int	 expect_continue;/* 1 100-continue, -1 other, 0 none */
	int	 status;	/* a response's (http_parse_response) */
};

/*
 * Parse a request head from buf[0..len). Returns the head length (> 0) when
 * complete, 0 when more bytes are needed (len < HTTP_MAX_HEAD), or a negative
 * HTTP status: -400 malformed, -431 head too large or too many headers,
 * -414 target too long, -501 unsupported Transfer-Encoding, -505 bad version.
 * On success NULs have been written into buf and req points into it.
 */
int	 http_parse_request(char *buf, size_t len, struct http_request *req);

/*
 * Parse a response head (an upstream registry's) the same way, into the
 * same struct: status set, method HTTP_M_OTHER, path and query "".  The
 * same limits; -400 for a malformed head (also both Content-Length and
 * Transfer-Encoding, or a coding other than chunked), -431 too large.
 */
int	 http_parse_response(char *buf, size_t len, struct http_request *req);

/* Value of the first header called name (case-insensitive), NULL if none. */
const char *http_header_get(const struct http_request *, const char *name);

/* Index of the first header called name at or after index from, -1 if none. */
int	 http_header_index(const struct http_request *, const char *name,
	    int from);

/* 1 if the comma-separated list value holds token (any case), else 0. */
int	 http_list_has(const char *value, const char *token);

/* Incremental decoder of a chunked request body. */
struct http_chunked {
	int	 state;
	uint64_t left;		/* payload due in the current chunk */
	size_t	 linelen;	/* bytes of the current framing line */
	size_t	 extlen;	/* bytes of chunk-ext on the size line */
	size_t	 traillen;	/* trailer section bytes so far */
	int	 ndigits;	/* hex digits of the chunk size */
};

void	 http_chunked_init(struct http_chunked *);

/*
 * Consume framing and payload from in[0..len). Returns the number of bytes
 * consumed (>= 0) or -1 on a protocol error. Payload found is returned in
 * *data / *datalen (pointing into in, counted in the return value), at most
 * one run per call, so callers loop. *done becomes 1 once the last-chunk and
 * the trailer section have been consumed; bytes after that are not consumed.
 */
ssize_t	 http_chunked_step(struct http_chunked *, const char *in, size_t len,
	    const char **data, size_t *datalen, int *done);

/* Payload bytes still due in the current chunk (0 while in framing). */
uint64_t http_chunked_payload_left(const struct http_chunked *);

/* The caller moved n payload bytes itself (e.g. splice); n <= payload_left. */
void	 http_chunked_payload_skip(struct http_chunked *, uint64_t n);

/*
 * Range header, single range only: "bytes=a-b", "bytes=a-", "bytes=-n".
 * Returns 0 with inclusive *start / *end on a satisfiable range, 1 when it
 * cannot be satisfied (answer 416), -1 when absent, invalid or multi-range
 * (serve the whole resource).
 */
int	 http_parse_range(const char *value, uint64_t size, uint64_t *start,
	    uint64_t *end);

/*
 * Upload Content-Range as Docker / OCI clients send it: "a-b" (inclusive),
 * "bytes a-b/total", "bytes a-b/" "*" (any total) or "bytes=a-b".
 * Returns 0 ok, -1 invalid (also b < a, or b >= total).
 */
int	 http_parse_content_range(const char *value, uint64_t *start,
	    uint64_t *end);

/*
 * Find key in an application/x-www-form-urlencoded query and decode its value
 * into out. Returns 1 found, 0 absent, -1 bad escape, value too long for
 * outlen, or a decoded value holding NUL or control characters.
 */
int	 http_query_get(const char *query, const char *key, char *out,
	    size_t outlen);

/* Percent-encode s for a query value into out: letters, digits and the
 * bytes of keep stay, the rest become %XX; -1 if out is too small. */
int	 http_query_escape(const char *s, const char *keep, char *out,
	    size_t outlen);

/* Percent-decode a path in place; -1 on a bad escape, %2F, NUL or controls. */
int	 http_path_decode(char *path);

/* Reason phrase of a status code, "Unknown" for codes a registry never uses. */
const char *http_status_text(int status);

/* Name of a method, NULL for HTTP_M_OTHER. */
const char *http_method_name(enum http_method);

#endif
