/*
 * tzip.c - per-frame streaming deflate for tunnel streams (see tzip.h).
 * Raw deflate (no zlib header or Adler-32: TLS already guards the bytes),
 * level 1 (a tunnel's job is throughput) and a small window, because every
 * compressed stream direction holds a deflate state at one end and an
 * inflate state at the other and a flood of visitors must cost bounded
 * memory: 2^(WBITS+2) + 2^(MEMLEVEL+9) bytes per sender, 2^WBITS + 7 KiB
 * per receiver.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tframe.h"
#include "tzip.h"

#ifndef TZIP_WBITS
#define TZIP_WBITS	14	/* 16 KiB of history, 128 KiB per sender */
#endif
#ifndef TZIP_MEMLEVEL
#define TZIP_MEMLEVEL	7
#endif
#define TZIP_LEVEL	1
#define TZIP_MISSES	4	/* incompressible frames before backing off */
#define TZIP_BACKOFF0	8	/* frames skipped the first time */
#define TZIP_BACKOFF_MAX 1024	/* 64 MiB of full frames between tries */
#define TZIP_SAMPLE	4096	/* bytes looked at before deflating */

void
tzip_enc_init(struct tzip_enc *e)
{
	memset(e, 0, sizeof(*e));
	e->backoff = TZIP_BACKOFF0;
}

void
tzip_enc_free(struct tzip_enc *e)
{
	if (e->z != NULL) {
		deflateEnd(e->z);
		free(e->z);
	}
	e->z = NULL;
	e->dirty = 0;
}

void
tzip_dec_init(struct tzip_dec *d)
{
	memset(d, 0, sizeof(*d));
}

void
tzip_dec_free(struct tzip_dec *d)
{
	if (d->z != NULL) {
		inflateEnd(d->z);
		free(d->z);
	}
	d->z = NULL;
	d->dirty = 0;
}

/* A fresh deflate state for e, or 0 if zlib has no memory for one. */
static int
enc_open(struct tzip_enc *e)
{
	if ((e->z = calloc(1, sizeof(*e->z))) == NULL)
		return 0;
	if (deflateInit2(e->z, TZIP_LEVEL, Z_DEFLATED, -TZIP_WBITS,
	    TZIP_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(e->z);
		e->z = NULL;
		return 0;
	}
	return 1;
}

/*
 * Deflate in into out, which must come out at least 1/32 smaller (less is
 * not worth the receiver's inflate); the length, or 0 if it did not.
 * Success needs room left in out: with avail_out 0 zlib may still hold
 * output, and the frame could not be known complete.
 */
static size_t
enc_try(struct tzip_enc *e, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t room = len - len / 32;
	int rc;

	if (e->z == NULL && !enc_open(e))
		return 0;
	e->dirty = 1;
	e->z->next_in = (uint8_t *)(uintptr_t)in;
	e->z->avail_in = (uInt)len;
	e->z->next_out = out;
	e->z->avail_out = (uInt)room;
	rc = deflate(e->z, Z_SYNC_FLUSH);
	if ((rc != Z_OK && rc != Z_BUF_ERROR) || e->z->avail_in != 0 ||
	    e->z->avail_out == 0)
		return 0;
	return room - e->z->avail_out;
}

/*
 * Whether the frame's first bytes are as even as compressed or encrypted
 * data: a Renyi entropy above 7.5 bits a byte (sum of p^2 below 2^-7.5,
 * about 1/181).  Some microseconds for a byte histogram instead of the
 * milliseconds deflate spends on 64 KiB of gzip to learn it cannot win.
 */
static int
looks_random(const uint8_t *in, size_t len)
{
	uint32_t count[256] = { 0 };
	uint64_t sum = 0;
	size_t n = len < TZIP_SAMPLE ? len : TZIP_SAMPLE;

	if (n < TZIP_SAMPLE)
		return 0;	/* too few bytes to say; deflate is cheap */
	for (size_t i = 0; i < n; i++)
		count[in[i]]++;
	for (int c = 0; c < 256; c++)
		sum += (uint64_t)count[c] * count[c];
	return sum * 181 < (uint64_t)n * n;
}

/* A raw frame goes out: the receiver resets, so must we; a miss counts. */
static void
enc_raw(struct tzip_enc *e, int tried)
{
	if (e->dirty) {
		deflateReset(e->z);
		e->dirty = 0;
	}
	if (!tried || ++e->misses < TZIP_MISSES)
		return;
	e->skip = e->backoff;
	if (e->backoff < TZIP_BACKOFF_MAX)
		e->backoff *= 2;
	/* no history to keep while idle: give the memory back */
	tzip_enc_free(e);
}

const uint8_t *
tzip_send(struct tzip_enc *e, const uint8_t *in, size_t len, uint8_t *out,
    size_t *outlen, uint8_t *flags)
{
	size_t n = 0;
	int tried = 0;

	if (len == 0 || len > TF_DATA_MAX)
		abort();	/* a DATA frame cannot carry it */
	e->in += len;
	if (e->skip > 0)
		e->skip--;
	else {
		tried = 1;
		if (!looks_random(in, len))
			n = enc_try(e, in, len, out);
	}
	if (n == 0) {
		enc_raw(e, tried);
		e->out += len;
		*outlen = len;
		*flags = 0;
		return in;
	}
	e->misses = 0;
	e->backoff = TZIP_BACKOFF0;
	e->out += n;
	*outlen = n;
	*flags = TF_F_ZLIB;
	return out;
}

static const char *
dec_open(struct tzip_dec *d)
{
	if ((d->z = calloc(1, sizeof(*d->z))) == NULL)
		return "no memory for inflate";
	if (inflateInit2(d->z, -TZIP_WBITS) != Z_OK) {
		free(d->z);
		d->z = NULL;
		return "no memory for inflate";
	}
	return NULL;
}

/* Inflate a deflated payload into out; NULL if it is sound, else why not. */
static const char *
dec_inflate(struct tzip_dec *d, const uint8_t *in, size_t len, uint8_t *out,
    size_t *outlen)
{
	const char *err;
	int rc;

	if (d->z == NULL && (err = dec_open(d)) != NULL)
		return err;
	d->dirty = 1;
	d->z->next_in = (uint8_t *)(uintptr_t)in;
	d->z->avail_in = (uInt)len;
	d->z->next_out = out;
	d->z->avail_out = TF_DATA_MAX;
	rc = inflate(d->z, Z_SYNC_FLUSH);
	*outlen = TF_DATA_MAX - d->z->avail_out;
	if (rc == Z_STREAM_END)
		return "deflated payload ends the stream";
	if (rc != Z_OK && rc != Z_BUF_ERROR)
		return d->z->msg ? d->z->msg : "deflated payload is corrupt";
	/*
	 * A sync flush leaves inflate between blocks (data_type bit 7) with
	 * nothing held back, so out full anywhere else means more was coming.
	 */
	if (!(d->z->data_type & 128))
		return d->z->avail_out == 0 ?
		    "deflated payload inflates past a frame" :
		    "deflated payload ends inside a block";
	if (d->z->avail_in != 0)
		return "bytes after the deflated payload";
	if (*outlen == 0)
		return "deflated payload inflates to nothing";
	return NULL;
}

const uint8_t *
tzip_recv(struct tzip_dec *d, uint8_t flags, const uint8_t *in, size_t len,
    uint8_t *out, size_t *outlen, const char **err)
{
	*err = NULL;
	if (len == 0 || len > TF_DATA_MAX) {
		*err = "DATA payload length out of range";
		return NULL;
	}
	if (!(flags & TF_F_ZLIB)) {
		if (d->dirty) {
			inflateReset(d->z);
			d->dirty = 0;
		}
		*outlen = len;
		return in;
	}
	if ((*err = dec_inflate(d, in, len, out, outlen)) != NULL)
		return NULL;
	return out;
}
