/*
 * tframe.h - the frames of a tunnel connection between a tunnel client and
 * its relay, after TLS and the token handshake: visitor streams multiplexed
 * on one connection with per-stream flow control.  Declared once here and
 * used by both roles of tunneld, so the two ends cannot disagree.
 *
 * A frame is a 12-byte header, all fields big-endian, then its payload:
 *	type (1)  flags (1)  reserved, 0 (2)  stream (4)  length (4)
 * The decoder checks everything a frame's header promises (known type,
 * flags that type may carry, stream 0 for connection frames and non-zero
 * for stream frames, the payload length that type allows) before a byte of
 * the payload is looked at, so a hostile peer can make neither end buffer
 * more than TF_FRAME_MAX nor read a field that is not there.  What a frame
 * means for the state of a stream is the caller's to check.
 */
#ifndef RM_TFRAME_H
#define RM_TFRAME_H

#include <stddef.h>
#include <stdint.h>

#define TF_HDR		12
#define TF_DATA_MAX	(64u * 1024)	/* payload of one DATA frame */
#define TF_OPEN_MAX	512		/* what OPEN says of a visitor */
#define TF_CTRL_MAX	(16u * 1024)	/* one control message */
#define TF_FRAME_MAX	(TF_HDR + TF_DATA_MAX)
#define TF_WINDOW_MAX	0x7fffffffu	/* a window never grows past this */

enum tframe_type {
	TF_DATA = 0,	/* stream bytes */
	TF_OPEN,	/* a new stream: the visitor (proxy, address) */
	TF_CLOSE,	/* no more bytes this way; payload: none or a code */
	TF_WINDOW,	/* payload: 4 bytes, how many more bytes may come */
	TF_PING,	/* stream 0, payload: 8 opaque bytes, echoed with ACK */
	TF_CTRL,	/* stream 0: a control message (handshake, proxies) */
	TF_NTYPES
};

#define TF_F_ZLIB	0x01	/* DATA: the payload is deflated */
#define TF_F_ACK	0x02	/* PING: the answer to a ping */
#define TF_F_RST	0x04	/* CLOSE: abort both ways, not a half close */

struct tframe {
	enum tframe_type type;
	uint8_t		 flags;
	uint32_t	 stream;
	uint32_t	 len;		/* payload bytes */
	const uint8_t	*payload;	/* into the input */
	uint32_t	 value;		/* WINDOW: increment; CLOSE: code */
	uint64_t	 ping;		/* PING: the opaque value */
};

/*
 * Decode one frame from the first len bytes of buf into f.  Returns the
 * frame's size (header and payload) once it is all there, 0 if more bytes
 * are needed (and can come: the header was valid), -1 for a frame no peer
 * of ours sends, with *err saying why (for the log line).
 */
long	 tframe_parse(const uint8_t *buf, size_t len, struct tframe *f,
	    const char **err);

/*
 * Write the header of a frame of type, flags, stream and len bytes of
 * payload to out; the caller sends the payload after it (writev).  It is
 * a programming error (fatal) to ask for a frame tframe_parse refuses.
 */
void	 tframe_header(uint8_t out[TF_HDR], enum tframe_type, uint8_t flags,
	    uint32_t stream, uint32_t len);
/* Whole small frames, into out[TF_HDR + 8]; each returns its size. */
size_t	 tframe_window(uint8_t *out, uint32_t stream, uint32_t increment);
size_t	 tframe_close(uint8_t *out, uint32_t stream, int rst, uint32_t code);
size_t	 tframe_ping(uint8_t *out, int ack, uint64_t value);

const char *tframe_type_name(enum tframe_type);

#endif
