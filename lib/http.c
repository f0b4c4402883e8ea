/*
 * http.c - strict HTTP/1.1 request-side parsing for httpd: request heads
 * (in place, no allocation), chunked request bodies (incremental, so payload
 * can be spliced straight from the socket), Range / Content-Range, query
 * strings and paths. Everything ambiguous is rejected rather than guessed at,
 * because a lenient parser behind a proxy is how requests get smuggled.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "http.h"
#include "util.h"

enum chunk_state {
	CH_SIZE,		/* hex digits of the chunk size */
	CH_SIZE_BWS,		/* whitespace after the size, before ';' */
	CH_EXT,			/* chunk extensions, ignored */
	CH_SIZE_LF,		/* LF ending the size line */
	CH_DATA,		/* payload */
	CH_DATA_CR,		/* CR after the payload */
	CH_DATA_LF,		/* LF after the payload */
	CH_TRAILER_START,	/* start of a trailer line or the final CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,		/* LF of the final empty line */
	CH_DONE,
	CH_ERROR
};

struct head_state {
	int	 ncl;		/* Content-Length fields seen */
	int	 nte;		/* Transfer-Encoding fields seen */
	int	 te_bad;	/* a transfer coding other than chunked */
	int	 nhost;		/* Host fields seen */
	int	 conn_close;
	int	 conn_keep;
};

static const char *const method_names[] = {
	[HTTP_M_GET] = "GET",
	[HTTP_M_HEAD] = "HEAD",
	[HTTP_M_PUT] = "PUT",
	[HTTP_M_POST] = "POST",
	[HTTP_M_PATCH] = "PATCH",
	[HTTP_M_DELETE] = "DELETE",
	[HTTP_M_OPTIONS] = "OPTIONS",
};

static const struct {
	int		 code;
	const char	*text;
} status_texts[] = {
	{ 100, "Continue" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 206, "Partial Content" },
	{ 301, "Moved Permanently" },
	{ 307, "Temporary Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 505, "HTTP Version Not Supported" },
};

/* Is c a letter or a digit (ASCII only, locale-independent)? */
static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Is c a decimal digit? */
static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Is c allowed in a token (RFC 9110 tchar)? */
static int
is_tchar(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Is c allowed in a field value: HT, visible ASCII, SP, obs-text? */
static int
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Is c optional whitespace (SP or HT)? */
static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Is c allowed raw in an origin-form target (RFC 3986 pchar, '/', '?')? */
static int
is_target_char(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/?%", c));
}

/* Is c allowed in a Host value (reg-name, IP literal, port)? */
static int
is_host_char(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:[]%", c));
}

/* Value of hex digit c, -1 if it is not one. */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse s[0..n) as 1+ decimal digits no larger than max; 0 ok, -1 otherwise. */
static int
parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t	 i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Compare s[0..n) with the NUL-terminated word w, ignoring case. */
static int
word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* Is the target of the request line starting at buf[from] already too long? */
static int
target_too_long(const char *buf, size_t from, size_t n)
{
	size_t	 i = from, t;

	while (i < n && buf[i] != ' ' && buf[i] != '\n')
		i++;
	if (i >= n || buf[i] != ' ')
		return 0;
	t = ++i;
	while (i < n && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		i++;
	return i - t > HTTP_MAX_TARGET;
}

/*
 * Find the end of the head: 1 with *end just past the empty line, 0 when
 * more bytes are needed, or a negative status. Checks every byte on the way:
 * no NUL or control characters but HT, CR only as part of CRLF. Empty lines
 * before the request line are skipped (RFC 9112 section 2.2).
 */
static int
head_scan(const char *buf, size_t len, size_t *start, size_t *end)
{
	size_t	 n = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t	 i, ls = 0;
	unsigned char c;

	*start = 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)buf[i];
		if (c == '\r') {
			if (i + 1 < n && buf[i + 1] != '\n')
				return -400;
		} else if (c == '\n') {
			if (i > ls && !(i - ls == 1 && buf[ls] == '\r')) {
				ls = i + 1;
				continue;
			}
			if (ls == *start) {
				/* empty line before the request line */
				ls = *start = i + 1;
				continue;
			}
			*end = i + 1;
			return 1;
		} else if (c != '\t' && (c < 0x20 || c == 0x7f))
			return -400;
	}
	if (target_too_long(buf, *start, n))
		return -414;
	return len >= HTTP_MAX_HEAD ? -431 : 0;
}

/* Cut the next line off buf[*pos..end) and NUL-terminate it in place. */
static char *
next_line(char *buf, size_t *pos, size_t end, size_t *linelen)
{
	char	*line = buf + *pos, *lf;
	size_t	 n;

	lf = memchr(line, '\n', end - *pos);	/* head_scan found one */
	n = (size_t)(lf - line);
	*pos += n + 1;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*linelen = n;
	return line;
}

/* Map a method token to its enum. */
static enum http_method
method_lookup(const char *s)
{
	size_t	 i;

	for (i = 0; i < nitems(method_names); i++)
		if (strcmp(s, method_names[i]) == 0)
			return (enum http_method)i;
	return HTTP_M_OTHER;
}

/* Check an origin-form or "*" target; split it at '?' into path and query. */
static int
parse_target(char *t, struct http_request *req)
{
	char	*p;

	req->target = req->path = t;
	req->query = t + strlen(t);
	if (strcmp(t, "*") == 0)
		return req->method == HTTP_M_OPTIONS ? 0 : -400;
	if (t[0] != '/')
		return -400;
	for (p = t; *p != '\0'; p++) {
		if (!is_target_char((unsigned char)*p))
			return -400;
		if (*p == '%' && (hexval((unsigned char)p[1]) < 0 ||
		    hexval((unsigned char)p[2]) < 0))
			return -400;
	}
	if ((p = strchr(t, '?')) != NULL) {
		*p = '\0';
		req->query = p + 1;
	}
	return 0;
}

/* Parse "HTTP/1.0" or "HTTP/1.1" from v[0..n). */
static int
parse_version(const char *v, size_t n, int *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    !is_digit((unsigned char)v[5]) || v[6] != '.' ||
	    !is_digit((unsigned char)v[7]))
		return -400;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return -505;
	*minor = v[7] - '0';
	return 0;
}

/* Parse "method SP target SP version" in line[0..n), cutting it in place. */
static int
parse_request_line(char *line, size_t n, struct http_request *req)
{
	size_t	 i = 0, t;
	int	 rc;

	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == n || line[i] != ' ')
		return -400;
	line[i++] = '\0';
	req->method_str = line;
	req->method = method_lookup(line);
	t = i;
	while (i < n && line[i] != ' ')
		i++;
	if (i - t > HTTP_MAX_TARGET)
		return -414;
	if (i == t || i == n)
		return -400;
	line[i++] = '\0';
	if ((rc = parse_version(line + i, n - i, &req->minor)) != 0)
		return rc;
	return parse_target(line + t, req);
}

/* Split a field line "name: value" in place; no obs-fold, no SP before ':'. */
static int
parse_field(char *line, size_t n, struct http_header *h)
{
	size_t	 i = 0, e;

	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == n || line[i] != ':')
		return -400;	/* also obs-fold: a line starting with SP/HT */
	line[i++] = '\0';
	while (i < n && is_ows((unsigned char)line[i]))
		i++;
	for (e = n; e > i && is_ows((unsigned char)line[e - 1]); e--)
		;
	line[e] = '\0';
	h->name = line;
	h->value = line + i;
	return 0;
}

/* Is v a valid Host field value? */
static int
host_valid(const char *v)
{
	for (; *v != '\0'; v++)
		if (!is_host_char((unsigned char)*v))
			return 0;
	return 1;
}

/* Apply the fields that frame the message or steer the connection. */
static int
field_semantics(struct http_request *req, const struct http_header *h,
    struct head_state *st)
{
	uint64_t cl;

	if (strcasecmp(h->name, "Content-Length") == 0) {
		if (st->ncl++ > 0)
			return -400;
		if (parse_dec(h->value, strlen(h->value),
		    HTTP_MAX_CONTENT_LENGTH, &cl) == -1)
			return -400;
		req->content_length = (int64_t)cl;
	} else if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
		if (st->nte++ > 0 || h->value[0] == '\0')
			return -400;
		if (strcasecmp(h->value, "chunked") == 0)
			req->chunked = 1;
		else
			st->te_bad = 1;
	} else if (strcasecmp(h->name, "Host") == 0) {
		if (st->nhost++ > 0 || !host_valid(h->value))
			return -400;
	} else if (strcasecmp(h->name, "Connection") == 0) {
		st->conn_close |= http_list_has(h->value, "close");
		st->conn_keep |= http_list_has(h->value, "keep-alive");
	} else if (strcasecmp(h->name, "Expect") == 0) {
		if (strcasecmp(h->value, "100-continue") == 0 &&
		    req->expect_continue != -1)
			req->expect_continue = 1;
		else
			req->expect_continue = -1;
	}
	return 0;
}

/* Checks that need every field: framing conflicts, Host, keep-alive. */
static int
head_finish(struct http_request *req, const struct head_state *st)
{
	if (req->minor == 1 && st->nhost == 0)
		return -400;
	if (st->nte > 0 && (st->ncl > 0 || req->minor == 0))
		return -400;
	if (st->te_bad)
		return -501;
	if (req->minor == 1)
		req->keep_alive = !st->conn_close;
	else
		req->keep_alive = st->conn_keep && !st->conn_close;
	if (req->minor == 0 && req->expect_continue == 1)
		req->expect_continue = 0;	/* RFC 9110 10.1.1 */
	return 0;
}

/* The field lines after the first line, up to the empty one. */
static int
parse_fields(char *buf, size_t pos, size_t end, struct http_request *req,
    struct head_state *st)
{
	struct http_header *h;
	size_t	 n;
	char	*line;
	int	 rc;

	for (;;) {
		line = next_line(buf, &pos, end, &n);
		if (n == 0)
			return 0;
		if (req->nhdr == HTTP_MAX_HEADERS)
			return -431;
		h = &req->hdr[req->nhdr];
		if ((rc = parse_field(line, n, h)) != 0 ||
		    (rc = field_semantics(req, h, st)) != 0)
			return rc;
		req->nhdr++;
	}
}

typedef int (*first_line_fn)(char *, size_t, struct http_request *);

/*
 * The part of a head that requests and responses share: the blank-line scan,
 * the first line (by first), the fields.  Returns the head's length or what
 * went wrong; the callers add their own checks of the whole.
 */
static int
parse_head(char *buf, size_t len, struct http_request *req,
    struct head_state *st, first_line_fn first)
{
	size_t	 start, end, pos, n;
	char	*line;
	int	 rc;

	memset(req, 0, sizeof(*req));
	memset(st, 0, sizeof(*st));
	req->content_length = -1;
	if ((rc = head_scan(buf, len, &start, &end)) <= 0)
		return rc;
	pos = start;
	line = next_line(buf, &pos, end, &n);
	if ((rc = first(line, n, req)) != 0 ||
	    (rc = parse_fields(buf, pos, end, req, st)) != 0)
		return rc;
	return (int)end;
}

/* Parse a request head from buf[0..len); see http.h. */
int
http_parse_request(char *buf, size_t len, struct http_request *req)
{
	struct head_state st;
	int	 rc, end;

	if ((end = parse_head(buf, len, req, &st, parse_request_line)) <= 0)
		return end;
	if ((rc = head_finish(req, &st)) != 0)
		return rc;
	req->head_len = (size_t)end;
	return end;
}

/* Parse "HTTP/1.x NNN reason" in line[0..n). */
static int
parse_status_line(char *line, size_t n, struct http_request *req)
{
	uint64_t code;
	int rc;

	if (n < 12 || line[8] != ' ' || (n > 12 && line[12] != ' '))
		return -400;
	if ((rc = parse_version(line, 8, &req->minor)) != 0)
		return rc;
	if (parse_dec(line + 9, 3, 999, &code) == -1 || code < 100)
		return -400;
	for (size_t i = 13; i < n; i++)
		if (!is_field_char((unsigned char)line[i]))
			return -400;
	req->status = (int)code;
	req->method = HTTP_M_OTHER;
	req->method_str = req->target = req->path = req->query = line + n;
	return 0;
}

/* Parse a response head from buf[0..len); see http.h. */
int
http_parse_response(char *buf, size_t len, struct http_request *req)
{
	struct head_state st;
	int	 end;

	/* a status line has no target, so "too long" is only malformed */
	if ((end = parse_head(buf, len, req, &st, parse_status_line)) <= 0)
		return end == -414 ? -400 : end;
	if ((st.nte > 0 && st.ncl > 0) || st.te_bad)
		return -400;
	req->keep_alive = req->minor == 1 ? !st.conn_close : st.conn_keep &&
	    !st.conn_close;
	req->head_len = (size_t)end;
	return end;
}

/* Index of the first header called name at or after from, -1 if none. */
int
http_header_index(const struct http_request *req, const char *name, int from)
{
	int	 i;

	for (i = from < 0 ? 0 : from; i < req->nhdr; i++)
		if (strcasecmp(req->hdr[i].name, name) == 0)
			return i;
	return -1;
}

/* Value of the first header called name, NULL if none. */
const char *
http_header_get(const struct http_request *req, const char *name)
{
	int	 i;

	if ((i = http_header_index(req, name, 0)) == -1)
		return NULL;
	return req->hdr[i].value;
}

/* Does the comma-separated list value hold token (case-insensitive)? */
int
http_list_has(const char *value, const char *token)
{
	const char *p = value, *e;
	size_t	 n;

	while (*p != '\0') {
		n = strcspn(p, ",");
		e = p + n;
		while (p < e && is_ows((unsigned char)*p))
			p++;
		while (e > p && is_ows((unsigned char)e[-1]))
			e--;
		if (word_eq(p, (size_t)(e - p), token))
			return 1;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Start decoding a chunked body. */
void
http_chunked_init(struct http_chunked *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->state = CH_SIZE;
}

/* Begin the next chunk-size line. */
static void
chunk_size_reset(struct http_chunked *ch)
{
	ch->state = CH_SIZE;
	ch->left = 0;
	ch->ndigits = 0;
	ch->extlen = 0;
}

/* One byte of the chunk-size line; 0 ok, -1 protocol error. */
static int
chunk_size_byte(struct http_chunked *ch, unsigned char c)
{
	int	 v;

	switch (ch->state) {
	case CH_SIZE:
		if ((v = hexval(c)) >= 0) {
			if (++ch->ndigits > 15)
				return -1;
			ch->left = ch->left << 4 | (uint64_t)v;
			return ch->left > HTTP_MAX_CONTENT_LENGTH ? -1 : 0;
		}
		if (ch->ndigits == 0)
			return -1;
		/* FALLTHROUGH */
	case CH_SIZE_BWS:
		if (is_ows(c))
			ch->state = CH_SIZE_BWS;
		else if (c == ';')
			ch->state = CH_EXT;
		else if (c == '\r' && ch->state == CH_SIZE)
			ch->state = CH_SIZE_LF;
		else
			return -1;
		break;
	case CH_EXT:
		if (c == '\r')
			ch->state = CH_SIZE_LF;
		else if (!is_field_char(c))
			return -1;
		break;
	default:	/* CH_SIZE_LF */
		if (c != '\n')
			return -1;
		ch->state = ch->left > 0 ? CH_DATA : CH_TRAILER_START;
		return 0;
	}
	if (ch->state != CH_SIZE && ch->state != CH_SIZE_LF &&
	    ++ch->extlen > HTTP_CHUNK_MAX_EXT)
		return -1;
	return 0;
}

/* One byte of the trailer section; 0 ok, -1 protocol error. */
static int
chunk_trailer_byte(struct http_chunked *ch, unsigned char c)
{
	if (++ch->traillen > HTTP_CHUNK_MAX_TRAILER)
		return -1;
	switch (ch->state) {
	case CH_TRAILER_START:
		if (c == '\r')
			ch->state = CH_END_LF;
		else if (is_tchar(c))
			ch->state = CH_TRAILER_NAME;
		else
			return -1;	/* obs-fold, empty name, junk */
		break;
	case CH_TRAILER_NAME:
		if (c == ':')
			ch->state = CH_TRAILER_VALUE;
		else if (!is_tchar(c))
			return -1;
		break;
	case CH_TRAILER_VALUE:
		if (c == '\r')
			ch->state = CH_TRAILER_LF;
		else if (!is_field_char(c))
			return -1;
		break;
	case CH_TRAILER_LF:
		if (c != '\n')
			return -1;
		ch->state = CH_TRAILER_START;
		break;
	default:	/* CH_END_LF */
		if (c != '\n')
			return -1;
		ch->state = CH_DONE;
		break;
	}
	return 0;
}

/* One framing byte in any state but CH_DATA; 0 ok, -1 protocol error. */
static int
chunk_byte(struct http_chunked *ch, unsigned char c)
{
	if (c == '\n')
		ch->linelen = 0;
	else if (c != '\r' && ++ch->linelen > HTTP_CHUNK_MAX_LINE)
		return -1;
	switch (ch->state) {
	case CH_DATA_CR:
		if (c != '\r')
			return -1;
		ch->state = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -1;
		chunk_size_reset(ch);
		return 0;
	case CH_SIZE:
	case CH_SIZE_BWS:
	case CH_EXT:
	case CH_SIZE_LF:
		return chunk_size_byte(ch, c);
	case CH_TRAILER_START:
	case CH_TRAILER_NAME:
	case CH_TRAILER_VALUE:
	case CH_TRAILER_LF:
	case CH_END_LF:
		return chunk_trailer_byte(ch, c);
	default:
		return -1;
	}
}

/* Consume chunked framing and at most one payload run from in[0..len). */
ssize_t
http_chunked_step(struct http_chunked *ch, const char *in, size_t len,
    const char **data, size_t *datalen, int *done)
{
	size_t	 i = 0, k;

	*data = NULL;
	*datalen = 0;
	*done = 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (i < len && ch->state != CH_DONE) {
		if (ch->state == CH_DATA) {
			k = len - i;
			if (ch->left < k)
				k = (size_t)ch->left;
			*data = in + i;
			*datalen = k;
			http_chunked_payload_skip(ch, k);
			i += k;
			break;
		}
		if (chunk_byte(ch, (unsigned char)in[i]) == -1) {
			ch->state = CH_ERROR;
			*data = NULL;
			*datalen = 0;
			return -1;
		}
		i++;
	}
	if (ch->state == CH_ERROR)
		return -1;
	*done = ch->state == CH_DONE;
	return (ssize_t)i;
}

/* Payload bytes still due in the current chunk. */
uint64_t
http_chunked_payload_left(const struct http_chunked *ch)
{
	return ch->state == CH_DATA ? ch->left : 0;
}

/* Account for n payload bytes moved by the caller; too many is an error. */
void
http_chunked_payload_skip(struct http_chunked *ch, uint64_t n)
{
	if (n == 0)
		return;
	if (ch->state != CH_DATA || n > ch->left) {
		ch->state = CH_ERROR;
		return;
	}
	ch->left -= n;
	if (ch->left == 0)
		ch->state = CH_DATA_CR;
}

/* Parse the single range of a Range header against a resource of size bytes. */
int
http_parse_range(const char *value, uint64_t size, uint64_t *start,
    uint64_t *end)
{
	const char *r, *dash;
	uint64_t a, b = UINT64_MAX;
	size_t	 alen;

	if (value == NULL || strncasecmp(value, "bytes=", 6) != 0)
		return -1;
	r = value + 6;
	if ((dash = strchr(r, '-')) == NULL)
		return -1;
	alen = (size_t)(dash - r);
	if (dash[1] != '\0' &&
	    parse_dec(dash + 1, strlen(dash + 1), UINT64_MAX, &b) == -1)
		return -1;	/* also catches ',' of a multi-range */
	if (alen == 0) {
		if (dash[1] == '\0')
			return -1;
		if (b == 0)
			return 1;
		if (size == 0)
			return -1;	/* the whole (empty) resource */
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return 0;
	}
	if (parse_dec(r, alen, UINT64_MAX, &a) == -1 || b < a)
		return -1;
	if (a >= size)
		return 1;
	*start = a;
	*end = b < size - 1 ? b : size - 1;
	return 0;
}

/* Parse "a-b" at s, ending at '\0' or '/'; *rest points past it. */
static int
parse_span(const char *s, uint64_t *start, uint64_t *end, const char **rest)
{
	const char *dash, *e;

	if ((dash = strchr(s, '-')) == NULL)
		return -1;
	e = dash + 1 + strcspn(dash + 1, "/");
	if (parse_dec(s, (size_t)(dash - s), HTTP_MAX_CONTENT_LENGTH,
	    start) == -1 ||
	    parse_dec(dash + 1, (size_t)(e - dash - 1), HTTP_MAX_CONTENT_LENGTH,
	    end) == -1 || *end < *start)
		return -1;
	*rest = e;
	return 0;
}

/* Parse an upload Content-Range in the forms Docker and OCI clients send. */
int
http_parse_content_range(const char *value, uint64_t *start, uint64_t *end)
{
	const char *rest;
	uint64_t a, b, total;

	if (value == NULL)
		return -1;
	if (strncasecmp(value, "bytes=", 6) == 0) {
		if (parse_span(value + 6, &a, &b, &rest) == -1 || *rest != '\0')
			return -1;
	} else if (strncasecmp(value, "bytes ", 6) == 0) {
		if (parse_span(value + 6, &a, &b, &rest) == -1 || *rest != '/')
			return -1;
		rest++;
		if (strcmp(rest, "*") != 0 &&
		    (parse_dec(rest, strlen(rest), HTTP_MAX_CONTENT_LENGTH,
		    &total) == -1 || b >= total))
			return -1;
	} else if (parse_span(value, &a, &b, &rest) == -1 || *rest != '\0')
		return -1;
	*start = a;
	*end = b;
	return 0;
}

/* Decode one form-encoded byte at *p (before e); -1 on a bad escape. */
static int
form_byte(const char **p, const char *e)
{
	const char *s = *p;
	int	 hi, lo;

	if (*s == '+') {
		*p = s + 1;
		return ' ';
	}
	if (*s != '%') {
		*p = s + 1;
		return (unsigned char)*s;
	}
	if (e - s < 3 || (hi = hexval((unsigned char)s[1])) < 0 ||
	    (lo = hexval((unsigned char)s[2])) < 0)
		return -1;
	*p = s + 3;
	return hi << 4 | lo;
}

/* Does the encoded name s[..e) decode to key? 1 yes, 0 no, -1 bad escape. */
static int
form_name_eq(const char *s, const char *e, const char *key)
{
	int	 c;

	while (s < e) {
		if ((c = form_byte(&s, e)) == -1)
			return -1;
		if (*key == '\0' || (unsigned char)*key != c)
			return 0;
		key++;
	}
	return *key == '\0';
}

/* Decode the value s[..e) into out; -1 bad escape, control or too long. */
static int
form_value(const char *s, const char *e, char *out, size_t outlen)
{
	size_t	 n = 0;
	int	 c;

	while (s < e) {
		if ((c = form_byte(&s, e)) == -1 || c < 0x20 || c == 0x7f ||
		    n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[n] = '\0';
	return 1;
}

/* Find key in a form-encoded query, decode its value into out; see http.h. */
int
http_query_get(const char *query, const char *key, char *out, size_t outlen)
{
	const char *p = query, *e, *eq;
	int	 rc;

	if (query == NULL)
		return 0;
	while (*p != '\0') {
		e = p + strcspn(p, "&");
		if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL)
			eq = e;
		if ((rc = form_name_eq(p, eq, key)) == -1)
			return -1;
		if (rc == 1)
			return form_value(eq < e ? eq + 1 : e, e, out, outlen);
		p = *e == '&' ? e + 1 : e;
	}
	return 0;
}

/* Percent-decode path in place; no NUL, no control characters, no %2F. */
int
http_path_decode(char *path)
{
	char	*r = path, *w = path;
	int	 hi, lo, c;

	while (*r != '\0') {
		c = (unsigned char)*r++;
		if (c == '%') {
			if ((hi = hexval((unsigned char)r[0])) < 0 ||
			    (lo = hexval((unsigned char)r[1])) < 0)
				return -1;
			c = hi << 4 | lo;
			r += 2;
			if (c == '/')
				return -1;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		*w++ = (char)c;
	}
	*w = '\0';
	return 0;
}

/* Reason phrase of status. */
const char *
http_status_text(int status)
{
	size_t	 i;

	for (i = 0; i < nitems(status_texts); i++)
		if (status_texts[i].code == status)
			return status_texts[i].text;
	return "Unknown";
}

/* Name of method m, NULL for HTTP_M_OTHER. */
const char *
http_method_name(enum http_method m)
{
	if ((size_t)m >= nitems(method_names))
		return NULL;
	return method_names[m];
}

int
http_query_escape(const char *s, const char *keep, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (n + 4 > len)
			return -1;
		if (is_alnum(ch) || strchr(keep, ch) != NULL) {
			out[n++] = (char)ch;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[ch >> 4];
		out[n++] = hex[ch & 15];
	}
	out[n] = '\0';
	return 0;
}
