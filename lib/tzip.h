/*
 * tzip.h - compression of one direction of one tunnel stream: each DATA
 * frame's payload deflated on its own into a frame of its own (TF_F_ZLIB),
 * the dictionary carried from frame to frame (a sync flush ends each), so
 * small frames of a chatty protocol compress as well as one big stream.
 *
 * A frame that would not shrink goes raw, and a raw frame resets both ends'
 * zlib state: the sender resets on sending one, the receiver on receiving
 * one, so the two dictionaries stay in step without a word between them.
 * A stream of data that does not compress (gzip layers, most of a registry's
 * blobs) makes the sender stop trying for a growing number of frames and
 * give back its zlib memory meanwhile, so such a stream costs next to
 * nothing.
 *
 * The receiver trusts nothing: a frame that inflates past TF_DATA_MAX, to
 * nothing, into a final block, or that ends inside a deflate block or with
 * bytes after its data is refused (the caller resets the stream).
 */
#ifndef RM_TZIP_H
#define RM_TZIP_H

#include <stddef.h>
#include <stdint.h>

struct z_stream_s;

struct tzip_enc {
	struct z_stream_s *z;		/* NULL until tried, and while idle */
	int		 dirty;		/* z holds history since its reset */
	unsigned	 misses;	/* incompressible frames in a row */
	unsigned	 skip;		/* frames still to send untried */
	unsigned	 backoff;	/* the next skip, doubling */
	uint64_t	 in, out;	/* payload bytes before and after */
};

struct tzip_dec {
	struct z_stream_s *z;		/* NULL until the first deflated frame */
	int		 dirty;
};

void	 tzip_enc_init(struct tzip_enc *);
void	 tzip_enc_free(struct tzip_enc *);
void	 tzip_dec_init(struct tzip_dec *);
void	 tzip_dec_free(struct tzip_dec *);

/*
 * The payload to send for len (1..TF_DATA_MAX) bytes of stream data at in:
 * either out, holding *outlen deflated bytes, with TF_F_ZLIB in *flags, or
 * in itself (*outlen = len, *flags 0).  out holds TF_DATA_MAX bytes.
 */
const uint8_t *tzip_send(struct tzip_enc *, const uint8_t *in, size_t len,
	    uint8_t *out, size_t *outlen, uint8_t *flags);

/*
 * The stream data a DATA frame's payload of len bytes with flags carries:
 * the payload itself if it is raw, else out (TF_DATA_MAX bytes) holding
 * *outlen inflated bytes.  NULL, with *err saying why, for a payload no
 * sender of ours makes.
 */
const uint8_t *tzip_recv(struct tzip_dec *, uint8_t flags, const uint8_t *in,
	    size_t len, uint8_t *out, size_t *outlen, const char **err);

#endif
