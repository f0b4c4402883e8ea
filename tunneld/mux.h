/*
 * mux.h - one tunnel connection, as both roles use it: TLS over the event
 * loop, frames of lib/tframe, the table of visitor streams riding on it and
 * their flow control, and the heartbeat.
 *
 * Flow control: each stream may have MUX_WINDOW bytes in flight each way;
 * the receiver credits them back with WINDOW frames as it drains them into
 * the stream's socket, so a visitor that reads nothing stops its own
 * stream and nothing else.  Windows count stream bytes before any
 * compression (what the sender read, what the receiver writes), so what a
 * receiver buffers is bounded whatever a peer compresses.  What the
 * connection queues for TLS is bounded too: over MUX_OUT_HIGH, streams stop
 * reading their sockets until it is under MUX_OUT_LOW.
 *
 * Only the relay opens streams (a visitor arrived); the client accepts
 * them (mux_stream_accept) once it has dialled the local service.
 */
#ifndef TUNNELD_MUX_H
#define TUNNELD_MUX_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define MUX_WINDOW	(256u * 1024)
#define MUX_OUT_HIGH	(1024u * 1024)
#define MUX_OUT_LOW	(256u * 1024)
#define MUX_PING_MS	2000
#define MUX_DEAD_MS	6000
#define MUX_STREAMS_MAX	65536		/* open on one connection at once */

struct mux;
struct mstream;

struct mux_ops {
	/* TLS handshake done (the client checks the relay here); -1
	 * closes */
	int	(*ready)(struct mux *);
	/* a CTRL frame: one control message */
	void	(*ctrl)(struct mux *, const uint8_t *, size_t);
	/* client: the relay opened stream id, the OPEN payload */
	void	(*open)(struct mux *, uint32_t id, const uint8_t *, size_t);
	/* client: the local service's connect completed, before any byte
	 * goes to it (where a PROXY v2 header is written: see
	 * mux_stream_prepend); NULL: nothing to do */
	void	(*connected)(struct mux *, struct mstream *);
	/* a stream ends (closed both ways or reset), before it is freed */
	void	(*stream_end)(struct mux *, struct mstream *);
	/* the connection is gone; the mux is freed after this returns */
	void	(*closed)(struct mux *, const char *why);
};

struct mux_stats {
	uint64_t	 bytes_in;	/* stream bytes from the peer */
	uint64_t	 bytes_out;	/* stream bytes to the peer */
	uint64_t	 opened;	/* streams, in all */
};

/* A connection on fd with TLS session ssl (server: the relay's side);
 * takes both. */
struct mux *mux_new(int fd, SSL *ssl, int server, const struct mux_ops *,
	    void *arg);
/* End it now: every stream reset (its socket closed), ops->closed. */
void	 mux_close(struct mux *, const char *why);
/* Send what is queued, then close (after an error message to the peer). */
void	 mux_close_after_flush(struct mux *, const char *why);
void	*mux_arg(const struct mux *);
SSL	*mux_ssl(const struct mux *);
const char *mux_peer(const struct mux *);	/* "address:port" */
/* Streams may flow (the peer proved the token): before, only CTRL and
 * PING frames are taken. */
void	 mux_set_authed(struct mux *);
void	 mux_send_ctrl(struct mux *, const char *json, size_t len);
size_t	 mux_nstreams(const struct mux *);
const struct mux_stats *mux_stats(const struct mux *);

/* Relay: a stream for visitor socket fd (taken), announced with OPEN
 * carrying payload; NULL (fd closed) when the connection has no room. */
struct mstream *mux_stream_open(struct mux *, int fd, const void *payload,
	    size_t len, int compress);
/* Client: take stream id on socket fd (taken), connecting to the local
 * service when connecting is set; NULL (fd closed) if id is not new. */
struct mstream *mux_stream_accept(struct mux *, uint32_t id, int fd,
	    int connecting, int compress);
/* Client: refuse an OPEN (the local service is not there). */
void	 mux_stream_refuse(struct mux *, uint32_t id);
void	 mux_stream_set_tag(struct mstream *, void *);
void	*mux_stream_tag(const struct mstream *);
uint32_t mux_stream_id(const struct mstream *);
int	 mux_stream_fd(const struct mstream *);
void	 mux_stream_bytes(const struct mstream *, uint64_t *in, uint64_t *out);
/* Bytes that go to the stream's socket before any from the peer (at most
 * TF_OPEN_MAX: a PROXY v2 header); only from ops->connected. */
void	 mux_stream_prepend(struct mstream *, const void *, size_t);

#endif
