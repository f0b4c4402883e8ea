/*
 * probe.h - the parts of a proxy's health check that touch bytes: the
 * HTTP/1.1 request of "http:/PATH" and the reader of the status line that
 * answers it (peer input: bounded, validated, never trusted further).
 */
#ifndef TUNNELD_PROBE_H
#define TUNNELD_PROBE_H

#include <stddef.h>

#include "conf_tunnel.h"

#define PROBE_LINE_MAX	512	/* a status line longer than this fails */
/* the request with the longest path and local address there may be */
#define PROBE_REQ_MAX	(TUNNEL_HEALTH_MAX + \
	sizeof(((struct tunnel_proxy *)0)->local) + 128)

/* The GET of health "http:/PATH" to host "host:port" into out; its
 * length, or 0 when health is not an HTTP check or it does not fit. */
size_t	 probe_request(const char *health, const char *host, char *out,
	    size_t outlen);
/* The status line at the start of buf: 1 with *status (100-599) once it
 * is whole, 0 while it may still come (len < PROBE_LINE_MAX), -1 when it
 * is not one ("HTTP/1.x NNN reason", CRLF or LF). */
int	 probe_status(const char *buf, size_t len, int *status);

#endif
