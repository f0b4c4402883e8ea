/*
 * relay.h - what the relay role's files share: its clients (by name, each
 * with a pool of tunnel connections), the groups (one public port each)
 * and their members (one client's proxy), and the counters the status
 * document shows.
 */
#ifndef TUNNELD_RELAY_H
#define TUNNELD_RELAY_H

#include <sys/queue.h>

#include "ctrl.h"
#include "ev.h"
#include "mux.h"
#include "swrr.h"

#define RELAY_CLIENTS_MAX	256	/* names remembered, present or not */
#define RELAY_GROUPS_MAX	256
#define RELAY_MEMBERS_MAX	64	/* per group */
#define RELAY_PENDING_MAX	256	/* connections not yet authenticated */
#define RELAY_ACCEPT_BURST	64

struct rclient;

struct rconn {
	struct mux		*mux;
	struct rclient		*client;	/* once authenticated */
	uint8_t			 nonce[CTRL_NONCE];
	unsigned		 index;		/* the client's pool slot */
	struct ev_timer		 auth_timer;
	LIST_ENTRY(rconn)	 entry;		/* in its client */
};

struct rclient {
	char			 name[TUNNEL_NAME_MAX];
	char			 version[CTRL_VERSION_MAX];
	char			 address[64];
	uint64_t		 since_ms;	/* present since */
	uint64_t		 last_seen_ms;
	unsigned		 nconns;
	uint64_t		 reconnects;
	uint32_t		 slots_seen;	/* pool slots ever connected */
	uint64_t		 bytes_in, bytes_out;	/* of closed conns */
	LIST_HEAD(, rconn)	 conns;
};

struct rmember {
	struct rgroup		*group;
	struct rclient		*client;	/* NULL once gone */
	char			 proxy[TUNNEL_NAME_MAX];
	unsigned		 weight;
	int			 healthy;
	int			 compression;
	uint64_t		 streams, visitors;
};

struct rgroup {
	char			 name[TUNNEL_NAME_MAX];
	unsigned		 port;
	int			 lfd;		/* -1 until master bound it */
	uint64_t		 visitors;
	size_t			 n;
	struct rmember		*m[RELAY_MEMBERS_MAX];
	struct swrr_item	 w[RELAY_MEMBERS_MAX];
};

extern struct rclient *relay_clients[RELAY_CLIENTS_MAX];
extern struct rgroup *relay_groups[RELAY_GROUPS_MAX];
extern uint64_t relay_started_ms, relay_visitors_total;
extern uint64_t relay_bytes_in, relay_bytes_out;	/* of closed conns */

/* relay_visitors.c: a visitor from ss counted, or NULL (said, counted in
 * relay_visitors_refused) when its address has visitors_per_address open
 * already; visitors_leave when its stream ends. */
struct vaddr;
struct sockaddr_storage;
extern uint64_t relay_visitors_refused;
struct vaddr *visitors_admit(const struct sockaddr_storage *);
void	 visitors_leave(struct vaddr *);

/* relay_reg.c */
struct rclient *reg_client(const char *name);
void	 reg_register(struct rconn *, const struct ctrl_msg *);
void	 reg_health(struct rconn *, const struct ctrl_msg *);
void	 reg_client_left(struct rclient *);
void	 reg_stream_end(struct mstream *);

#endif
