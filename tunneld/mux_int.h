/*
 * mux_int.h - what mux.c (the connection) and mux_stream.c (its streams)
 * share; nobody else includes it.
 */
#ifndef TUNNELD_MUX_INT_H
#define TUNNELD_MUX_INT_H

#include <sys/queue.h>

#include "buf.h"
#include "ev.h"
#include "mux.h"
#include "tframe.h"
#include "tzip.h"

#define MUX_BUCKETS	1024		/* stream table, chained */
#define MUX_IN_MAX	(2 * TF_FRAME_MAX)
#define MUX_CREDIT_AT	(MUX_WINDOW / 8)	/* WINDOW once this drained */

struct mstream {
	struct mux		*mux;
	uint32_t		 id;
	int			 fd;
	int			 events;	/* interest asked of ev */
	unsigned		 connecting:1;	/* client: dialling local */
	unsigned		 rd_eof:1;	/* socket said EOF: CLOSE sent */
	unsigned		 peer_eof:1;	/* peer sent CLOSE */
	unsigned		 wr_shut:1;	/* we shut the socket's write */
	unsigned		 blocked:1;	/* on the connection's list */
	unsigned		 compress:1;
	uint32_t		 send_win;	/* bytes we may still send */
	uint32_t		 recv_avail;	/* bytes the peer may still send */
	uint32_t		 unacked;	/* drained, not yet credited */
	uint32_t		 own;		/* head of out that is ours */
	struct buf		 out;		/* from the peer, for the socket */
	struct tzip_enc		 zenc;		/* compress: what we send */
	struct tzip_dec		 zdec;		/* compress: what comes */
	uint64_t		 bytes_in, bytes_out;
	void			*tag;
	struct mstream		*hnext;
	LIST_ENTRY(mstream)	 all;
	TAILQ_ENTRY(mstream)	 bl;
};

struct mux {
	int			 fd;
	SSL			*ssl;
	int			 server;
	int			 handshaken;
	int			 authed;
	int			 dead;
	int			 busy;		/* in mux_event: free later */
	int			 flush_close;	/* close once out is sent */
	int			 draining;	/* sent, half closed: reading */
	int			 events;
	int			 rd_wants_write, wr_wants_read;
	char			 why[128];
	char			 peer[64];
	struct buf		 out;		/* frames for SSL_write */
	uint8_t			*in;		/* MUX_IN_MAX */
	size_t			 inlen;
	uint64_t		 last_rx;
	uint64_t		 ping_seq;
	struct ev_timer		 ping_timer;
	struct ev_timer		 flush_timer;	/* at the end of this loop turn */
	struct mstream		*table[MUX_BUCKETS];
	LIST_HEAD(, mstream)	 streams;
	TAILQ_HEAD(, mstream)	 blocked;
	size_t			 nstreams;
	uint32_t		 next_id;
	struct mux_stats	 st;
	const struct mux_ops	*ops;
	void			*arg;
};

/* mux.c */
void	 mux_want_write(struct mux *);
void	 mux_queue(struct mux *, const void *, size_t);
int	 mux_out_full(const struct mux *);
/* mux_stream.c */
struct mstream *stream_find(struct mux *, uint32_t id);
int	 stream_frame(struct mux *, const struct tframe *, const char **err);
void	 stream_free(struct mstream *, int rst);
void	 streams_unblock(struct mux *);
void	 streams_close_all(struct mux *);

#endif
