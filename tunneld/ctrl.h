/*
 * ctrl.h - the control messages of a tunnel connection (TF_CTRL frames):
 * small JSON objects, parsed strictly into fixed, bounded structures and
 * formatted from them, so that neither role handles JSON itself.
 *
 *   relay  -> client  {"type":"challenge","nonce":HEX64,"version":V}
 *   client -> relay   {"type":"auth","mac":HEX64,"name":N,"version":V,
 *                      "conn":I}
 *   either way        {"type":"error","message":TEXT}
 *   client -> relay   {"type":"register","proxies":[{"name","group",
 *                      "remote_port","weight","compression",
 *                      "proxy_protocol","health"}...]}
 *   relay  -> client  {"type":"registered","results":[{"name","ok",
 *                      "error"}...]}
 *   client -> relay   {"type":"health","proxy":N,"healthy":BOOL}
 *
 * Every key of a type is required except "error" of a result that is ok;
 * unknown keys, wrong types, names that are not tunnel names and values
 * out of range are refused.
 */
#ifndef TUNNELD_CTRL_H
#define TUNNELD_CTRL_H

#include <stddef.h>
#include <stdint.h>

#include "conf_tunnel.h"

#define CTRL_VERSION_MAX	32
#define CTRL_TEXT_MAX		256
#define CTRL_NONCE		32
#define CTRL_MAC		32
#define CTRL_CONN_MAX		16	/* tunnel.client.pool's maximum */

enum ctrl_type {
	CTRL_CHALLENGE = 1, CTRL_AUTH, CTRL_ERROR, CTRL_REGISTER,
	CTRL_REGISTERED, CTRL_HEALTH
};

struct ctrl_proxy {
	char		 name[TUNNEL_NAME_MAX];
	char		 group[TUNNEL_NAME_MAX];
	unsigned	 remote_port;		/* 1..65535 */
	unsigned	 weight;		/* 1..1000 */
	int		 compression, proxy_protocol;
	char		 health[TUNNEL_HEALTH_MAX];
};

struct ctrl_result {
	char		 name[TUNNEL_NAME_MAX];
	int		 ok;
	char		 error[CTRL_TEXT_MAX];
};

struct ctrl_msg {
	enum ctrl_type	 type;
	char		 version[CTRL_VERSION_MAX];	/* challenge, auth */
	uint8_t		 nonce[CTRL_NONCE];		/* challenge */
	uint8_t		 mac[CTRL_MAC];			/* auth */
	char		 name[TUNNEL_NAME_MAX];		/* auth; health: proxy */
	unsigned	 conn;				/* auth */
	char		 message[CTRL_TEXT_MAX];	/* error */
	int		 healthy;			/* health */
	size_t		 n;			/* proxies or results */
	struct ctrl_proxy  proxies[TUNNEL_PROXIES_MAX];
	struct ctrl_result results[TUNNEL_PROXIES_MAX];
};

/* Parse one message of len bytes into m; -1 with the reason in err. */
int	 ctrl_parse(const uint8_t *, size_t len, struct ctrl_msg *m,
	    char *err, size_t errlen);
/* m as JSON (malloc'd, *len bytes, at most TF_CTRL_MAX); NULL if m holds
 * something ctrl_parse would refuse. */
char	*ctrl_format(const struct ctrl_msg *m, size_t *len);
const char *ctrl_type_name(enum ctrl_type);

#endif
