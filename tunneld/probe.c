/*
 * probe.c - an HTTP health check's request and the status line of its
 * answer.  Only the status line is read: the body and headers of a local
 * service say nothing the status does not, and reading less bounds what a
 * misbehaving service can make us hold.
 */
#include <stdio.h>
#include <string.h>

#include "probe.h"

size_t
probe_request(const char *health, const char *host, char *out,
    size_t outlen)
{
	int n;

	if (strncmp(health, "http:/", 6) != 0 || !tunnel_health_ok(health))
		return 0;
	n = snprintf(out, outlen, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: regmaster-tunnel-health\r\nConnection: close\r\n\r\n",
	    health + 5, host);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}

int
probe_status(const char *buf, size_t len, int *status)
{
	const char *eol = memchr(buf, '\n', len < PROBE_LINE_MAX ? len :
	    PROBE_LINE_MAX);
	size_t n;

	/* what has come so far must already look like a status line */
	n = len < 9 ? len : 9;
	if (memcmp(buf, "HTTP/1.", n < 7 ? n : 7) != 0 ||
	    (n >= 8 && buf[7] != '0' && buf[7] != '1') ||
	    (n == 9 && buf[8] != ' '))
		return -1;
	if (eol == NULL)
		return len < PROBE_LINE_MAX ? 0 : -1;
	n = (size_t)(eol - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n < 12 || (n > 12 && buf[12] != ' '))
		return -1;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';
	for (size_t i = 13; i < n; i++)
		if ((unsigned char)buf[i] < ' ' && buf[i] != '\t')
			return -1;
	return *status >= 100 && *status <= 599 ? 1 : -1;
}
