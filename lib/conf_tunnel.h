/*
 * conf_tunnel.h - the tunnel's configuration values that have a shape of
 * their own: the relay's public port ranges and the client's proxies.
 * Master checks them when it reads the file; tunneld parses the same
 * canonical text it is sent, with the same code, so the two agree.
 */
#ifndef RM_CONF_TUNNEL_H
#define RM_CONF_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#define TUNNEL_RANGES_MAX	32
#define TUNNEL_PROXIES_MAX	64
#define TUNNEL_NAME_MAX		64	/* proxy, group and client names */
#define TUNNEL_HEALTH_MAX	200

struct tunnel_ports {
	size_t		 n;
	struct { uint16_t lo, hi; } r[TUNNEL_RANGES_MAX];
};

struct tunnel_proxy {
	char		 name[TUNNEL_NAME_MAX];
	char		 local[300];		/* "host:port" */
	unsigned	 remote_port;
	char		 group[TUNNEL_NAME_MAX];
	unsigned	 weight;		/* 1..1000 */
	int		 compression;
	int		 proxy_protocol;
	char		 health[TUNNEL_HEALTH_MAX];	/* none, tcp, http:/PATH */
};

/* "5000-5100, 6000": into out (may be NULL: check only); -1 with err. */
int	 tunnel_ports_parse(const char *, struct tunnel_ports *out, char *err,
	    size_t errlen);
int	 tunnel_port_allowed(const struct tunnel_ports *, unsigned port);
/* The canonical text of tunnel.client.proxies into a new array. */
int	 tunnel_proxies_parse(const char *, struct tunnel_proxy **out,
	    size_t *n, char *err, size_t errlen);
int	 tunnel_proxies_check(const char *, char *err, size_t errlen);
/* Proxy, group and client names: 1-63 of [A-Za-z0-9._-]. */
int	 tunnel_name_ok(const char *);
/* health: "none", "tcp" or "http:/PATH". */
int	 tunnel_health_ok(const char *);
/* "sha256:" and 64 hex digits (pairs may be colon-separated) into
 * out[32]; -1 if it is not that. */
int	 tunnel_fingerprint_parse(const char *, uint8_t out[32]);

#endif
