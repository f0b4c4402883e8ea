/* proc.c - names of regmaster's processes. */
#include <string.h>

#include "proc.h"

static const char *names[PROC_MAX] = {
	"master", "httpd", "storaged", "authd", "tunneld", "gcd"
};

const char *
proc_name(int id)
{
	if (id < 0 || id >= PROC_MAX)
		return "unknown";
	return names[id];
}

int
proc_lookup(const char *name)
{
	for (int i = 0; i < PROC_MAX; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
