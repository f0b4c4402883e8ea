/* client.h - what the client role's files share. */
#ifndef TUNNELD_CLIENT_H
#define TUNNELD_CLIENT_H

#include "conf_tunnel.h"
#include "ev.h"
#include "mux.h"
#include "resolve.h"

#define CLIENT_POOL_MAX		16
#define CLIENT_BACKOFF_MIN_MS	500
#define CLIENT_BACKOFF_MAX_MS	30000
#define CLIENT_DIAL_MS		10000	/* TCP connect, at most */

enum cstate { CS_IDLE, CS_RESOLVING, CS_DIALLING, CS_TUNNEL, CS_UP };

struct cconn {
	unsigned	 index;
	enum cstate	 state;
	int		 fd;		/* while dialling */
	struct resolve	*lookup;	/* while resolving the relay */
	struct mux	*mux;
	unsigned	 backoff_ms;
	struct ev_timer	 timer;		/* redial, or the dial's deadline */
	uint64_t	 up_ms;
	unsigned	 tries;		/* picks the relay's address */
	int		 registered;	/* register sent: health may follow */
};

/* A visitor's stream, as the client knows it. */
struct cstream {
	const struct tunnel_proxy *proxy;
	char		 visitor[64];	/* "address:port" on the relay */
};

/* client_local.c: dialling the local service per stream */
void	 local_open(struct mux *, uint32_t id, const uint8_t *, size_t);
void	 client_local_connected(struct mux *, struct mstream *);
void	 local_stream_end(struct mux *, struct mstream *);
const struct tunnel_proxy *client_proxy(const char *name);

/* client_addr.c: the local services' addresses, looked up off the loop;
 * local_dial is a nonblocking connect to the last known one: the socket,
 * or -1 with errno (EHOSTUNREACH while none is known). */
void	 local_addrs_start(const struct tunnel_proxy *, size_t);
void	 local_addrs_stop(void);
int	 local_dial(const struct tunnel_proxy *);

/* client_health.c: the proxies' health checks; changed is called on each
 * change of a proxy's health */
void	 health_start(const struct tunnel_proxy *, size_t,
	    void (*changed)(const char *proxy, int healthy));
void	 health_stop(void);
int	 health_of(const char *proxy);

#endif
