/* msgtypes.c - the protocol tables, generated from the lists in msgtypes.h. */
#include "msg.h"

#define X_ATTR(n, k, m) [n] = { #n, k, m },
const struct msg_attr_def msg_attr_defs[A_MAX] = {
	[A_NONE] = { "A_NONE", MK_U64, 0 },
	MSG_ATTRS(X_ATTR)
};
#undef X_ATTR

#define X_REQ(a) { a, 1 },
#define X_OPT(a) { a, 0 },
#define X_MSG(n, r, ...) [n] = { #n, r, { __VA_ARGS__ } },
const struct msg_def msg_defs[M_MAX] = {
	[M_INVALID] = { "M_INVALID", 0, { { 0, 0 } } },
	MSG_TYPES(X_MSG, X_REQ, X_OPT)
};
#undef X_MSG
#undef X_REQ
#undef X_OPT

_Static_assert(A_MAX <= 64, "attribute bitmask is 64 bits");
