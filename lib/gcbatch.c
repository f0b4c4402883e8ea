/*
 * gcbatch.c - the sweep batches of gcd and storaged (see gcbatch.h).  The
 * body comes from another process: every entry is checked (algorithm
 * known, whole) before a digest is made of it.
 */
#include <string.h>

#include "buf.h"
#include "gcbatch.h"

void
gcb_add(struct buf *b, const struct digest *d)
{
	unsigned char e[1 + 64];

	e[0] = (unsigned char)d->alg;
	digest_raw(d, e + 1);
	buf_append(b, e, 1 + digest_hexlen(d->alg) / 2);
}

int
gcb_next(const void *body, size_t len, size_t *off, struct digest *d)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)body + *off;
	size_t n;

	if (*off >= len)
		return 0;
	if (p[0] != DIGEST_SHA256 && p[0] != DIGEST_SHA512)
		return -1;
	d->alg = (enum digest_alg)p[0];
	n = digest_hexlen(d->alg) / 2;
	if (len - *off - 1 < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		d->hex[2 * i] = hx[p[1 + i] >> 4];
		d->hex[2 * i + 1] = hx[p[1 + i] & 15];
	}
	d->hex[2 * n] = '\0';
	*off += 1 + n;
	return 1;
}

int
gcb_parse(const void *body, size_t len, struct digest *ds, size_t max)
{
	struct digest d;
	size_t off = 0, n = 0;
	int rc;

	while ((rc = gcb_next(body, len, &off, &d)) == 1) {
		if (n == max || n == GCB_MAX)
			return -1;
		ds[n++] = d;
	}
	return rc == -1 ? -1 : (int)n;
}

void
gcb_result_add(struct buf *b, enum gcb_result r, uint64_t size)
{
	unsigned char e[GCB_RESULT_LEN];

	e[0] = (unsigned char)r;
	for (int i = 0; i < 8; i++)
		e[1 + i] = (unsigned char)(size >> (56 - 8 * i));
	buf_append(b, e, sizeof(e));
}

int
gcb_result_get(const void *body, size_t len, size_t n, enum gcb_result *r,
    uint64_t *size)
{
	const unsigned char *p = (const unsigned char *)body +
	    n * GCB_RESULT_LEN;

	if (n >= len / GCB_RESULT_LEN || p[0] > GCB_FAILED)
		return -1;
	*r = (enum gcb_result)p[0];
	*size = 0;
	for (int i = 0; i < 8; i++)
		*size = *size << 8 | p[1 + i];
	return 0;
}

const char *
gc_swept_hex(const char *name)
{
	const size_t pl = sizeof(GC_SWEPT_PREFIX) - 1;

	return strncmp(name, GC_SWEPT_PREFIX, pl) == 0 ? name + pl : NULL;
}
