/* regerr.c - lookups in the error table of regerr.h. */
#include "regerr.h"

struct regerr_def {
	const char	*code;
	int		 status;
	const char	*message;
};

#define X_RE(id, code, status, msg) [id] = { code, status, msg },
static const struct regerr_def defs[RE_MAX] = {
	[RE_NONE] = { "UNKNOWN", 500, "internal error" },
	REG_ERRORS(X_RE)
};
#undef X_RE

static const struct regerr_def *
regerr_def(int e)
{
	return (e > RE_NONE && e < RE_MAX) ? &defs[e] : &defs[RE_INTERNAL];
}

const char *
regerr_code(int e)
{
	return regerr_def(e)->code;
}

int
regerr_status(int e)
{
	return regerr_def(e)->status;
}

const char *
regerr_message(int e)
{
	return regerr_def(e)->message;
}
