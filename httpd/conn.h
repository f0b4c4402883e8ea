/*
 * conn.h - one HTTP/1.1 client connection in httpd: reading request heads,
 * moving request bodies (into memory or straight into a pipe to storaged),
 * and writing responses (from memory or a file descriptor via sendfile).
 * The API layer (api.c) sees requests through this interface only.
 */
#ifndef RM_HTTPD_CONN_H
#define RM_HTTPD_CONN_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ev.h"
#include "http.h"
#include "link.h"

struct addr_count;
struct api_req;
struct conn;

/* Body moved: err is 0, or an HTTP status to answer (400 bad framing,
 * 413 too large, 408 stalled or under http.body_min_rate, 503 over the
 * in-memory budget, 429 over the address's share of it) or -1 when the
 * client went away. */
typedef void (*conn_body_cb)(struct conn *, int err);

enum conn_state { CS_HEAD, CS_HANDLE, CS_LINGER, CS_CLOSED };
enum body_kind { BK_NONE, BK_LENGTH, BK_CHUNKED };
enum body_sink { SINK_NONE, SINK_MEM, SINK_PIPE, SINK_DISCARD };

struct conn {
	int		 fd;
	char		 addr[64];		/* client address, text */
	struct addr_count *ac;			/* that address's shares */
	void		*tls;			/* SSL *; NULL on plain TCP */
	int		 tls_hs;		/* its handshake is not over */
	int		 tls_want;		/* EV_*: what a TLS operation
						   waits for, the other way */
	int		 tls_retry;		/* EV_*: which one waits */
	char		*tls_fbuf;		/* file window mapped for TLS */
	size_t		 tls_fmaplen;		/* its length */
	size_t		 tls_fbuf_off;		/* of it, written */
	size_t		 tls_fbuf_len;		/* of it, still to write */
	int		 proxy_hdr;		/* a PROXY v2 header is due */
	char		 cert_user[256];	/* a verified client
						   certificate's name, or "" */
	enum conn_state	 state;
	struct buf	 in;			/* bytes read, not yet used */
	struct buf	 out;			/* response bytes to write */
	struct buf	 hdrs;			/* extra headers of the response */
	struct buf	 head;			/* the request head req points into */
	struct http_request req;
	int		 keep_alive;
	size_t		 scanned;		/* bytes of in without a head end */
	int		 head_timed;		/* header deadline armed */
	int		 responded;
	int		 status;		/* of the response, for the log */
	/* request body */
	enum body_kind	 body_kind;
	enum body_sink	 body_sink;
	uint64_t	 body_left;		/* BK_LENGTH: bytes still due */
	uint64_t	 body_total;		/* bytes of payload moved */
	int		 body_done;
	struct http_chunked chunk;
	struct buf	 body;			/* SINK_MEM; SINK_PIPE staging */
	size_t		 body_mem;		/* of it, counted in the budget */
	size_t		 body_max;
	int		 body_slot;		/* counts in ac's upload bodies */
	uint64_t	 rate_ms;		/* start of the rate window */
	uint64_t	 rate_bytes;		/* body_total then */
	int		 pipe_fd;		/* SINK_PIPE, write end */
	int		 pipe_watched;
	conn_body_cb	 body_cb;
	/* response file part */
	int		 file_fd;
	off_t		 file_off;
	uint64_t	 file_left;
	int		 corked;	/* TCP_CORK while a file goes out */
	/* response streamed by a producer (the cache's upstream fetch) */
	uint64_t	 stream_left;		/* bytes not yet handed over */
	void		(*stream_more)(struct conn *, void *);
	void		*stream_arg;
	/* a request to another process waiting for its answer */
	struct link	*wait_link;
	uint32_t	 wait_id;
	struct api_req	*api;			/* the API layer's state */
	/* metrics (httpd/metrics.c): on the metrics listener; the request
	 * being counted, its start, route and file bytes to send */
	int		 metrics_port;
	int		 m_active;
	int		 m_route;
	uint64_t	 m_start_ns;
	uint64_t	 m_file;
	struct ev_timer	 timer;
	uint64_t	 progress_ms;
	struct conn	*next, **prevp;		/* list of open connections */
};

void	 conn_init_limits(void);
void	 conn_accept(int lfd, int flags);	/* LISTEN_F_* of the listener */
void	 conn_pause_accept(int paused);
void	 conn_stop_accepting(void);
int	 conn_count(void);

/* Extra response header, added before conn_respond*. */
void	 conn_header(struct conn *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Answer with an in-memory body (copied); HEAD sends the length only. */
void	 conn_respond(struct conn *, int status, const char *ctype,
	    const void *body, size_t len);
/* Answer with len bytes of fd from off (taken; closed when sent). */
void	 conn_respond_fd(struct conn *, int status, const char *ctype, int fd,
	    uint64_t off, uint64_t len);
/* Answer a HEAD-like response: Content-Length len, no body. */
void	 conn_respond_length(struct conn *, int status, const char *ctype,
	    uint64_t len);
/*
 * Answer with a body of len bytes a producer hands over as they come:
 * conn_stream_push queues some (the bytes taken, at most what fits in the
 * output bound), and more(c, arg) is called, from the loop, when the
 * queue has drained and more are welcome.  conn_stream_abort cuts the
 * connection: the promised length cannot be kept.
 */
void	 conn_respond_stream(struct conn *, int status, const char *ctype,
	    uint64_t len, void (*more)(struct conn *, void *), void *arg);
size_t	 conn_stream_push(struct conn *, const void *, size_t);
void	 conn_stream_abort(struct conn *);
/* A registry error: status and JSON body from lib/regerr.h. */
void	 conn_respond_error(struct conn *, int regerr, const char *detail);

/* Read the request body into c->body (at most max bytes), then cb. */
void	 conn_body_to_mem(struct conn *, size_t max, conn_body_cb cb);
/* Move the request body into pipe_fd (taken; closed at the end), then cb. */
void	 conn_body_to_pipe(struct conn *, int pipe_fd, conn_body_cb cb);
/* 0 if the client's address may start one more upload body, else -1. */
int	 conn_upload_slot(const struct conn *);
int	 conn_has_body(const struct conn *);

/* Remember the request in flight so it is forgotten if the client leaves. */
void	 conn_wait(struct conn *, struct link *, uint32_t id);
void	 conn_wait_done(struct conn *);

/* api.c */
void	 api_dispatch(struct conn *);
void	 api_conn_closed(struct conn *);

#endif
