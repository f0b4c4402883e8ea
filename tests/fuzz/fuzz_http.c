/*
 * fuzz_http.c - libFuzzer target for lib/http.c. Parses the input as a
 * request head, checks what the parser promises (prefixes need more bytes,
 * the head alone parses the same, fields are trimmed and bounded), then runs
 * the rest through the chunked decoder twice, whole and in pseudo-random
 * pieces with spliced payload, and insists both agree. Range, Content-Range,
 * query and path helpers get the header values and the remaining bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct chunk_result {
	int	 status;	/* 1 done, 0 truncated, -1 error */
	size_t	 used;		/* bytes consumed */
	size_t	 outlen;	/* payload bytes */
};

#define CHECK(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

/* Small deterministic generator seeded from the input. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* FNV-1a of the input, as the generator seed. */
static uint32_t
seed_of(const uint8_t *d, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *d++) * 16777619u;
	return h ? h : 1;
}

/*
 * Decode in[0..len) as a chunked body into out. With seed 0 everything
 * available is offered at once; otherwise input arrives in random pieces
 * and payload is sometimes "spliced" by the caller via payload_skip.
 */
static void
chunk_decode(const char *in, size_t len, uint32_t seed, char *out,
    struct chunk_result *res)
{
	struct http_chunked ch;
	const char *data;
	size_t	 pos = 0, avail, dl, k;
	uint64_t left;
	ssize_t	 r;
	int	 done = 0;

	http_chunked_init(&ch);
	res->outlen = 0;
	avail = seed ? rnd(&seed) % (len + 1) : len;
	for (;;) {
		left = http_chunked_payload_left(&ch);
		if (seed && left > 0 && pos < avail && rnd(&seed) % 3 == 0) {
			k = avail - pos;
			if (left < k)
				k = (size_t)left;
			k = 1 + rnd(&seed) % k;
			memcpy(out + res->outlen, in + pos, k);
			res->outlen += k;
			pos += k;
			http_chunked_payload_skip(&ch, k);
			CHECK(http_chunked_payload_left(&ch) == left - k);
			continue;
		}
		r = http_chunked_step(&ch, in + pos, avail - pos, &data, &dl,
		    &done);
		if (r < 0) {
			res->status = -1;
			res->used = pos;
			return;
		}
		CHECK((size_t)r <= avail - pos);
		CHECK(dl <= (size_t)r);
		if (dl > 0) {
			CHECK(data >= in + pos && data + dl <= in + pos + r);
			memcpy(out + res->outlen, data, dl);
			res->outlen += dl;
		}
		pos += (size_t)r;
		if (done)
			break;
		if (r == 0 || pos == avail) {
			if (avail == len)
				break;
			avail += 1 + (seed ? rnd(&seed) % (len - avail) : 0);
		}
	}
	res->status = done;
	res->used = pos;
}

/* Decode a chunked body whole and in pieces; both must agree. */
static void
chunk_oracle(const char *in, size_t len, uint32_t seed)
{
	struct chunk_result a, b;
	char	*oa, *ob;

	oa = malloc(len + 1);
	ob = malloc(len + 1);
	CHECK(oa != NULL && ob != NULL);
	chunk_decode(in, len, 0, oa, &a);
	chunk_decode(in, len, seed, ob, &b);
	CHECK(a.status == b.status);
	CHECK(a.outlen <= a.used);
	if (a.status != -1) {
		CHECK(a.used == b.used);
		CHECK(a.outlen == b.outlen);
	}
	CHECK(memcmp(oa, ob, a.outlen < b.outlen ? a.outlen : b.outlen) == 0);
	free(oa);
	free(ob);
}

/* Run the value helpers on the NUL-terminated string s. */
static void
helpers(const char *s, uint64_t size)
{
	uint64_t a, b;
	char	 out[256], *p;
	int	 rc;

	rc = http_parse_range(s, size, &a, &b);
	if (rc == 0)
		CHECK(a <= b && b < size);
	rc = http_parse_content_range(s, &a, &b);
	if (rc == 0)
		CHECK(a <= b);
	if (http_query_get(s, "digest", out, sizeof(out)) == 1)
		CHECK(strlen(out) < sizeof(out));
	(void)http_query_get(s, "n", out, 4);
	(void)http_query_get(s, "", out, sizeof(out));
	(void)http_list_has(s, "close");
	if ((p = strdup(s)) == NULL)
		return;
	if (http_path_decode(p) == 0) {
		CHECK(strlen(p) <= strlen(s));
		for (rc = 0; p[rc] != '\0'; rc++)
			CHECK((unsigned char)p[rc] >= 0x20 && p[rc] != 0x7f);
	}
	free(p);
}

/* What a successful parse promises about req. */
static void
check_request(const struct http_request *req, const char *buf, size_t len)
{
	const char *v;
	size_t	 n;
	int	 i;

	CHECK(req->head_len > 0 && req->head_len <= len &&
	    req->head_len <= HTTP_MAX_HEAD);
	CHECK(req->minor == 0 || req->minor == 1);
	CHECK(req->nhdr >= 0 && req->nhdr <= HTTP_MAX_HEADERS);
	CHECK(req->target == req->path);
	CHECK(req->path[0] == '/' || strcmp(req->path, "*") == 0);
	CHECK(strlen(req->path) <= HTTP_MAX_TARGET);
	CHECK(req->method_str >= buf && req->method_str < buf + len);
	CHECK(!(req->chunked && req->content_length >= 0));
	CHECK(req->content_length >= -1);
	for (i = 0; i < req->nhdr; i++) {
		CHECK(req->hdr[i].name[0] != '\0');
		v = req->hdr[i].value;
		n = strlen(v);
		CHECK(n == 0 || (v[0] != ' ' && v[0] != '\t' &&
		    v[n - 1] != ' ' && v[n - 1] != '\t'));
		CHECK(http_header_index(req, req->hdr[i].name, 0) <= i);
		CHECK(http_header_get(req, req->hdr[i].name) != NULL);
	}
	CHECK(http_header_get(req, "X-No-Such-Header-Here") == NULL ||
	    http_header_index(req, "x-no-such-header-here", 0) >= 0);
}

/* Parse a fresh copy of the first n input bytes. */
static int
parse_copy(const uint8_t *data, size_t n)
{
	struct http_request req;
	char	*b;
	int	 rc;

	if ((b = malloc(n ? n : 1)) == NULL)
		return -1;
	memcpy(b, data, n);
	rc = http_parse_request(b, n, &req);
	free(b);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	uint32_t seed = seed_of(data, size);
	const char *v;
	char	*buf, *rest, *q;
	size_t	 body, blen;
	int	 rc;

	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = http_parse_request(buf, size, &req);
	CHECK(rc <= (int)size);
	CHECK(rc >= 0 || rc == -400 || rc == -414 || rc == -431 ||
	    rc == -501 || rc == -505);
	CHECK(rc != 0 || size < HTTP_MAX_HEAD);
	if (rc <= 0) {
		chunk_oracle((const char *)data, size, seed);
		if ((rest = strndup((const char *)data, size)) != NULL) {
			helpers(rest, size);
			free(rest);
		}
		free(buf);
		return 0;
	}
	check_request(&req, buf, size);
	/* the head alone parses the same; a prefix of it needs more */
	CHECK(parse_copy(data, (size_t)rc) == rc);
	CHECK(parse_copy(data, rnd(&seed) % (size_t)rc) == 0);

	body = (size_t)rc;
	blen = size - body;
	if (req.chunked)
		chunk_oracle((const char *)data + body, blen, seed);
	if ((v = http_header_get(&req, "Range")) != NULL)
		helpers(v, (uint64_t)blen);
	if ((v = http_header_get(&req, "Content-Range")) != NULL)
		helpers(v, (uint64_t)blen);
	helpers(req.query, (uint64_t)rnd(&seed));
	if ((q = strdup(req.path)) != NULL) {
		(void)http_path_decode(q);
		free(q);
	}
	if ((rest = strndup((const char *)data + body, blen)) != NULL) {
		helpers(rest, (uint64_t)req.content_length + 1);
		free(rest);
	}
	(void)http_status_text(-rc);
	(void)http_method_name(req.method);
	free(buf);
	return 0;
}
