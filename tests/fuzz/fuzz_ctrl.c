/*
 * fuzz_ctrl.c - libFuzzer target for tunneld/ctrl.c, the tunnel's control
 * messages.  Whatever parses must hold only what the parser promises (a
 * known type, lists within TUNNEL_PROXIES_MAX, names that are names,
 * strings terminated within their fields), must format, and must parse
 * back from its own formatting into the very same structure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ctrl_msg m, back;

static void
check_fields(const struct ctrl_msg *c)
{
	if (c->type < CTRL_CHALLENGE || c->type > CTRL_HEALTH ||
	    c->n > TUNNEL_PROXIES_MAX || c->conn >= CTRL_CONN_MAX ||
	    memchr(c->version, 0, sizeof(c->version)) == NULL ||
	    memchr(c->message, 0, sizeof(c->message)) == NULL)
		abort();
	if ((c->type == CTRL_AUTH || c->type == CTRL_HEALTH) &&
	    !tunnel_name_ok(c->name))
		abort();
	for (size_t i = 0; c->type == CTRL_REGISTER && i < c->n; i++)
		if (!tunnel_name_ok(c->proxies[i].name) ||
		    !tunnel_name_ok(c->proxies[i].group) ||
		    !tunnel_health_ok(c->proxies[i].health) ||
		    c->proxies[i].remote_port < 1 ||
		    c->proxies[i].remote_port > 65535 ||
		    c->proxies[i].weight < 1 || c->proxies[i].weight > 1000)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *s;
	size_t len;

	if (ctrl_parse(data, size, &m, err, sizeof(err)) == -1)
		return 0;
	check_fields(&m);
	if ((s = ctrl_format(&m, &len)) == NULL)
		abort();
	if (ctrl_parse((const uint8_t *)s, len, &back, err, sizeof(err)) == -1 ||
	    memcmp(&m, &back, sizeof(m)) != 0)
		abort();
	free(s);
	return 0;
}
